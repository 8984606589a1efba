/** What the SEV domain shows in the editor: the vTOM split of an SEV-SNP guest's RAM (RULES §6.1). */
import type { IdeParts } from '../../../ide/analysis';
import type { GuestBar } from '../../../ide/contribution';
import { hex, type Guest, type Interval } from '../../../model';
import { SEV_KEYWORDS } from './keywords';
import { describeVtomSplit, vtomSplit } from '../sim/joinRules';

export const SEV_IDE: IdeParts = {
  keywords: SEV_KEYWORDS,
  ramNote: (g, range) => describeVtomSplit(range, g),
  addressNote: vtomSide,
  guestBars: vtomBars,
};

/** Which side of vTOM an address of an SEV-SNP guest is on. */
function vtomSide(g: Guest, v: bigint): string | undefined {
  if (g.confidential?.technology !== 'sev-snp') return undefined;
  const vtom = g.confidential.vtom;
  const s = vtomSplit({ start: v, end: v }, vtom);
  const at = vtom === undefined ? 'vTOM at its maximum' : `vTOM \`${hex(vtom)}\``;
  return s.private ? `private (below ${at})` : `shared (at or above ${at})`;
}

/** SEV-SNP: each RAM range's private part (below vTOM) and shared part (at or above). */
function vtomBars(g: Guest, ram: readonly Interval[]): GuestBar[] {
  const c = g.confidential;
  if (c?.technology !== 'sev-snp') return [];
  const source = { uri: g.sym.uri, span: c.stmt.span };
  const at = c.vtom === undefined ? 'vTOM at its maximum' : `vTOM ${hex(c.vtom)}`;
  const out: GuestBar[] = [];
  for (const r of ram) {
    const s = vtomSplit(r, c.vtom);
    if (s.private) out.push({ range: s.private, kind: 'private', label: `private (below ${at})`, source });
    if (s.shared) out.push({ range: s.shared, kind: 'shared', label: `shared (from ${at})`, source });
  }
  return out;
}

/**
 * Hovers for Xen: a domain's IOMMU map in the terms of seed 003 (identity MFN map,
 * identity GFN map, host map, guest map; maintained or not; who drives it), dom0's boot
 * map with what Xen left out, the RMRR identity mappings and their references, and what
 * a `balloon` / `free` step left behind.
 */
import { atLeast, formatInterval, formatSize, intervalSize, XEN, type Sym } from '../../../model';
import type { Xen, XenDomain } from '../model/types';
import { someOf } from '../../../sim';
import { describeMap, type DomainMap } from '../sim/domainMaps';
import type { P2mChange } from '../sim/xen';
import type { Analysis } from '../../../ide/analysis';
import { capped, codeBlock } from '../../../ide/markdown';
import { inside } from '../../../ide/positions';
import { resultOf } from '../../../sim';
import { XEN_ENGINE } from '../engine';

const LIMIT = 12;

function mapOf(a: Analysis, d: XenDomain): DomainMap | undefined {
  return resultOf(a.sim, XEN_ENGINE).runs.get(d.xen)?.maps.get(d);
}

/** Hover on a `dom0` / `domain` name or a reference to it. */
export function domainHover(a: Analysis, sym: Sym): string | undefined {
  const x = sym.container ? a.model.xens.get(sym.container) : undefined;
  const d = x?.domains.get(sym.name);
  const m = d && d.sym === sym ? mapOf(a, d) : undefined;
  if (!d || !m) return undefined;
  const out = [
    `**${d.isDom0 ? `dom0 of ${x!.sym.name}` : `domain ${d.sym.name}`}** ` +
      `(${m.mode.toUpperCase()}${d.mode ? '' : ', the default'})${x!.platform ? ` on ${x!.platform.sym.name}` : ''}`,
    '',
  ];
  out.push(`IOMMU map: ${describeMap(m)}.`);
  out.push(
    '',
    `In seed 003's terms: **${m.term}**` +
      `${
        m.term.startsWith('no ')
          ? ''
          : `, ${m.maintained ? 'maintained by Xen' : 'not maintained'}, ${
              m.drivenByDomain
                ? `driven by the domain (${d.iommuMap === 'virtual-vtd' ? 'virtual VT-d' : 'PV-IOMMU'})`
                : 'changed by Xen only'
            }`
      }.`,
  );
  if (m.boot) {
    const mapped = m.boot.mapped.ranges();
    out.push(
      '',
      `${m.strict ? "Identity-mapped at boot besides dom0's own pages" : 'Identity-mapped at boot'}` +
        ` (arch_iommu_hwdom_init, ${formatSize(m.boot.mapped.size())}):`,
      codeBlock(capped(mapped.map(formatInterval), LIMIT)),
    );
    if (m.boot.leftOut.length) {
      out.push(
        '',
        'Left out:',
        ...m.boot.leftOut
          .slice(0, LIMIT)
          .map(
            (l) =>
              `- \`${formatInterval(l.range)}\`: ${l.why}` +
              `${l.at ? ` (line ${a.lineIndex(l.at.uri).position(l.at.span.start).line + 1})` : ''}`,
          ),
      );
    }
  }
  if (m.devices.length)
    out.push(
      '',
      `Devices: ${someOf(
        m.devices.map((x) => x.sym.name),
        LIMIT * 2,
      )}.`,
    );
  const ids = m.identity.entries();
  if (ids.length) {
    out.push(
      '',
      'RMRR identity mappings (reference counted):',
      ...ids
        .slice(0, LIMIT)
        .map(
          (e) =>
            `- \`${formatInterval(e.range)}\` ${e.access}, ${e.holders.length} ` +
            `reference${e.holders.length > 1 ? 's' : ''}: ${e.holders.map((h) => h.sym.name).join(', ')}`,
        ),
    );
  }
  if (!d.isDom0 && m.devices.length) out.push('', deassignment(d, m));
  return out.join('\n');
}

/** What `deassign_device()` (xen/drivers/passthrough/pci.c) does with the domain's devices under the global quarantine option. */
function deassignment(d: XenDomain, m: DomainMap): string {
  const release = d.xen.release;
  const scratch = 'its in-flight DMA lands on a scratch page and goes unnoticed';
  const what = !atLeast(release, XEN.quarantine.release)
    ? `goes straight back to dom0 (no quarantine before Xen ${XEN.quarantine.release})`
    : m.quarantine === 'off'
      ? 'goes straight back to dom0 (`quarantine off`)'
      : !atLeast(release, XEN.quarantineBasic.release)
        ? `is parked in dom_io with a scratch page (Xen ${XEN.quarantine.release} to 4.15): ${scratch}`
        : m.quarantine === 'basic'
          ? 'is parked in dom_io without mappings (`quarantine basic`): its in-flight DMA faults'
          : `is parked in dom_io (\`quarantine scratch-page\`): ${scratch}`;
  return (
    `When a device leaves ${d.sym.name} (the domain is destroyed, or \`xl pci-detach\`), ` +
    `it ${what}. Quarantine changes nothing while the device is assigned.`
  );
}

/** Hover on a `xen` name: one line per domain. */
export function xenHover(a: Analysis, x: Xen): string {
  const out = [`**Xen host ${x.sym.name}**${x.platform ? ` on ${x.platform.sym.name}` : ''}`, ''];
  for (const d of x.domains.values()) {
    const m = mapOf(a, d);
    if (m)
      out.push(
        `- ${d.isDom0 ? 'dom0' : d.sym.name} (${m.mode.toUpperCase()}): ${m.term}` +
          `${m.term.startsWith('no ') ? '' : m.maintained ? ', maintained' : ', not maintained'}` +
          `${m.drivenByDomain ? ', driven by the domain' : ''}`,
      );
  }
  return out.join('\n');
}

/** The `balloon` / `free` step on a Xen domain under the cursor. */
export function p2mAt(a: Analysis, uri: string, offset: number): P2mChange | undefined {
  for (const c of resultOf(a.sim, XEN_ENGINE).p2m.values()) {
    if (c.step.uri === uri && inside(c.step.step.span, offset)) return c;
  }
  return undefined;
}

export function p2mHover(c: P2mChange): string {
  const d = c.map.domain;
  const total = c.released.reduce((n, r) => n + intervalSize(r), 0n);
  const out = [
    `**${c.step.step.kind} on ${d.isDom0 ? `dom0 of ${d.xen.sym.name}` : `domain ${d.sym.name}`}**: gives back ${formatSize(total)}`,
  ];
  if (c.released.length) out.push(codeBlock(c.released.slice(0, LIMIT).map(formatInterval)));
  out.push('', `The domain has ${describeMap(c.map)}.`);
  if (c.stale.length)
    out.push('', `**Stale afterwards** (BFN still mapping the old frames):`, codeBlock(c.stale.slice(0, LIMIT).map(formatInterval)));
  else
    out.push(
      '',
      c.map.maintained
        ? 'Xen removes the IOMMU entries together with the P2M entries: nothing stays mapped.'
        : 'No IOMMU map covers these pages.',
    );
  return out.join('\n');
}

/** The Xen host whose `xen RELEASE` statement holds the offset (its hover: versionHover.ts's). */
export function xenReleaseAt(a: Analysis, uri: string, offset: number): { xen: Xen; span: { start: number; end: number } } | undefined {
  for (const x of a.model.xens.values()) {
    if (x.sym.uri !== uri) continue;
    const stmt = x.decl.items.find((i) => i.kind === 'xen-version' && inside(i.span, offset));
    if (stmt) return { xen: x, span: stmt.span };
  }
  return undefined;
}

/** An address hover's lines for the Xen domains whose RAM holds `v`. */
export function domainRamLines(a: Analysis, v: bigint): string[] {
  const out: string[] = [];
  for (const x of a.model.xens.values()) {
    for (const d of x.domains.values()) {
      for (const r of d.ram) {
        if (r.range && r.range.start <= v && v <= r.range.end)
          out.push(
            `- ${d.isDom0 ? `dom0 of ${x.sym.name}` : `Xen domain **${d.sym.name}**`}: RAM ${r.sym.name} \`${formatInterval(r.range)}\``,
          );
      }
    }
  }
  return out;
}

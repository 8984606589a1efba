/**
 * Hover on a release statement (`kernel 6.6`): which of the behaviours that changed between
 * releases (model/versions.ts) this description gets, each with its source.
 */
import { hasChange, releaseName, versionChanges, type Component, type Platform, type Release } from '../model';
import type { Analysis } from './analysis';
import { inside } from './positions';

/** The platform whose `kernel` statement holds the offset. */
export function kernelAt(
  a: Analysis,
  uri: string,
  offset: number,
): { platform: Platform; span: { start: number; end: number } } | undefined {
  for (const p of a.model.platforms.values()) {
    if (p.sym.uri !== uri) continue;
    const stmt = p.decl.items.find((i) => i.kind === 'kernel' && inside(i.span, offset));
    if (stmt) return { platform: p, span: stmt.span };
  }
  return undefined;
}

/** What a release implies: one line per release boundary the engines check, newest behaviour or older. */
export function releaseHover(component: Component, r: Release | undefined, subject: string): string {
  const out = [r ? `**${releaseName(component, r)}** on ${subject}` : `**${subject}**: no release given, so the newest behaviour applies`];
  const rows = versionChanges(component);
  if (!rows.length) return out.join('\n');
  out.push('', 'Behaviour that changed between releases:');
  for (const row of rows) {
    const has = hasChange(r, row);
    out.push(
      `- ${releaseName(component, row.release)} (${has ? 'applies here' : 'not on this release'}): ${row.change}. Source: ${row.source}`,
    );
  }
  return out.join('\n');
}

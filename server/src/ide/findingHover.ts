/**
 * Hover on a finding's span: not its message (the editor shows the diagnostic already)
 * but what led to it: its related locations as a short "why" list with their lines, and
 * the simulated trace (one order of notify functions) when it has one.
 */
import type { Finding } from '../model';
import type { Analysis } from './analysis';
import { where } from './hoverParts';
import { inside } from './positions';

const LIMIT = 8;

/** The findings whose span holds the offset and that have something to add; undefined if none. */
export function findingsAt(a: Analysis, uri: string, offset: number): Finding[] {
  return (a.findings.get(uri) ?? []).filter((f) => (f.trace || f.related.length) && inside(f.span, offset));
}

export function findingHover(a: Analysis, uri: string, f: Finding): string {
  const out: string[] = [];
  if (f.trace) {
    out.push(`**\`${f.code}\`: one order in which it happens**`, '', ...f.trace.map((t) => `${t.message} (${where(a, t, uri)})`));
  } else {
    out.push(`**\`${f.code}\`**: why`);
  }
  if (f.related.length) {
    const why = f.related.slice(0, LIMIT).map((r) => `- ${where(a, r, uri)}: ${r.message}`);
    if (f.related.length > LIMIT) why.push(`- ... ${f.related.length - LIMIT} more`);
    out.push('', ...(f.trace ? ['Related:'] : []), ...why);
  }
  return out.join('\n');
}

/**
 * Hover on a finding's span: not its message (the editor shows the diagnostic already)
 * but what led to it: its related locations as a short "why" list with their lines, the
 * simulated trace (one order of notify functions) when it has one, and the upstream
 * sources its rule follows, with the releases where they matter (RULES §0.3).
 */
import { codeInfo, type CodeSource, type Finding } from '../model/findings';
import type { Analysis } from './analysis';
import { where } from './hoverParts';
import { inside } from './positions';

const LIMIT = 8;

/** The findings whose span holds the offset and that have something to add; undefined if none. */
export function findingsAt(a: Analysis, uri: string, offset: number): Finding[] {
  return (a.findings.get(uri) ?? []).filter((f) => (f.trace || f.related.length || sourcesOf(f).length) && inside(f.span, offset));
}

function sourcesOf(f: Finding): readonly CodeSource[] {
  return codeInfo(f.code)?.sources ?? [];
}

/** `Source: Linux drivers/..., fn (since Linux 6.6 ...)`, one line each. */
function sourceLines(sources: readonly CodeSource[]): string[] {
  return sources.map((s) => `- ${s.where}${s.versions ? ` (${s.versions})` : ''}`);
}

export function findingHover(a: Analysis, uri: string, f: Finding): string {
  const out: string[] = [];
  if (f.trace) {
    out.push(`**\`${f.code}\`: one order in which it happens**`, '', ...f.trace.map((t) => `${t.message} (${where(a, t, uri)})`));
  } else {
    out.push(`**\`${f.code}\`**${f.related.length ? ': why' : ''}`);
  }
  if (f.related.length) {
    const why = f.related.slice(0, LIMIT).map((r) => `- ${where(a, r, uri)}: ${r.message}`);
    if (f.related.length > LIMIT) why.push(`- ... ${f.related.length - LIMIT} more`);
    out.push('', ...(f.trace ? ['Related:'] : []), ...why);
  }
  const sources = sourcesOf(f);
  if (sources.length) out.push('', 'Source:', ...sourceLines(sources));
  return out.join('\n');
}

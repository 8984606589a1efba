/** Markdown pieces hovers share. */

/** A fenced text block; `(empty)` for no lines, so an empty list still shows. */
export function codeBlock(lines: readonly string[]): string {
  return ['```text', ...(lines.length ? lines : ['(empty)']), '```'].join('\n');
}

/** The first `n` lines of a long list, then `... K more`. */
export function capped(lines: readonly string[], n: number): string[] {
  return lines.length > n ? [...lines.slice(0, n), `... ${lines.length - n} more`] : [...lines];
}

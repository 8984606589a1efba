/** Markdown pieces hovers share. */

/** A fenced text block; `(empty)` for no lines, so an empty list still shows. */
export function codeBlock(lines: readonly string[]): string {
  return ['```text', ...(lines.length ? lines : ['(empty)']), '```'].join('\n');
}

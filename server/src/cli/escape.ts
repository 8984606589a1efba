/**
 * Text from outside (file names, file contents) shown in a message or written into a
 * generated description. Escaped, it stays on one line and shows what it is: no control
 * character can end a `//` comment or move the terminal's cursor, and no bidirectional
 * override can make it read differently from what it is.
 */

/** Control characters, line and paragraph separators, format characters (bidi, zero-width) and lone surrogates. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `s` with every unsafe character as `\n`, `\r`, `\t`, `\xNN` or `\u{NNNN}`; everything else as is
 * (a backslash too: Windows paths stay readable, at the cost of `\n` being ambiguous).
 */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Characters of an excerpt before it is cut. */
export const EXCERPT_LENGTH = 60;

/**
 * At most the first `max` characters of `s`, escaped, with the length when it was cut:
 * enough to find the line, never a copy of a long one (a line of a file that is not what
 * was expected may be anything: an environment, a key).
 */
export function excerpt(s: string, max = EXCERPT_LENGTH): string {
  let end = 0;
  for (let n = 0; end < s.length && n < max; n++) end += s.codePointAt(end)! > 0xffff ? 2 : 1;
  return end >= s.length ? escapeText(s) : `${escapeText(s.slice(0, end))}... (${s.length} characters)`;
}

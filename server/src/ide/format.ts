/**
 * The formatter: text edits that give a `.iommu` file its canonical layout. It changes
 * only whitespace between tokens and comments (never a token, never a comment's text),
 * so the tokens read back are the same; the rules:
 *
 * - Indentation: the block depth, `tabSize` spaces per level (2 by default) or one tab
 *   when `insertSpaces` is false. Alignment padding is always spaces.
 * - One space between the items of a line; none before `,` and `;`, none around `..` and
 *   `.` (`0x0..0xfff`, `epyc-b.nic0`), none inside an empty `{}`.
 * - A block that spans lines has its `{` at the end of the declaration's line (one space
 *   before it) and its `}` alone at the start of a line, at the parent's depth. A block
 *   written on one line stays on one line (`device d { bdf 00:01.0; group 3 }`), and so do
 *   statements separated by `;`. A `{` on the line after its declaration moves up unless a
 *   comment is between them.
 * - No trailing whitespace (a `//` comment loses its own). At most one blank line in a
 *   row, none at the start of a block, before a `}`, or at the start or end of the file.
 *   Exactly one line break at the end of the file, in the file's style (LF, CRLF or CR:
 *   that of its first line break, which every other break outside comments then takes).
 * - Comments stay where they are: a trailing comment one space after the code, an own-line
 *   comment at the depth of the statement it precedes, a multi-line block comment byte for
 *   byte (only its first line may be re-indented).
 * - Alignment, like gofmt's: a *run* is a sequence of consecutive lines of one block with
 *   the same first word, no blank line between them, each a plain statement (no `;`, no
 *   block comment, no brace but one block written on the line at its end; a trailing
 *   `//` comment allowed). A *cell* is a group of tokens written without a space between
 *   them (`0x0..0xfff`, `a,`); such a block is one last cell. In a run, every
 *   cell but a line's last is padded to the widest cell of its column among the lines
 *   where that cell is not the last either, for the columns left of the first one where
 *   two lines take different forms (different keywords, enumerated values aside:
 *   `on exit-boot-services ...` and `on event ...`). So `reserved NAME TYPE RANGE` lines
 *   align NAME, TYPE and RANGE; `device NAME { ... }` lines align their `{`; of
 *   `assign nic0 as private` and `assign gpu0`, only the first pads.
 *   Trailing `//` comments of consecutive lines of one depth start in one column, one
 *   space after the longest code among them.
 *
 * Safety: a file with a lexer error or a syntax diagnostic gets no edits; a range gets
 * none if an error is inside the lines it formats, and none when the file has an
 * unterminated comment or nesting past the lexer's limit. A gap that is not all whitespace
 * (an invalid character) is never touched. Formatting formatted text gives no edits.
 * Everything is one pass over the tokens, linear in the text.
 */
import { lex, parse, type SourceFile, type Span } from '@iommu-lens/grammar';
import { isSpace, structure, type Structure } from './formatLines';
import { separators } from './formatColumns';
import { partitionPoint } from '../model/search';

export interface FormatOptions {
  tabSize?: number;
  insertSpaces?: boolean;
}

/**
 * A replacement in the original text (offsets into it; edits never overlap). Named apart
 * from navigation's `TextEdit`, which carries a uri.
 */
export interface FormatEdit {
  span: Span;
  newText: string;
}

/** Past this many diagnostics the parser summarises the rest, so errors may go unseen. */
const TRUSTED_DIAGNOSTICS = 200;

/**
 * Edits formatting the whole document; none if it has any error. `parsed` is this exact
 * text's parse when the caller has one (the analysis host caches it), saving a parse.
 */
export function formatDocument(text: string, options: FormatOptions = {}, parsed?: SourceFile): FormatEdit[] {
  const p = prepare(text, parsed);
  if (!p || p.errors.length) return [];
  return edits(text, p.structure, options);
}

/**
 * Edits formatting the lines `span` touches, extended to whole statements (a `{` alone
 * on its line takes its declaration's line with it, a multi-line block comment all its
 * lines); nothing outside them changes.
 */
export function formatRange(text: string, span: Span, options: FormatOptions = {}, parsed?: SourceFile): FormatEdit[] {
  const p = prepare(text, parsed);
  if (!p) return [];
  const ext = extend(text, p.structure, span);
  const inside = (s: Span) => s.start < ext.end && (s.end > ext.start || s.start >= ext.start);
  if (p.errors.some(inside)) return [];
  return edits(text, p.structure, options).filter(
    (e) => e.span.start >= ext.start && e.span.end <= ext.end && (e.span.start < ext.end || ext.end === text.length),
  );
}

interface Prepared {
  structure: Structure;
  errors: Span[];
}

/** Lexes and checks the text; undefined when no part of it may be formatted. */
function prepare(text: string, parsed: SourceFile | undefined): Prepared | undefined {
  const lexed = lex(text);
  // An unterminated comment or braces the lexer dropped leave the structure unknown.
  if (lexed.errors.some((e) => e.code !== 'invalid-character')) return undefined;
  // A stub parse (no declarations, no diagnostics) may be a file too large to parse.
  const usable = parsed && parsed.length === text.length && (parsed.decls.length > 0 || parsed.diagnostics.length > 0);
  const diagnostics = (usable ? parsed : parse(text)).diagnostics;
  if (diagnostics.length >= TRUSTED_DIAGNOSTICS) return undefined;
  const errors = [...lexed.errors.map((e) => ({ start: e.offset, end: e.offset + e.length })), ...diagnostics.map((d) => d.span)];
  return { structure: structure(text, lexed.tokens, lexed.comments), errors };
}

function edits(text: string, s: Structure, options: FormatOptions): FormatEdit[] {
  const out: FormatEdit[] = [];
  const { items, lines } = s;
  const sep = separators(items, lines);
  const eol = lineEnding(text);
  const unit = options.insertSpaces === false ? '\t' : ' '.repeat(validTabSize(options.tabSize));
  const replace = (start: number, end: number, newText: string) => minimalEdit(text, start, end, newText, out);
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  for (const [k, l] of lines.entries()) {
    const firstItem = items[l.first]!;
    const indent = unit.repeat(l.depth);
    if (k === 0) gap(text, bom, firstItem.start, 0, indent, eol, replace);
    else gap(text, items[l.first - 1]!.end, firstItem.start, l.blankBefore ? 2 : 1, indent, eol, replace);
    for (let i = l.first + 1; i < l.end; i++) {
      const a = items[i - 1]!;
      if (whitespace(text, a.end, items[i]!.start)) replace(a.end, items[i]!.start, sep[i]!);
    }
    const last = items[l.end - 1]!;
    if (last.kind === 'line-comment') {
      let e = last.end;
      while (e > last.start + 2 && isSpace(text.charCodeAt(e - 1))) e--;
      replace(e, last.end, '');
    }
  }
  const lastItem = items[items.length - 1];
  if (lastItem) gap(text, lastItem.end, text.length, 1, '', eol, replace);
  else replace(bom, text.length, '');
  return out;
}

/**
 * The whitespace between two items on different lines: the first line's trailing
 * whitespace goes, `keep` line breaks stay (normalised; kept blank lines emptied), the
 * blank lines past them go, and the next line gets `indent`. One edit per part and per
 * dropped line, so a range takes the parts on its own lines only.
 */
function gap(
  text: string,
  from: number,
  to: number,
  keep: number,
  indent: string,
  eol: string,
  replace: (start: number, end: number, newText: string) => void,
): void {
  if (!whitespace(text, from, to)) return;
  const breaks: Span[] = [];
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c === 0x0a) breaks.push({ start: k, end: k + 1 });
    else if (c === 0x0d) {
      const end = text.charCodeAt(k + 1) === 0x0a ? k + 2 : k + 1;
      breaks.push({ start: k, end });
      k = end - 1;
    }
  }
  const lastBreak = breaks[breaks.length - 1];
  if (!lastBreak) {
    replace(from, to, eol.repeat(keep) + indent);
    return;
  }
  if (keep === 0) replace(from, lastBreak.end, '');
  else {
    // The line break ending the first line and the last `keep - 1` (blank lines) stay;
    // the blank lines between go one by one, so a range can take those it covers.
    replace(from, breaks[0]!.start, '');
    replace(breaks[0]!.start, breaks[0]!.end, eol);
    const dropped = breaks.length - Math.min(keep, breaks.length);
    for (let j = 1; j < breaks.length; j++) {
      if (j <= dropped) replace(breaks[j - 1]!.end, breaks[j]!.end, '');
      else {
        replace(breaks[j - 1]!.end, breaks[j]!.start, '');
        replace(breaks[j]!.start, breaks[j]!.end, eol);
      }
    }
  }
  replace(lastBreak.end, to, indent);
}

/** Pushes the replacement of `text[start, end)` by `newText`, without their common ends. */
function minimalEdit(text: string, start: number, end: number, newText: string, out: FormatEdit[]): void {
  let a = 0;
  const n = Math.min(end - start, newText.length);
  while (a < n && text.charCodeAt(start + a) === newText.charCodeAt(a)) a++;
  let b = 0;
  while (b < n - a && text.charCodeAt(end - 1 - b) === newText.charCodeAt(newText.length - 1 - b)) b++;
  if (start + a === end - b && a === newText.length - b) return;
  const edit = { span: { start: start + a, end: end - b }, newText: newText.slice(a, newText.length - b) };
  // An edit that starts where the previous one ends joins it: two edits at one offset
  // are applied in order by LSP, but not by every client (or test helper).
  const prev = out[out.length - 1];
  if (prev && prev.span.end === edit.span.start) {
    prev.span.end = edit.span.end;
    prev.newText += edit.newText;
  } else {
    out.push(edit);
  }
}

function whitespace(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (!isSpace(text.charCodeAt(k))) return false;
  return true;
}

function lineEnding(text: string): string {
  const k = text.search(/[\r\n]/);
  if (k < 0 || text[k] === '\n') return '\n';
  return text[k + 1] === '\n' ? '\r\n' : '\r';
}

function validTabSize(n: number | undefined): number {
  return n !== undefined && Number.isInteger(n) && n > 0 ? Math.min(n, 16) : 2;
}

/** `span` grown to whole source lines, then to the whole statements on them. */
function extend(text: string, s: Structure, span: Span): Span {
  const start = Math.max(0, Math.min(span.start, text.length));
  let end = Math.max(start, Math.min(span.end, text.length));
  // A selection ending at the start of a line does not take that line.
  if (end > start && isLineStart(text, end)) end--;
  let lo = lineStart(text, start);
  let hi = lineEnd(text, end);
  const { items, group } = s;
  const first = firstEndingAfter(items, lo);
  let last = first;
  while (last < items.length && items[last]!.start < hi) last++;
  if (first < last) {
    let g0 = first;
    while (g0 > 0 && group[g0 - 1] === group[first]) g0--;
    let g1 = last - 1;
    while (g1 + 1 < items.length && group[g1 + 1] === group[last - 1]) g1++;
    lo = Math.min(lo, lineStart(text, items[g0]!.start));
    hi = Math.max(hi, lineEnd(text, items[g1]!.end));
  }
  return { start: lo, end: hi };
}

/** The first item ending after `offset` (binary search; items are in order). */
function firstEndingAfter(items: Structure['items'], offset: number): number {
  return partitionPoint(items.length, (i) => items[i]!.end <= offset);
}

function isLineStart(text: string, offset: number): boolean {
  const c = text.charCodeAt(offset - 1);
  return offset === 0 || c === 0x0a || (c === 0x0d && text.charCodeAt(offset) !== 0x0a);
}

function lineStart(text: string, offset: number): number {
  let k = offset;
  while (k > 0 && !isLineStart(text, k)) k--;
  return k;
}

/** After the line break ending the line of `offset` (or the end of the text). */
function lineEnd(text: string, offset: number): number {
  let k = offset;
  while (k < text.length && text.charCodeAt(k) !== 0x0a && text.charCodeAt(k) !== 0x0d) k++;
  if (k < text.length) k += text.charCodeAt(k) === 0x0d && text.charCodeAt(k + 1) === 0x0a ? 2 : 1;
  return k;
}

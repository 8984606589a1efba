/**
 * The formatter's line structure: the lexed tokens and comments of a file as one list of
 * items, split into the lines the formatted text will have, each with its block depth.
 *
 * Lines follow the source, except that a block which spans lines gets its `{` at the end
 * of the line that opens it (what follows the `{` moves to the next line, unless it is
 * only comments) and its `}` at the start of a line of its own; and a `{` written alone on
 * the line after its declaration joins that line when only whitespace is between them.
 * Every one of these moves adds or removes a line break where the grammar takes either.
 */
import { ALL_KEYWORDS, ENUMS, type LexResult } from '@iommu-lens/grammar';

type Token = LexResult['tokens'][number];

export interface Item {
  start: number;
  /** Exclusive. */
  end: number;
  kind: 'token' | 'line-comment' | 'block-comment';
  image: string;
  /** A block comment with a line break inside (kept byte for byte). */
  multiline: boolean;
  /** A keyword that shapes its statement (`size`, `for`, `event`); enumerated values are not. */
  keyword: boolean;
}

/** Keywords that pick a statement's form, as opposed to values such as region types. */
const SHAPING = new Set<string>(ALL_KEYWORDS);
for (const values of Object.values(ENUMS)) for (const v of values) SHAPING.delete(v);

export interface Line {
  /** Index of the line's first item. */
  first: number;
  /** Index after its last item. */
  end: number;
  depth: number;
  /** One blank line goes before this line. */
  blankBefore: boolean;
}

export interface Structure {
  items: Item[];
  lines: Line[];
  /** Newlines in the source before each item (index `items.length`: before the end of the file). */
  newlines: Int32Array;
  /** Statement group of each item: a source line, with a `{` joined to its declaration's line. */
  group: Int32Array;
}

/** Characters the lexer skips between tokens, and line breaks. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0c || c === 0x0b || c === 0xa0 || c === 0xfeff || c === 0x0a || c === 0x0d;
}

/** Line breaks in `text[from, to)`: `\r\n`, `\n` or `\r`, each counting once. */
function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c === 0x0a) n++;
    else if (c === 0x0d) {
      n++;
      if (text.charCodeAt(k + 1) === 0x0a) k++;
    }
  }
  return n;
}

export function structure(text: string, tokens: readonly Token[], comments: readonly Token[]): Structure {
  const items = mergeItems(tokens, comments);
  const n = items.length;
  const newlines = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) {
    newlines[i] = countNewlines(text, i === 0 ? 0 : items[i - 1]!.end, i === n ? text.length : items[i]!.start);
  }

  // A `{` alone after its declaration's line joins it (a comment between would swallow it).
  const joined = new Uint8Array(n);
  const group = new Int32Array(n);
  const record = new Int32Array(n);
  for (let i = 1; i < n; i++) {
    const prev = items[i - 1]!;
    joined[i] =
      items[i]!.image === '{' &&
      newlines[i]! > 0 &&
      prev.kind === 'token' &&
      prev.image !== '{' &&
      prev.image !== '}' &&
      prev.image !== ';' &&
      prev.image !== ','
        ? 1
        : 0;
    record[i] = record[i - 1]! + (newlines[i]! > 0 ? 1 : 0);
    group[i] = group[i - 1]! + (newlines[i]! > 0 && !joined[i] ? 1 : 0);
  }

  // Braces (1 `{`, -1 `}`; comment images never look like one), and which pairs are
  // "multi-line": their braces on different source lines.
  const brace = new Int8Array(n);
  const multi = new Uint8Array(n);
  const open: number[] = [];
  for (let i = 0; i < n; i++) {
    const img = items[i]!.image;
    if (img === '{') {
      brace[i] = 1;
      open.push(i);
    } else if (img === '}') {
      brace[i] = -1;
      const o = open.pop();
      if (o !== undefined && record[o] !== record[i]) multi[o] = multi[i] = 1;
    }
  }
  // Whether only comments follow an item on its source line.
  const onlyComments = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    const next = items[i + 1];
    onlyComments[i] = next === undefined || newlines[i + 1]! > 0 ? 1 : next.kind !== 'token' && onlyComments[i + 1] ? 1 : 0;
  }

  const lines: Line[] = [];
  let depth = 0;
  let lastToken = -1; // the last token of the line being built
  for (let i = 0; i < n; i++) {
    const closes = brace[i] === -1;
    const breakHere =
      i === 0 ||
      (newlines[i]! > 0 && !joined[i]) ||
      (closes && multi[i] === 1) ||
      (brace[i - 1] === 1 && multi[i - 1] === 1 && onlyComments[i - 1] === 0);
    if (breakHere) {
      const opensBefore = lastToken >= 0 && brace[lastToken] === 1 && multi[lastToken] === 1;
      lastToken = -1;
      const prior = lines[lines.length - 1];
      if (prior) prior.end = i;
      lines.push({
        first: i,
        end: n,
        depth: Math.max(0, depth - (closes ? 1 : 0)),
        blankBefore: i > 0 && newlines[i]! >= 2 && !closes && !opensBefore,
      });
    }
    if (brace[i] === 1) depth++;
    else if (closes) depth = Math.max(0, depth - 1);
    if (items[i]!.kind === 'token') lastToken = i;
  }
  return { items, lines, newlines, group };
}

/** Tokens (without line breaks, real or standing for a comment) and comments, in order. */
function mergeItems(tokens: readonly Token[], comments: readonly Token[]): Item[] {
  const items: Item[] = [];
  let j = 0;
  const comment = (c: Token): Item => ({
    start: c.startOffset,
    end: c.startOffset + c.image.length,
    kind: c.tokenType.name === 'LineComment' ? 'line-comment' : 'block-comment',
    image: c.image,
    multiline: /[\r\n]/.test(c.image),
    keyword: false,
  });
  for (const t of tokens) {
    if (t.tokenType.name === 'Newline') continue;
    while (j < comments.length && comments[j]!.startOffset < t.startOffset) items.push(comment(comments[j++]!));
    // A keyword token's type is named after the keyword; a plain word's is `Word`.
    const keyword = t.tokenType.name === t.image && SHAPING.has(t.image);
    items.push({ start: t.startOffset, end: t.startOffset + t.image.length, kind: 'token', image: t.image, multiline: false, keyword });
  }
  while (j < comments.length) items.push(comment(comments[j++]!));
  return items;
}

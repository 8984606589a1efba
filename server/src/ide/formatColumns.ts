/**
 * The formatter's spacing inside a line: what goes between two items of one line,
 * including the padding that aligns columns (rules in format.ts).
 */
import type { Item, Line } from './formatLines';

/** `sep[i]`: the text between item `i - 1` and item `i` when both are on one line. */
export function separators(items: readonly Item[], lines: readonly Line[]): string[] {
  const sep: string[] = new Array<string>(items.length).fill('');
  for (const l of lines) for (let i = l.first + 1; i < l.end; i++) sep[i] = spacing(items[i - 1]!, items[i]!);
  alignStatements(items, lines, sep);
  alignComments(items, lines, sep);
  return sep;
}

const isDot = (s: string) => s === '.' || s === '..';

function spacing(a: Item, b: Item): string {
  if (a.kind !== 'token' || b.kind !== 'token') return ' ';
  if (b.image === ',' || b.image === ';') return '';
  // `. .` written apart would read as `..` once joined.
  if (isDot(a.image) && isDot(b.image)) return ' ';
  if (isDot(a.image) || isDot(b.image)) return '';
  if (a.image === '{' && b.image === '}') return '';
  return ' ';
}

/**
 * A line that may take part in a statement run: plain tokens, maybe ending in one block
 * written on the line (`device d { ... }`), maybe a trailing `//` comment.
 */
function alignable(items: readonly Item[], l: Line): boolean {
  let depth = 0;
  let block = false;
  for (let i = l.first; i < l.end; i++) {
    const it = items[i]!;
    if (it.kind === 'line-comment') return i === l.end - 1 && i > l.first && depth === 0;
    if (it.kind !== 'token') return false;
    if (block && depth === 0) return false; // something after the block
    if (it.image === '{') {
      depth++;
      block = true;
    } else if (it.image === '}') {
      if (--depth < 0) return false;
    } else if (it.image === ';' && depth === 0) return false;
  }
  return depth === 0;
}

/** Runs: consecutive lines of one depth, no blank line between, each passing `member`. */
function runs(lines: readonly Line[], member: (l: Line) => boolean, same: (a: Line, b: Line) => boolean): Line[][] {
  const out: Line[][] = [];
  let run: Line[] = [];
  for (const l of lines) {
    const prev = run[run.length - 1];
    if (prev && !(member(l) && !l.blankBefore && l.depth === prev.depth && same(prev, l))) {
      if (run.length > 1) out.push(run);
      run = [];
    }
    if (member(l)) run.push(l);
  }
  if (run.length > 1) out.push(run);
  return out;
}

/**
 * Cells are the items joined without a space (`0x0..0xfff`, `a,`). In a run of one kind,
 * every cell but a line's last is padded to the widest cell of its column among the
 * lines where that cell is not the last either; columns are aligned from the left up to
 * the first one where two lines take different forms (different shaping keywords, as
 * `on exit-boot-services ...` and `on event ...`).
 */
function alignStatements(items: readonly Item[], lines: readonly Line[], sep: string[]): void {
  const kind = (l: Line) => items[l.first]!.image;
  for (const run of runs(
    lines,
    (l) => alignable(items, l),
    (a, b) => kind(a) === kind(b),
  )) {
    const cells = run.map((l) => cellsOf(items, l, sep));
    const limit = sameForm(cells);
    const widths: number[] = [];
    for (const line of cells) {
      for (let c = 0; c < Math.min(line.length - 1, limit); c++) widths[c] = Math.max(widths[c] ?? 0, line[c]!.width);
    }
    for (const line of cells) {
      for (let c = 0; c < Math.min(line.length - 1, limit); c++) sep[line[c + 1]!.first] = ' '.repeat(widths[c]! - line[c]!.width + 1);
    }
  }
}

/** The first column where two lines have different shaping keywords (or Infinity). */
function sameForm(cells: readonly Cell[][]): number {
  const keys: (string | undefined)[] = [];
  let limit = Infinity;
  for (const line of cells) {
    for (let c = 0; c < Math.min(line.length, limit); c++) {
      const key = line[c]!.keyword;
      if (key === undefined) continue;
      if (keys[c] === undefined) keys[c] = key;
      else if (keys[c] !== key) limit = c;
    }
  }
  return limit;
}

interface Cell {
  first: number;
  width: number;
  keyword?: string;
}

/** The cells of an alignable line; a block on the line is its last cell, never padded. */
function cellsOf(items: readonly Item[], l: Line, sep: readonly string[]): Cell[] {
  const cells: Cell[] = [];
  for (let i = l.first; i < l.end && items[i]!.kind === 'token'; i++) {
    const it = items[i]!;
    if (it.image === '{') {
      cells.push({ first: i, width: 0 });
      break;
    }
    const last = cells[cells.length - 1];
    if (last && sep[i] === '') last.width += it.image.length;
    else cells.push({ first: i, width: it.image.length, ...(it.keyword ? { keyword: it.image } : {}) });
  }
  return cells;
}

/** Trailing `//` comments of consecutive lines of one depth start in one column. */
function alignComments(items: readonly Item[], lines: readonly Line[], sep: string[]): void {
  const trailing = (l: Line) => {
    if (l.end - l.first < 2 || items[l.end - 1]!.kind !== 'line-comment') return false;
    for (let i = l.first; i < l.end; i++) if (items[i]!.multiline) return false;
    return true;
  };
  const width = (l: Line) => {
    let w = 0;
    for (let i = l.first; i < l.end - 1; i++) w += (i > l.first ? sep[i]!.length : 0) + items[i]!.image.length;
    return w;
  };
  for (const run of runs(lines, trailing, () => true)) {
    const widths = run.map(width);
    const column = widths.reduce((m, w) => Math.max(m, w), 0) + 1;
    run.forEach((l, k) => {
      sep[l.end - 1] = ' '.repeat(column - widths[k]!);
    });
  }
}

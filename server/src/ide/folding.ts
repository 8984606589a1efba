/**
 * Folding ranges in 0-based lines, which is what editors fold by: the lsp layer passes
 * them through unchanged (`FoldingRange { startLine: start, endLine: end, kind }`).
 *
 * - every block, from the line its declaration starts on to the line before its `}`
 *   (so the `}` stays visible); an unclosed block folds to the file's last line with text;
 * - a multi-line block comment, and a run of 2+ line comments on consecutive lines that
 *   each have nothing before them (kind comment);
 * - `// region` … `// endregion` (also `//#region`), as in language-configuration.json
 *   (kind region), including the end marker's line.
 * A range that would fold nothing (one line) is dropped; of ranges starting on the same
 * line, only the largest is kept, since editors fold one range per line.
 */
import type { Node, SourceFile, Span } from '@iommu-lens/grammar';
import { LineIndex } from './positions';
import { astChildren } from '@iommu-lens/grammar';

export interface FoldingRange {
  /** First line (0-based), shown when folded. */
  start: number;
  /** Last line (0-based) hidden when folded. */
  end: number;
  kind?: 'comment' | 'region';
}

const REGION_START = /^\/\/\s*#?region\b/;
const REGION_END = /^\/\/\s*#?endregion\b/;

/** `lines`: the file's line table when the caller has one (the host keeps one per file). */
export function foldingRanges(ast: SourceFile, text: string, lines = new LineIndex(text)): FoldingRange[] {
  return joinFolding([{ line: 0, part: foldingPart(ast, text, lines) }], text, lines);
}

/**
 * The folding of one stretch of a file that starts at a line start (the host's units,
 * ide/analysis.ts, each keeping its own), in its own lines. What depends on the rest of the
 * file is left to `joinFolding`: regions may open in one unit and close in another, and an
 * unclosed block or comment folds to the file's last line with text.
 */
export interface FoldingPart {
  /** Sorted by start, then largest first; `toEnd`: its end is at most the file's last line with text (none: exactly it). */
  ranges: (FoldingRange & { toEnd?: 'cap' | 'last' })[];
  /** The `// region` (true) and `// endregion` (false) markers, in order, by line. */
  regions: { line: number; open: boolean }[];
}

/** `base`: where `text` starts in the file whose offsets `ast`'s spans are in (a unit parsed where it stands). */
export function foldingPart(ast: SourceFile, text: string, lines: LineIndex, base = 0): FoldingPart {
  const line = (offset: number) => lines.position(offset - base).line;
  const out: FoldingPart['ranges'] = [];

  const blocks = (nodes: Iterable<Node>): void => {
    for (const node of nodes) {
      const braces = (node as { braces?: { open: Span; close?: Span } }).braces;
      if (braces)
        out.push(
          braces.close
            ? { start: line(node.span.start), end: line(braces.close.start) - 1 }
            : { start: line(node.span.start), end: 0, toEnd: 'last' },
        );
      for (const c of astChildren(node)) blocks([c.node]);
    }
  };
  blocks(ast.decls);

  let run: { first: number; last: number } | undefined;
  const endRun = () => {
    if (run) out.push({ start: run.first, end: run.last, kind: 'comment' });
    run = undefined;
  };
  const regions: FoldingPart['regions'] = [];
  for (const c of ast.comments) {
    const image = text.slice(c.start - base, c.end - base);
    const at = line(c.start);
    if (image.startsWith('/*')) {
      endRun();
      // An unterminated comment runs to the end of the file, trailing blank lines and all.
      const end = line(Math.max(c.start, c.end - 1));
      // A closed one ends on text, so at most on the last line with text: only an unclosed one is capped.
      out.push(
        image.length >= 4 && image.endsWith('*/') ? { start: at, end, kind: 'comment' } : { start: at, end, kind: 'comment', toEnd: 'cap' },
      );
      continue;
    }
    const alone = startsLine(text, c.start - base);
    if (alone && (REGION_START.test(image) || REGION_END.test(image))) {
      endRun();
      regions.push({ line: at, open: REGION_START.test(image) });
      continue;
    }
    if (!alone) {
      endRun();
      continue;
    }
    if (run && run.last === at - 1) run.last = at;
    else {
      endRun();
      run = { first: at, last: at };
    }
  }
  endRun();
  out.sort(byStartThenLargest);
  return { ranges: out, regions };
}

const byStartThenLargest = (x: FoldingRange, y: FoldingRange) => x.start - y.start || y.end - x.end;

/**
 * The file's folding ranges from its parts in order, each with the line it starts on:
 * regions paired across parts, ends to the last line placed, one range per start line.
 */
export function joinFolding(parts: readonly { line: number; part: FoldingPart }[], text: string, lines: LineIndex): FoldingRange[] {
  const lastLine = lines.position(lastTextOffset(text)).line;
  const out: FoldingRange[] = [];
  const open: number[] = [];
  // Each part is sorted and starts below the last line of the one before (it ends with a line
  // break), so the joined list is sorted unless a region or an end moved to the last line joined it.
  let sorted = true;
  for (const { line, part } of parts) {
    if (part.regions.length) sorted = false;
    for (const r of part.ranges) {
      const start = r.start + line;
      if (r.toEnd) sorted = false;
      const end = r.toEnd === 'last' ? lastLine : r.toEnd === 'cap' ? Math.min(r.end + line, lastLine) : r.end + line;
      out.push(r.kind ? { start, end, kind: r.kind } : { start, end });
    }
    for (const m of part.regions) {
      if (m.open) open.push(m.line + line);
      else {
        const start = open.pop();
        if (start !== undefined) out.push({ start, end: m.line + line, kind: 'region' });
      }
    }
  }
  if (!sorted) out.sort(byStartThenLargest);
  return out.filter((r, i) => r.end > r.start && (i === 0 || out[i - 1]!.start !== r.start));
}

/** Only whitespace between the start of the line and `offset`. */
function startsLine(text: string, offset: number): boolean {
  for (let i = offset - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '\n' || c === '\r') return true;
    if (c !== ' ' && c !== '\t') return false;
  }
  return true;
}

/** The offset of the last character that is not whitespace (0 for an empty file). */
function lastTextOffset(text: string): number {
  let i = text.length - 1;
  while (i > 0 && /\s/.test(text[i]!)) i--;
  return Math.max(0, i);
}

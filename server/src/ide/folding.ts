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
  const line = (offset: number) => lines.position(offset).line;
  const out: FoldingRange[] = [];
  const lastLine = line(lastTextOffset(text));

  const blocks = (nodes: Iterable<Node>): void => {
    for (const node of nodes) {
      const braces = (node as { braces?: { open: Span; close?: Span } }).braces;
      if (braces) out.push({ start: line(node.span.start), end: braces.close ? line(braces.close.start) - 1 : lastLine });
      blocks([...astChildren(node)].map((c) => c.node));
    }
  };
  blocks(ast.decls);

  let run: { first: number; last: number } | undefined;
  const endRun = () => {
    if (run) out.push({ start: run.first, end: run.last, kind: 'comment' });
    run = undefined;
  };
  const regions: number[] = [];
  for (const c of ast.comments) {
    const image = text.slice(c.start, c.end);
    const at = line(c.start);
    if (image.startsWith('/*')) {
      endRun();
      // An unterminated comment runs to the end of the file, trailing blank lines and all.
      out.push({ start: at, end: Math.min(line(Math.max(c.start, c.end - 1)), lastLine), kind: 'comment' });
      continue;
    }
    const alone = startsLine(text, c.start);
    if (alone && REGION_START.test(image)) {
      endRun();
      regions.push(at);
      continue;
    }
    if (alone && REGION_END.test(image)) {
      endRun();
      const start = regions.pop();
      if (start !== undefined) out.push({ start, end: at, kind: 'region' });
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

  out.sort((x, y) => x.start - y.start || y.end - x.end);
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

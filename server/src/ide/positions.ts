/**
 * Offsets ↔ line/character. Characters are UTF-16 code units, which is what JS
 * strings index and what LSP uses by default.
 */
import type { Span } from '@iommu-lens/grammar';
import { partitionPoint } from '../model/search';

/** Whether a cursor at `offset` is on `s`: the end counts (the cursor just after a word). */
export const inside = (s: Span, offset: number): boolean => s.start <= offset && offset <= s.end;

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

/** The offsets just after each line break of `text` (`\r\n` is one break): where lines 1, 2, ... start. */
export function lineBreaks(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) out.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      out.push(i + 1);
    }
  }
  return out;
}

/**
 * Consecutive stretches of a text, each starting at a line start, with the offsets (from
 * the stretch's start) just after each of its line breaks: the host's units.
 */
export interface LineParts {
  bases: readonly number[];
  breaks: readonly (readonly number[])[];
}

export class LineIndex {
  /** Where each line starts; or, from parts, each part's first line. */
  private readonly starts: number[];
  private readonly parts: LineParts | undefined;
  private readonly count: number;

  /**
   * `parts`: the text's line breaks by stretch (the host's units, each scanned once), so
   * the table costs one entry per stretch, not per line, on every edit.
   */
  constructor(
    readonly text: string,
    parts?: LineParts,
  ) {
    if (!parts || parts.bases.length < 2) {
      this.starts = [0, ...lineBreaks(text)];
      this.count = this.starts.length;
      return;
    }
    this.parts = parts;
    this.starts = [];
    let line = 0;
    for (const b of parts.breaks) {
      this.starts.push(line);
      line += b.length;
    }
    this.count = line + 1;
  }

  /** The line holding offset `o` (within the text). */
  private lineOf(o: number): number {
    const { parts, starts } = this;
    if (!parts) return partitionPoint(starts.length, (i) => starts[i]! <= o) - 1;
    const u = partitionPoint(parts.bases.length, (i) => parts.bases[i]! <= o) - 1;
    const local = o - parts.bases[u]!;
    const breaks = parts.breaks[u]!;
    return starts[u]! + partitionPoint(breaks.length, (i) => breaks[i]! <= local);
  }

  /** Where line `line` starts; undefined past the last line. */
  private startOf(line: number): number | undefined {
    const { parts, starts } = this;
    if (!parts) return starts[line];
    if (line < 0 || line >= this.count) return undefined;
    const u = partitionPoint(starts.length, (i) => starts[i]! <= line) - 1;
    const j = line - starts[u]!;
    return parts.bases[u]! + (j === 0 ? 0 : parts.breaks[u]![j - 1]!);
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const line = this.lineOf(o);
    return { line, character: o - this.startOf(line)! };
  }

  range(span: Span): Range {
    return { start: this.position(span.start), end: this.position(span.end) };
  }

  /** The file's line break (its first one; `\n` for a one-line file). */
  get eol(): string {
    const second = this.startOf(1);
    if (second === undefined) return '\n';
    return this.text.charCodeAt(second - 1) === 13 ? '\r' : this.text.charCodeAt(second - 2) === 13 ? '\r\n' : '\n';
  }

  /** Where the line holding `offset` starts, and where it ends (before its line break). */
  lineAround(offset: number): Span {
    const line = this.position(offset).line;
    const start = this.startOf(line)!;
    const next = this.startOf(line + 1);
    let end = next === undefined ? this.text.length : next - 1;
    if (next !== undefined && this.text.charCodeAt(end) === 10 && this.text.charCodeAt(end - 1) === 13) end--;
    return { start, end };
  }

  offset(p: Position): number {
    const start = this.startOf(Math.max(0, Math.min(p.line, this.count - 1)))!;
    return Math.min(start + p.character, this.text.length);
  }
}

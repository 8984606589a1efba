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

export class LineIndex {
  private readonly starts: number[];

  /** `starts`: where each line starts (0 first) when the caller has them (the host joins its units' breaks). */
  constructor(
    readonly text: string,
    starts?: number[],
  ) {
    this.starts = starts ?? [0, ...lineBreaks(text)];
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const line = partitionPoint(this.starts.length, (i) => this.starts[i]! <= o) - 1;
    return { line, character: o - this.starts[line]! };
  }

  range(span: Span): Range {
    return { start: this.position(span.start), end: this.position(span.end) };
  }

  /** The file's line break (its first one; `\n` for a one-line file). */
  get eol(): string {
    const second = this.starts[1];
    if (second === undefined) return '\n';
    return this.text.charCodeAt(second - 1) === 13 ? '\r' : this.text.charCodeAt(second - 2) === 13 ? '\r\n' : '\n';
  }

  /** Where the line holding `offset` starts, and where it ends (before its line break). */
  lineAround(offset: number): Span {
    const line = this.position(offset).line;
    const start = this.starts[line]!;
    const next = this.starts[line + 1];
    let end = next === undefined ? this.text.length : next - 1;
    if (next !== undefined && this.text.charCodeAt(end) === 10 && this.text.charCodeAt(end - 1) === 13) end--;
    return { start, end };
  }

  offset(p: Position): number {
    const start = this.starts[Math.max(0, Math.min(p.line, this.starts.length - 1))]!;
    return Math.min(start + p.character, this.text.length);
  }
}

/**
 * Reading request params defensively. LSP says what they hold, but a buggy or hostile
 * client may send anything: a missing uri or a position that is not two non-negative
 * integers is answered with `InvalidParams`; a position past the end of its line or of
 * the document is valid LSP and means the end (the spec: "defaults back to the line length").
 */
import type { Span } from '@iommu-lens/grammar';
import type { LineIndex } from '../ide';
import { invalidParams } from './guard';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** `params.textDocument.uri`. */
export function documentUri(params: unknown): string {
  const uri = (params as { textDocument?: { uri?: unknown } } | null | undefined)?.textDocument?.uri;
  if (typeof uri !== 'string') throw invalidParams('textDocument.uri must be a string');
  return uri;
}

/** The offset of an LSP position, clamped to its line and to the document. */
export function offsetAt(lines: LineIndex, position: unknown): number {
  const p = position as { line?: unknown; character?: unknown } | null | undefined;
  if (!p || !isCount(p.line) || !isCount(p.character))
    throw invalidParams(`a position must be {line, character} with non-negative integers, not ${JSON.stringify(position)?.slice(0, 80)}`);
  const lineStart = lines.offset({ line: p.line, character: 0 });
  // Past the last line: the end of the document.
  if (lines.position(lineStart).line < p.line) return lines.text.length;
  const line = lines.lineAround(lineStart);
  return Math.min(line.start + p.character, line.end);
}

/** The span of an LSP range (its ends in order). */
export function spanOf(lines: LineIndex, range: unknown): Span {
  const r = range as { start?: unknown; end?: unknown } | null | undefined;
  if (!r || typeof r !== 'object') throw invalidParams('a range must be {start, end}');
  const a = offsetAt(lines, r.start);
  const b = offsetAt(lines, r.end);
  return a <= b ? { start: a, end: b } : { start: b, end: a };
}

/** Text edits fixes share: removing a statement's line without losing the comments around it. */
import type { Span } from '@iommu-lens/grammar';
import type { Model } from '../model/types';

export function commentBetween(model: Model, uri: string, start: number, end: number): boolean {
  return (model.comments.get(uri) ?? []).some((c) => c.start >= start && c.end <= end);
}

/**
 * The span that removes statement `item` together with the line break before it: from the
 * end of the statement before it, unless a comment sits in between (then just the statement).
 */
export function removalSpan(model: Model, uri: string, prev: { span: Span } | undefined, item: { span: Span }): Span {
  const from = prev && !commentBetween(model, uri, prev.span.end, item.span.start) ? prev.span.end : item.span.start;
  return { start: from, end: item.span.end };
}

/**
 * Selection ranges ("expand selection"): from the word or number under the cursor out to
 * the whole file, through every AST node that contains the cursor and, for a block, its
 * contents before the block with its declaration. The tree is walked generically (every
 * node has a `span`), so new statements need nothing here.
 */
import type { Node, SourceFile, Span } from '@iommu-lens/grammar';
import { astChildren } from '@iommu-lens/grammar';
import { partitionPoint } from '../model/search';
import { inside } from './positions';

export interface SelectionRange {
  span: Span;
  parent?: SelectionRange;
}

/** One chain per offset, innermost first; each parent strictly contains its child. */
export function selectionRanges(ast: SourceFile, offsets: number[]): SelectionRange[] {
  return offsets.map((offset) => chainAt(ast, Math.max(0, Math.min(offset, ast.length))));
}

function chainAt(ast: SourceFile, offset: number): SelectionRange {
  const clamp = (s: Span): Span => ({ start: Math.max(0, Math.min(s.start, ast.length)), end: Math.max(0, Math.min(s.end, ast.length)) });
  // Outermost first; filtered below so that every span strictly contains the next.
  const spans: Span[] = [{ start: 0, end: ast.length }];
  let children: Node[] = ast.decls;
  for (;;) {
    const node = pick(children, offset);
    if (!node) break;
    spans.push(clamp(node.span));
    const inner = contents(node, ast);
    if (inner && inside(inner, offset)) spans.push(clamp(inner));
    children = [...astChildren(node)].map((c) => c.node);
  }
  const comment = commentAt(ast.comments, offset);
  if (comment) spans.push(clamp(comment));

  let chain: SelectionRange | undefined;
  for (const span of spans) {
    if (chain && !strictlyInside(span, chain.span)) continue;
    chain = { span, parent: chain };
  }
  return chain!;
}

/** The child under the cursor; at a boundary, the one the cursor is in before the one it ends. */
function pick(nodes: Node[], offset: number): Node | undefined {
  let touching: Node | undefined;
  for (const n of nodes) {
    if (n.span.start <= offset && offset < n.span.end) return n;
    if (n.span.end === offset && n.span.start < offset) touching ??= n;
  }
  return touching;
}

/**
 * What is between a block's braces: from its first statement or comment to its last
 * (so a double click's worth of whitespace is not selected on its own).
 */
function contents(node: Node, ast: SourceFile): Span | undefined {
  const braces = (node as { braces?: { open: Span; close?: Span } }).braces;
  if (!braces) return undefined;
  const from = braces.open.end;
  const to = braces.close?.start ?? ast.length;
  let start = Infinity,
    end = -Infinity;
  for (const { node: child } of astChildren(node)) {
    if (child.span.start >= from && child.span.end <= to) {
      start = Math.min(start, child.span.start);
      end = Math.max(end, child.span.end);
    }
  }
  const first = firstCommentFrom(ast.comments, from);
  const firstComment = ast.comments[first];
  if (firstComment && firstComment.end <= to) {
    start = Math.min(start, firstComment.start);
    // The last comment inside the braces: the one before the first that ends past `to`.
    const last = ast.comments[firstCommentFrom(ast.comments, to) - 1];
    if (last && last.end <= to) end = Math.max(end, last.end);
  }
  return start < end ? { start, end } : undefined;
}

/** Index of the first comment starting at or after `offset` (comments are sorted). */
function firstCommentFrom(comments: Span[], offset: number): number {
  return partitionPoint(comments.length, (i) => comments[i]!.start < offset);
}

function commentAt(comments: Span[], offset: number): Span | undefined {
  const c = comments[firstCommentFrom(comments, offset + 1) - 1];
  return c && inside(c, offset) ? c : undefined;
}

function strictlyInside(inner: Span, outer: Span): boolean {
  return outer.start <= inner.start && inner.end <= outer.end && (inner.start !== outer.start || inner.end !== outer.end);
}

/**
 * Reading chevrotain's CST, for the core's and the domains' CST → AST builders. Defensive:
 * after recovery a CST node may miss any child, and tokens inserted by recovery have no
 * position; such parts read as undefined.
 */
import type { CstElement, CstNode, IToken } from 'chevrotain';
import type * as A from './nodes';
import { makeSpan } from './nodes';

export type Children = Record<string, CstElement[] | undefined>;

export function isNode(e: CstElement): e is CstNode {
  return (e as CstNode).children !== undefined;
}

export function realToken(t: IToken | undefined): IToken | undefined {
  return t && !t.isInsertedInRecovery && Number.isFinite(t.startOffset) ? t : undefined;
}

// The readers below are plain loops: they run for every field of every statement, and the
// filter/map chains they replace allocated three arrays per call (a tenth of parse time).
export function tokens(c: Children, key: string): IToken[] {
  const out: IToken[] = [];
  for (const e of c[key] ?? []) if (!isNode(e) && realToken(e)) out.push(e);
  return out;
}
export function token(c: Children, key: string, i = 0): IToken | undefined {
  for (const e of c[key] ?? []) if (!isNode(e) && realToken(e) && i-- === 0) return e;
  return undefined;
}
export function nodes(c: Children, key: string): CstNode[] {
  return (c[key] ?? []).filter(isNode);
}
export function node(c: Children, key: string, i = 0): CstNode | undefined {
  for (const e of c[key] ?? []) if (isNode(e) && i-- === 0) return e;
  return undefined;
}

export function tokenSpan(t: IToken): A.Span {
  return makeSpan(t.startOffset, t.endOffset! + 1);
}

/** The span of a CST node, from its location or, when recovery left it NaN, its tokens. */
export function cstSpan(n: CstNode): A.Span | undefined {
  const loc = n.location;
  if (loc && Number.isFinite(loc.startOffset) && Number.isFinite(loc.endOffset)) {
    return makeSpan(loc.startOffset, loc.endOffset! + 1);
  }
  let start = Infinity,
    end = -Infinity;
  for (const list of Object.values(n.children)) {
    for (const e of list ?? []) {
      const s = isNode(e) ? cstSpan(e) : realToken(e) ? tokenSpan(e) : undefined;
      if (s) {
        start = Math.min(start, s.start);
        end = Math.max(end, s.end);
      }
    }
  }
  return Number.isFinite(start) ? makeSpan(start, end) : undefined;
}

export function word(t: IToken | undefined): A.Word | undefined {
  return t ? { text: t.image, span: tokenSpan(t) } : undefined;
}
export function num(t: IToken | undefined): A.NumLit | undefined {
  return t ? { text: t.image, span: tokenSpan(t) } : undefined;
}
export function span(n: CstNode): A.Span {
  return cstSpan(n) ?? { start: spanBase, end: spanBase };
}

/**
 * Where the text being built starts in its file (parse.ts `parseUncapped`): a node that
 * recovery left with no token at all gets an empty span there. Set only while a parse
 * builds its AST, which is synchronous.
 */
let spanBase = 0;
export function withSpanBase<T>(base: number, build: () => T): T {
  const before = spanBase;
  spanBase = base;
  try {
    return build();
  } finally {
    spanBase = before;
  }
}

/** Every real token under a node, in source order. */
export function allTokens(n: CstNode): IToken[] {
  const out: IToken[] = [];
  collectTokens(n, out);
  return out.sort((a, b) => a.startOffset - b.startOffset);
}

function collectTokens(n: CstNode, out: IToken[]): void {
  const c = n.children;
  for (const key in c) {
    for (const e of c[key] ?? []) {
      if (isNode(e)) collectTokens(e, out);
      else if (realToken(e)) out.push(e);
    }
  }
}

export function firstToken(n: CstNode): IToken | undefined {
  return allTokens(n)[0];
}

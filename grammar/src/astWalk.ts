/** A generic walk over AST nodes: every node has a `span`; bare spans are not nodes. */
import type { Node } from './ast';

/** One child of an AST node and the field that holds it (`name`, `range`, `items`, ...). */
export interface AstChild {
  key: string;
  node: Node;
}

/**
 * Calls `visit` on each direct child node of `node`, in field order (not necessarily source
 * order). A plain loop, no generator or entry arrays: the workspace's names walk every node
 * of every file, and at fleet scale the allocations were a fifth of `check`'s time.
 */
export function forEachAstChild(node: object, visit: (child: Node, key: string) => void): void {
  // AST nodes are plain object literals (grammar/src/build.ts), so for-in sees own fields only.
  const fields = node as Record<string, unknown>;
  for (const key in fields) {
    // `span` and `braces` hold bare spans, not nodes.
    if (key === 'span' || key === 'braces') continue;
    const value = fields[key];
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const v of value) if (isNode(v)) visit(v, key);
    } else if (isNode(value)) {
      visit(value, key);
    }
  }
}

/** The direct child nodes of `node`, in field order (not necessarily source order). */
export function astChildren(node: object): AstChild[] {
  const out: AstChild[] = [];
  forEachAstChild(node, (child, key) => out.push({ key, node: child }));
  return out;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as { span?: unknown }).span === 'object';
}

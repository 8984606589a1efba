/** A generic walk over AST nodes: every node has a `span`; bare spans are not nodes. */
import type { Node } from './ast';

/** One child of an AST node and the field that holds it (`name`, `range`, `items`, ...). */
export interface AstChild {
  key: string;
  node: Node;
}

/** The direct child nodes of `node`, in field order (not necessarily source order). */
export function* astChildren(node: object): Generator<AstChild> {
  for (const [key, value] of Object.entries(node)) {
    // `span` and `braces` hold bare spans, not nodes.
    if (key === 'span' || key === 'braces') continue;
    if (Array.isArray(value)) {
      for (const v of value) if (isNode(v)) yield { key, node: v };
    } else if (isNode(value)) {
      yield { key, node: value };
    }
  }
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as { span?: unknown }).span === 'object';
}

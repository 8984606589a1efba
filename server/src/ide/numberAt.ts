/**
 * The number literal under the cursor and what it stands for: an address (a range's ends,
 * `ioapic`, `vtom`, a mapping's `at`, a BAR value), a size (`size`, `memory`, ...) or
 * something else (a width, a group, a stream ID). Found by walking the AST of the one
 * declaration that covers the cursor, so numbers in comments are never found.
 */
import type { Node, NumLit, RangeLit } from '@iommu-lens/grammar';
import type { Analysis } from './analysis';
import { astChildren } from '@iommu-lens/grammar';
import { inside } from './positions';
import { partitionPoint } from '../model/search';

export type NumberRole = 'address' | 'size' | 'other';

export interface NumberAt {
  lit: NumLit;
  role: NumberRole;
  /** The range the literal is part of, if any. */
  range?: RangeLit;
  /** The top-level declaration it is in. */
  decl: Node;
}

const SIZE_OPTIONS = new Set(['size', 'memory', 'max-ram-below-4g', 'pci-hole64-size']);

/** Whether `offset` is inside a comment (the model keeps each file's comments sorted). */
export function inComment(a: Analysis, uri: string, offset: number): boolean {
  const list = a.model.comments.get(uri) ?? [];
  const c = list[partitionPoint(list.length, (i) => list[i]!.end <= offset)];
  return !!c && c.start <= offset && offset < c.end;
}

/** The declarations of a file whose number literals can be addresses (SMMU command operands are not: see cmdqvHover). */
function declAt(a: Analysis, uri: string, offset: number): Node | undefined {
  const m = a.model;
  const owners: { sym: { uri: string }; decl: Node }[][] = [
    [...m.platforms.values()],
    [...m.guests.values()],
    ...a.domains.flatMap((x) => x.ide?.addressDeclarations?.(m) ?? []),
  ];
  for (const list of owners) for (const x of list) if (x.sym.uri === uri && inside(x.decl.span, offset)) return x.decl;
  return undefined;
}

export function numberAt(a: Analysis, uri: string, offset: number): NumberAt | undefined {
  const decl = declAt(a, uri, offset);
  const hit = decl && find(decl, offset, undefined, '');
  return hit ? { ...hit, decl: decl! } : undefined;
}

function isNumLit(x: Record<string, unknown>): boolean {
  return typeof x.text === 'string' && !('kind' in x) && /^[0-9]/.test(x.text) && typeof x.span === 'object';
}

function isRange(x: Record<string, unknown> | undefined): x is Record<string, unknown> & RangeLit {
  return !!x && !('kind' in x) && 'start' in x && typeof x.start === 'object';
}

/** Depth-first into the children whose span holds the offset. */
function find(node: Node, offset: number, parent: Record<string, unknown> | undefined, key: string): Omit<NumberAt, 'decl'> | undefined {
  if (!inside(node.span, offset)) return undefined;
  const n = node as unknown as Record<string, unknown>;
  if (isNumLit(n)) return { lit: node as NumLit, role: roleOf(parent, key), range: isRange(parent) ? parent : undefined };
  for (const c of astChildren(node)) {
    const hit = find(c.node, offset, n, c.key);
    if (hit) return hit;
  }
  return undefined;
}

function roleOf(parent: Record<string, unknown> | undefined, key: string): NumberRole {
  if (!parent) return 'other';
  if (isRange(parent)) return key === 'size' ? 'size' : 'address';
  const kind = parent.kind;
  if ((kind === 'ioapic' && key === 'address') || (kind === 'vtom' && key === 'value') || (kind === 'config' && key === 'value'))
    return 'address';
  const option = !kind && key === 'value' ? (parent.key as { text?: string } | undefined)?.text : undefined;
  if (option === 'at') return 'address';
  if (option && SIZE_OPTIONS.has(option)) return 'size';
  return 'other';
}

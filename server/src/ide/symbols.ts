/**
 * The outline of a file (document symbols, nested as the blocks nest) and the
 * workspace-wide symbol search. Both come from `model.symbols`, with a one-line detail
 * of what each name is (a device's BDF, a region's type and exact range).
 */
import type { Span } from '@iommu-lens/grammar';
import { formatBdf, formatInterval, type Model, type Sym, type SymbolKind } from '../model';
import type { Analysis } from './analysis';

export interface OutlineSymbol {
  name: string;
  kind: SymbolKind;
  detail?: string;
  span: Span;
  nameSpan: Span;
  children: OutlineSymbol[];
}

export interface WorkspaceSymbol {
  name: string;
  kind: SymbolKind;
  uri: string;
  span: Span;
  container?: string;
  detail?: string;
}

const detailsCache = new WeakMap<Model, Map<Sym, string>>();

/** What each declared name is, in a few words. */
function details(a: Analysis): Map<Sym, string> {
  const model = a.model;
  const cached = detailsCache.get(model);
  if (cached) return cached;
  const out = new Map<Sym, string>();
  for (const p of model.platforms.values()) {
    if (p.arch) out.set(p.sym, p.arch);
    for (const i of p.iommus.values())
      if (i.kind) out.set(i.sym, `${i.kind}${i.addressWidth !== undefined ? `, ${i.addressWidth}-bit` : ''}`);
    for (const d of p.devices.values()) {
      const parts = [
        d.bdf && formatBdf(d.bdf),
        d.iommu && `behind ${d.iommu.sym.name}`,
        d.group !== undefined && `group ${d.group}`,
      ].filter(Boolean);
      if (parts.length) out.set(d.sym, parts.join(', '));
    }
    for (const r of p.ram) if (r.range) out.set(r.sym, `ram ${formatInterval(r.range)}`);
    for (const r of p.reserved) if (r.range) out.set(r.sym, `${r.type ?? 'reserved'} ${formatInterval(r.range)}`);
  }
  for (const g of model.guests.values()) {
    if (g.platform) out.set(g.sym, `on ${g.platform.sym.name}`);
    for (const r of g.ram) if (r.range) out.set(r.sym, formatInterval(r.range));
    for (const v of g.viommus) if (v.kind) out.set(v.sym, v.kind);
  }
  for (const x of a.domains) x.ide?.symbolDetails?.(model, out);
  detailsCache.set(model, out);
  return out;
}

/** Symbols in declaration order, enclosing ones first. */
const byPosition = (x: Sym, y: Sym) => x.span.start - y.span.start || y.span.end - x.span.end;

const nestingCache = new WeakMap<Model, { parents: Map<Sym, Sym>; byUri: Map<string, Sym[]> }>();

/** Each file's symbols in declaration order and each symbol's parent: one sort and one stack per file, once per model. */
function nesting(model: Model): { parents: Map<Sym, Sym>; byUri: Map<string, Sym[]> } {
  let n = nestingCache.get(model);
  if (n) return n;
  n = { parents: new Map(), byUri: new Map() };
  for (const s of model.symbols) {
    const list = n.byUri.get(s.uri);
    if (list) list.push(s);
    else n.byUri.set(s.uri, [s]);
  }
  for (const list of n.byUri.values()) {
    const stack: Sym[] = [];
    for (const s of list.sort(byPosition)) {
      while (stack.length && stack[stack.length - 1]!.span.end < s.span.end) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent) n.parents.set(s, parent);
      stack.push(s);
    }
  }
  nestingCache.set(model, n);
  return n;
}

/**
 * The declaration a symbol is declared in (a device's platform, a mapping's driver), from
 * the nesting of spans: the innermost earlier symbol of the file that contains it.
 */
export function parentOf(model: Model, sym: Sym): Sym | undefined {
  return nesting(model).parents.get(sym);
}

/** The file's declarations nested as their blocks nest. */
export function documentSymbols(a: Analysis, uri: string): OutlineSymbol[] {
  const detail = details(a);
  const nodes = new Map<Sym, OutlineSymbol>();
  const roots: OutlineSymbol[] = [];
  for (const s of nesting(a.model).byUri.get(uri) ?? []) {
    const node: OutlineSymbol = { name: s.name, kind: s.kind, detail: detail.get(s), span: s.span, nameSpan: s.nameSpan, children: [] };
    nodes.set(s, node);
    const parent = parentOf(a.model, s);
    const into = parent && nodes.get(parent);
    (into ? into.children : roots).push(node);
  }
  return roots;
}

/**
 * Names matching `query` as a case-insensitive subsequence (`e0n` finds `epyc0-nic`),
 * best first: exact, then prefix, then by how tightly the letters sit.
 */
export function workspaceSymbols(a: Analysis, query: string, limit = 1000): WorkspaceSymbol[] {
  const detail = details(a);
  const q = query.toLowerCase();
  const scored: { score: number; sym: Sym }[] = [];
  for (const s of a.model.symbols) {
    const score = matchScore(s.name.toLowerCase(), q);
    if (score !== undefined) scored.push({ score, sym: s });
  }
  scored.sort(
    (x, y) =>
      x.score - y.score ||
      x.sym.name.localeCompare(y.sym.name) ||
      x.sym.uri.localeCompare(y.sym.uri) ||
      x.sym.span.start - y.sym.span.start,
  );
  return scored.slice(0, limit).map(({ sym }) => ({
    name: sym.name,
    kind: sym.kind,
    uri: sym.uri,
    span: sym.nameSpan,
    container: sym.container,
    detail: detail.get(sym),
  }));
}

/** Lower is better; undefined when `q` is not a subsequence of `name`. */
function matchScore(name: string, q: string): number | undefined {
  if (!q) return 3;
  if (name === q) return 0;
  if (name.startsWith(q)) return 1;
  let at = 0,
    gaps = 0,
    last = -1;
  for (const c of q) {
    const i = name.indexOf(c, at);
    if (i < 0) return undefined;
    if (last >= 0 && i > last + 1) gaps++;
    last = i;
    at = i + 1;
  }
  return 2 + gaps;
}

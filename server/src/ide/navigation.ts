/**
 * Navigation over resolved names: go to definition, find references, document
 * highlights and rename. Everything reads `model.symbols` (declarations) and
 * `model.references` (resolved uses), so a name means here exactly what it means to
 * the simulator: `nic0` in a guest on epyc-a is epyc-a's nic0, never epyc-b's.
 */
import type { Span } from '@iommu-lens/grammar';
import type { Model, Reference, Sym } from '../model';
import { article } from '../model/scope';
import type { Analysis } from './analysis';
import { inside } from './positions';
import { parentOf } from './symbols';

export interface Location {
  uri: string;
  span: Span;
}
export interface TextEdit {
  uri: string;
  span: Span;
  newText: string;
}

/**
 * Every use of each symbol, built once per analysis (references are looked up per request).
 * Keyed by the analysis's model, which a hover's view of it (`forFile`) shares.
 */
const usesCache = new WeakMap<Model, Map<Sym, Reference[]>>();

function usesOf(a: Analysis, sym: Sym): Reference[] {
  let uses = usesCache.get(a.model);
  if (!uses) {
    uses = new Map();
    for (const r of a.model.references) {
      const list = uses.get(r.target);
      if (list) list.push(r);
      else uses.set(r.target, [r]);
    }
    usesCache.set(a.model, uses);
  }
  return uses.get(sym) ?? [];
}

/**
 * The symbol whose name covers `offset`: a resolved use first (a use inside a
 * declaration, like `vf-of pf0`, is about the use), then a declaration's name.
 */
export function symbolAt(a: Analysis, uri: string, offset: number): { sym: Sym; span: Span; isDeclaration: boolean } | undefined {
  const { refs, syms } = namesIn(a, uri);
  for (const r of refs) if (inside(r.span, offset)) return { sym: r.target, span: r.span, isDeclaration: false };
  for (const s of syms) if (inside(s.nameSpan, offset)) return { sym: s, span: s.nameSpan, isDeclaration: true };
  return undefined;
}

const namesCache = new WeakMap<Model, Map<string, { refs: Reference[]; syms: Sym[] }>>();

/**
 * One file's resolved uses and declarations, in model order, split out once per analysis:
 * requests that fire on every cursor move look in one file, not the workspace.
 */
export function namesIn(a: Analysis, uri: string): { refs: Reference[]; syms: Sym[] } {
  let files = namesCache.get(a.model);
  if (!files) {
    files = new Map();
    const entry = (u: string) => {
      let e = files!.get(u);
      if (!e) files!.set(u, (e = { refs: [], syms: [] }));
      return e;
    };
    for (const r of a.model.references) entry(r.uri).refs.push(r);
    for (const s of a.model.symbols) entry(s.uri).syms.push(s);
    namesCache.set(a.model, files);
  }
  return files.get(uri) ?? { refs: [], syms: [] };
}

export function definition(a: Analysis, uri: string, offset: number): Location | undefined {
  const at = symbolAt(a, uri, offset);
  return at && { uri: at.sym.uri, span: at.sym.nameSpan };
}

/** Every use of the name at `offset`, in every file, with its declaration first if asked. */
export function references(a: Analysis, uri: string, offset: number, includeDeclaration = true): Location[] {
  const at = symbolAt(a, uri, offset);
  if (!at) return [];
  const uses = usesOf(a, at.sym).map((r) => ({ uri: r.uri, span: r.span }));
  return includeDeclaration ? [{ uri: at.sym.uri, span: at.sym.nameSpan }, ...uses] : uses;
}

export interface Highlight {
  span: Span;
  kind: 'read' | 'write';
}

/** The name's declaration (write) and uses (read) in this file. */
export function documentHighlights(a: Analysis, uri: string, offset: number): Highlight[] {
  const at = symbolAt(a, uri, offset);
  if (!at) return [];
  const out: Highlight[] = [];
  if (at.sym.uri === uri) out.push({ span: at.sym.nameSpan, kind: 'write' });
  for (const r of usesOf(a, at.sym)) if (r.uri === uri) out.push({ span: r.span, kind: 'read' });
  return out.sort((x, y) => x.span.start - y.span.start);
}

// ----- rename ----------------------------------------------------------------------

/** A name the lexer reads as one word (keywords are contextual, so they are fine). */
const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Which names a symbol's name must differ from: the global namespace, or its kind group
 * within the declaration it is declared in (events: within their firmware, wherever
 * their handler sits). Owners are symbols, not names: two firmwares' drivers `D` are two.
 */
function namespaceOf(model: Model, sym: Sym): { group: string; owner?: Sym } {
  const kind = model.kinds[sym.kind];
  if (kind.global) return { group: 'global' };
  let owner = parentOf(model, sym);
  if (kind.inDeclaration) while (owner && !model.kinds[owner.kind].global) owner = parentOf(model, owner);
  return { group: kind.group ?? sym.kind, owner };
}

export type PrepareRename = { span: Span; placeholder: string } | { error: string };

export function prepareRename(a: Analysis, uri: string, offset: number): PrepareRename {
  const at = symbolAt(a, uri, offset);
  if (!at) return { error: 'There is no declared name here to rename.' };
  if (at.sym.fixed) return { error: `'${at.sym.name}' is fixed by the language; it cannot be renamed.` };
  return { span: at.span, placeholder: at.sym.name };
}

export type RenameResult = { edits: TextEdit[] } | { error: string };

/**
 * Renames a declaration and every use of it across the workspace. Refused when the new
 * name is not a name or is taken in the same namespace (it would re-point uses of the
 * other name, or make a duplicate). Uses are the resolved ones: `nic0` written in a step
 * after a migration is the new platform's nic0 and is left alone.
 */
export function rename(a: Analysis, uri: string, offset: number, newName: string): RenameResult {
  const prepared = prepareRename(a, uri, offset);
  if ('error' in prepared) return prepared;
  const { sym } = symbolAt(a, uri, offset)!;
  if (!NAME.test(newName))
    return { error: `'${newName}' is not a name: a name starts with a letter and holds letters, digits, '_' and '-'.` };
  if (newName === sym.name) return { edits: [] };
  const ns = namespaceOf(a.model, sym);
  const taken = a.model.symbols.find((s) => {
    if (s === sym || s.name !== newName) return false;
    const other = namespaceOf(a.model, s);
    return other.group === ns.group && other.owner === ns.owner;
  });
  if (taken) {
    const line = a.lineIndex(taken.uri).position(taken.nameSpan.start).line + 1;
    return {
      error:
        `'${newName}' is already ${article(a.model.kinds[taken.kind].noun)}` +
        `${taken.container ? ` of ${taken.container}` : ''} (line ${line}${taken.uri === uri ? '' : ` of ${taken.uri}`}).`,
    };
  }
  const uses = usesOf(a, sym);
  const edits: TextEdit[] = [{ uri: sym.uri, span: sym.nameSpan, newText: newName }];
  const seen = new Set<string>([key(sym.uri, sym.nameSpan)]);
  for (const r of uses) {
    const k = key(r.uri, r.span);
    if (seen.has(k)) continue; // one span resolved twice is one edit
    seen.add(k);
    edits.push({ uri: r.uri, span: r.span, newText: newName });
  }
  return { edits };
}

function key(uri: string, span: Span): string {
  return `${uri}#${span.start}:${span.end}`;
}

/**
 * One model from the models of a workspace's components (ide/components.ts). Components
 * share no global names, so their maps never collide. Each map is put back in declaration
 * order (file, then position), the order modelling the workspace as one piece gives, which
 * hovers, completion and quick fixes list things in.
 */
import type { Model, Sym } from './types';

/**
 * The entries of several maps, in declaration order of the symbol each entry names. Runs
 * per keystroke on every platform and guest of a fleet, so it sorts files, not entries:
 * entries are grouped by file, each group ordered by position (already so: a file lies in
 * one component), and the groups joined in file order.
 */
export function inDeclarationOrder<K, V>(maps: readonly Map<K, V>[], symOf: (key: K, value: V) => Sym): Map<K, V> {
  const byFile = new Map<string, [K, V][]>();
  for (const m of maps) {
    for (const entry of m) {
      const uri = symOf(entry[0], entry[1]).uri;
      const group = byFile.get(uri);
      if (group) group.push(entry);
      else byFile.set(uri, [entry]);
    }
  }
  const out = new Map<K, V>();
  for (const uri of [...byFile.keys()].sort()) {
    const group = byFile.get(uri)!;
    group.sort(([ka, va], [kb, vb]) => symOf(ka, va).span.start - symOf(kb, vb).span.start);
    for (const [k, v] of group) out.set(k, v);
  }
  return out;
}

const ownSym = <V extends { sym: Sym }>(_: string, v: V) => v.sym;

export function mergeModels(models: readonly Model[]): Model {
  if (models.length === 1) return models[0]!;
  const m: Model = {
    platforms: inDeclarationOrder(
      models.map((x) => x.platforms),
      ownSym,
    ),
    guests: inDeclarationOrder(
      models.map((x) => x.guests),
      ownSym,
    ),
    pools: inDeclarationOrder(
      models.map((x) => x.pools),
      ownSym,
    ),
    timelines: inDeclarationOrder(
      models.map((x) => x.timelines),
      ownSym,
    ),
    firmwares: inDeclarationOrder(
      models.map((x) => x.firmwares),
      ownSym,
    ),
    xens: inDeclarationOrder(
      models.map((x) => x.xens),
      ownSym,
    ),
    vintfs: inDeclarationOrder(
      models.map((x) => x.vintfs),
      ownSym,
    ),
    comments: new Map(),
    commands: [],
    symbols: [],
    references: [],
    unresolved: [],
  };
  for (const x of models) {
    for (const [k, v] of x.comments) m.comments.set(k, v);
    for (const c of x.commands) m.commands.push(c);
    for (const s of x.symbols) m.symbols.push(s);
    for (const r of x.references) m.references.push(r);
    for (const u of x.unresolved) m.unresolved.push(u);
  }
  return m;
}

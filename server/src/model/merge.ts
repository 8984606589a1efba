/**
 * One model from the models of a workspace's components (ide/workspacePartition.ts). Components
 * share no global names, so their maps never collide. Each map is put back in declaration
 * order (file, then position), the order modelling the workspace as one piece gives, which
 * hovers, completion and quick fixes list things in.
 */
import { emptyModel } from './empty';
import type { ModelSchema } from './part';
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

export function mergeModels(models: readonly Model[], schema: ModelSchema): Model {
  if (models.length === 1) return models[0]!;
  const m = emptyModel(schema) as unknown as Record<string, unknown>;
  const of = (x: Model) => x as unknown as Record<string, unknown>;
  for (const k of schema.maps)
    m[k] = inDeclarationOrder(
      models.map((x) => of(x)[k] as Map<string, { sym: Sym }>),
      ownSym,
    );
  for (const k of schema.lists) {
    const list = m[k] as unknown[];
    for (const x of models) for (const v of of(x)[k] as unknown[]) list.push(v);
  }
  const merged = m as unknown as Model;
  for (const x of models) for (const [k, v] of x.comments) merged.comments.set(k, v);
  return merged;
}

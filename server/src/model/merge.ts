/**
 * One model from the models of a workspace's components (ide/components.ts). Components
 * share no global names, so their maps never collide; they are joined in component order.
 */
import type { Model } from './types';

export function mergeModels(models: readonly Model[]): Model {
  if (models.length === 1) return models[0]!;
  const m: Model = {
    platforms: new Map(), guests: new Map(), pools: new Map(), timelines: new Map(), firmwares: new Map(), comments: new Map(),
    xens: new Map(), vintfs: new Map(), commands: [], symbols: [], references: [], unresolved: [],
  };
  for (const x of models) {
    for (const [k, v] of x.platforms) m.platforms.set(k, v);
    for (const [k, v] of x.guests) m.guests.set(k, v);
    for (const [k, v] of x.pools) m.pools.set(k, v);
    for (const [k, v] of x.timelines) m.timelines.set(k, v);
    for (const [k, v] of x.firmwares) m.firmwares.set(k, v);
    for (const [k, v] of x.xens) m.xens.set(k, v);
    for (const [k, v] of x.vintfs) m.vintfs.set(k, v);
    for (const [k, v] of x.comments) m.comments.set(k, v);
    for (const c of x.commands) m.commands.push(c);
    for (const s of x.symbols) m.symbols.push(s);
    for (const r of x.references) m.references.push(r);
    for (const u of x.unresolved) m.unresolved.push(u);
  }
  return m;
}

/**
 * One simulation from the simulations of a workspace's components: their maps joined in
 * declaration order (as model/merge.ts does),
 * their findings concatenated per engine, and `regionsOf` sent to the component that
 * owns the platform (each keeps its own cache of built groups).
 */
import type { Finding } from '../model/findings';
import { inDeclarationOrder } from '../model/merge';
import type { Platform, Sym } from '../model/types';
import { PlatformRegions } from './platformRegions';
import { ENGINES, type Engine, type Simulation } from './simulate';

/** Maps keyed by model objects, in their declaration order. */
const byKey = <K extends { sym: Sym }, V>(maps: readonly Map<K, V>[]) => inDeclarationOrder(maps, (k) => k.sym);

export function mergeSimulations(
  parts: readonly { platforms: Iterable<Platform>; sim: Simulation }[],
  engines: ReadonlySet<Engine>,
): Simulation {
  if (parts.length === 1) return parts[0]!.sim;
  const owner = new Map<Platform, Simulation>();
  const byEngine = new Map<Engine, Finding[]>();
  const merged: Simulation = {
    findings: [],
    engines,
    byEngine,
    guests: new Map(),
    timelines: new Map(),
    pools: new Map(),
    firmwares: new Map(),
    xen: { runs: new Map(), p2m: new Map() },
    cmdqv: { vintfs: new Map(), routes: new Map() },
    // A platform no component lists (a duplicate declaration) gets its regions built afresh,
    // not cached in a component it does not belong to.
    regionsOf: (p: Platform): PlatformRegions => owner.get(p)?.regionsOf(p) ?? new PlatformRegions(p),
  };
  const sims = parts.map((p) => p.sim);
  merged.guests = byKey(sims.map((x) => x.guests));
  merged.timelines = byKey(sims.map((x) => x.timelines));
  merged.pools = byKey(sims.map((x) => x.pools));
  merged.firmwares = byKey(sims.map((x) => x.firmwares));
  merged.xen.runs = byKey(sims.map((x) => x.xen.runs));
  merged.cmdqv.vintfs = byKey(sims.map((x) => x.cmdqv.vintfs));
  for (const { platforms, sim } of parts) {
    for (const p of platforms) owner.set(p, sim);
    for (const [k, v] of sim.xen.p2m) merged.xen.p2m.set(k, v);
    for (const [k, v] of sim.cmdqv.routes) merged.cmdqv.routes.set(k, v);
    for (const [e, list] of sim.byEngine) {
      const into = byEngine.get(e) ?? [];
      for (const f of list) into.push(f);
      byEngine.set(e, into);
    }
  }
  merged.findings = ENGINES.flatMap((e) => byEngine.get(e) ?? []);
  return merged;
}

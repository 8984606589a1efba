/**
 * One simulation from the simulations of a workspace's components: their maps joined,
 * their findings concatenated per engine, and `regionsOf` sent to the component that
 * owns the platform (each keeps its own cache of built groups).
 */
import type { Finding } from '../model/findings';
import type { Platform } from '../model/types';
import type { PlatformRegions } from './groups';
import { ENGINES, type Engine, type Simulation } from './simulate';

export function mergeSimulations(parts: readonly { platforms: Iterable<Platform>; sim: Simulation }[], engines: ReadonlySet<Engine>): Simulation {
  if (parts.length === 1) return parts[0]!.sim;
  const owner = new Map<Platform, Simulation>();
  const byEngine = new Map<Engine, Finding[]>();
  const merged: Simulation = {
    findings: [], engines, byEngine, guests: new Map(), timelines: new Map(), pools: new Map(), firmwares: new Map(),
    xen: { runs: new Map(), p2m: new Map() }, cmdqv: { vintfs: new Map(), routes: new Map() },
    regionsOf: (p: Platform): PlatformRegions => (owner.get(p) ?? parts[0]!.sim).regionsOf(p),
  };
  for (const { platforms, sim } of parts) {
    for (const p of platforms) owner.set(p, sim);
    for (const [k, v] of sim.guests) merged.guests.set(k, v);
    for (const [k, v] of sim.timelines) merged.timelines.set(k, v);
    for (const [k, v] of sim.pools) merged.pools.set(k, v);
    for (const [k, v] of sim.firmwares) merged.firmwares.set(k, v);
    for (const [k, v] of sim.xen.runs) merged.xen.runs.set(k, v);
    for (const [k, v] of sim.xen.p2m) merged.xen.p2m.set(k, v);
    for (const [k, v] of sim.cmdqv.vintfs) merged.cmdqv.vintfs.set(k, v);
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

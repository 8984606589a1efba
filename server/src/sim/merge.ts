/**
 * One simulation from the simulations of a workspace's components: the guests and each
 * engine's results joined in declaration order (each engine says how: `SimEngine.merge`),
 * their findings concatenated per engine, and `regionsOf` sent to the component that owns
 * the platform (each keeps its own cache of built groups).
 */
import type { Finding } from '../model/findings';
import type { Platform } from '../model/types';
import { mergeByDeclaration } from './engine';
import { PlatformRegions } from './platformRegions';
import { engineIds, resultOf, type Engine, type Simulation } from './simulate';

export function mergeSimulations(
  parts: readonly { platforms: Iterable<Platform>; sim: Simulation }[],
  engines: ReadonlySet<Engine>,
): Simulation {
  if (parts.length === 1) return parts[0]!.sim;
  const sims = parts.map((p) => p.sim);
  const order = sims[0]?.order ?? [];
  const owner = new Map<Platform, Simulation>();
  const byEngine = new Map<Engine, Finding[]>();
  for (const { platforms, sim } of parts) {
    for (const p of platforms) owner.set(p, sim);
    for (const [e, list] of sim.byEngine) {
      const into = byEngine.get(e) ?? [];
      for (const f of list) into.push(f);
      byEngine.set(e, into);
    }
  }
  const results = new Map<Engine, unknown>();
  for (const x of order) if (sims.some((s) => s.results.has(x.id))) results.set(x.id, x.merge(sims.map((s) => resultOf(s, x))));
  return {
    findings: engineIds(order).flatMap((e) => byEngine.get(e) ?? []),
    engines,
    byEngine,
    order,
    guests: mergeByDeclaration(sims.map((x) => x.guests)),
    results,
    // A platform no component lists (a duplicate declaration) gets its regions built afresh,
    // not cached in a component it does not belong to.
    regionsOf: (p: Platform): PlatformRegions => owner.get(p)?.regionsOf(p) ?? new PlatformRegions(p),
  };
}

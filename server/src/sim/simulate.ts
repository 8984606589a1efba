/**
 * The simulator's entry point: from the resolved model, build every platform's groups and
 * regions, start every guest (VFIO, the core's engine), then run each domain's engine in the
 * order given (timelines, pools, firmware, Xen, CMDQV: the registry's). What they compute stays
 * available (`Simulation`) for hovers and the CLI; what fails becomes findings.
 */
import type { Finding } from '../model/findings';
import { internalErrors } from '../model/codes';
import type { Guest, Model, Platform } from '../model/types';
import { VFIO, type EngineInput, type SimEngine } from './engine';
import { PlatformRegions } from './platformRegions';
import { simulateGuests, type GuestCheck, type GuestState } from './vfio';

/**
 * An engine's id: a group of checks a user can leave out while typing (setting
 * `iommuLens.checksWhileTyping`). Syntax and names always run: everything needs them.
 */
export type Engine = string;

export interface Simulation {
  findings: Finding[];
  /** The engines that ran, and what each found (`findings` is their concatenation, in engine order). */
  engines: ReadonlySet<Engine>;
  byEngine: ReadonlyMap<Engine, readonly Finding[]>;
  /** The domain engines it was run with, in order (the merge of components follows them). */
  order: readonly SimEngine[];
  guests: Map<Guest, GuestState>;
  /** Each domain engine's results by id; read them with `resultOf`. */
  results: ReadonlyMap<Engine, unknown>;
  /** Groups and regions of a platform, built on first use. */
  regionsOf(p: Platform): PlatformRegions;
}

/** One engine's results in a simulation (its empty results when it did not run). */
export function resultOf<R>(sim: Simulation, engine: SimEngine<R>): R {
  return sim.results.has(engine.id) ? (sim.results.get(engine.id) as R) : engine.empty();
}

/** Every engine id in order: VFIO, then the domains' engines. */
export const engineIds = (order: readonly SimEngine[]): Engine[] => [VFIO, ...order.map((e) => e.id)];

/** `guestChecks`: the domains' checks VFIO runs as it starts each guest (the registry's GUEST_CHECKS). */
export function simulate(
  model: Model,
  order: readonly SimEngine[],
  engines?: ReadonlySet<Engine>,
  guestChecks: readonly GuestCheck[] = [],
): Simulation {
  const on = (e: Engine) => !engines || engines.has(e);
  const ran = new Set(engineIds(order).filter(on));
  const platforms = new Map<Platform, PlatformRegions>();
  const regionsOf = (p: Platform) => {
    let pr = platforms.get(p);
    if (!pr) platforms.set(p, (pr = new PlatformRegions(p)));
    return pr;
  };
  const byEngine = new Map<Engine, Finding[]>();
  const failed = new Set<Engine>();
  /**
   * Runs one engine. An engine that throws (a bug) loses its own findings and results, gets
   * an `internal-error` in every file of the model, and never stops the others. A scratch
   * list collects the findings of an engine run only as another's input.
   */
  const run = <T>(e: Engine, go: (sink: Finding[]) => T, empty: () => T, needs: readonly Engine[] = []): T => {
    const list: Finding[] = [];
    if (ran.has(e)) byEngine.set(e, list);
    const broken = needs.find((n) => failed.has(n));
    try {
      if (broken) throw new Error(`it needs the ${broken} check, which failed`);
      return go(list);
    } catch (err) {
      failed.add(e);
      list.length = 0;
      if (ran.has(e)) list.push(...internalErrors(model.comments.keys(), `the ${e} check`, err));
      return empty();
    }
  };
  // An engine that needs VFIO weighs every guest's start, so the guests start even when only it is checked.
  const wantGuests = on(VFIO) || order.some((x) => on(x.id) && x.needs.includes(VFIO));
  const noGuests = () => new Map<Guest, GuestState>();
  const guests = wantGuests ? run(VFIO, (sink) => simulateGuests(model, regionsOf, sink, guestChecks), noGuests) : noGuests();
  const input: EngineInput = { model, regionsOf, guests };
  const results = new Map<Engine, unknown>();
  for (const x of order) {
    if (on(x.id))
      results.set(
        x.id,
        run(
          x.id,
          (sink) => x.run(input, sink),
          () => x.empty(),
          x.needs,
        ),
      );
  }
  const findings = engineIds(order).flatMap((e) => byEngine.get(e) ?? []);
  return { findings, engines: ran, byEngine, order, guests, results, regionsOf };
}

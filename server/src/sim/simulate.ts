/**
 * The simulator's entry point: from the resolved model, build every platform's groups
 * and regions, start every guest, replay every timeline, check every pool and run every
 * firmware through ExitBootServices, build every Xen host's IOMMU maps and route every
 * SMMU command batch through its VINTF. What it computes stays available (`Simulation`)
 * for hovers and the CLI; what fails becomes findings.
 */
import type { Finding } from '../model/findings';
import { internalErrors } from '../model/codes';
import type { Firmware, Guest, Model, Platform, Pool, Timeline } from '../model/types';
import { runFirmware } from '../domains/firmware/sim/exitBootServices';
import type { FirmwareRun } from '../domains/firmware/sim/notifyFunctions';
import { PlatformRegions } from './platformRegions';
import { simulateGuests, type GuestState } from './vfio';
import { checkPools, type PoolLayout } from '../domains/pools/sim/pools';
import { runTimelines, type TimelineRun } from '../domains/timelines/sim/runner';
import { runCmdqv, type CmdqvSimulation } from '../domains/cmdqv/sim/cmdqv';
import { runXen, type XenSimulation } from '../domains/xen/sim/xen';

/**
 * The simulator's engines, each a group of checks a user can leave out while typing
 * (setting `iommuLens.checksWhileTyping`). Syntax and names always run: everything needs them.
 */
export const ENGINES = ['vfio', 'timelines', 'pools', 'firmware', 'xen', 'cmdqv'] as const;
export type Engine = (typeof ENGINES)[number];
export const ALL_ENGINES: ReadonlySet<Engine> = new Set(ENGINES);

export interface Simulation {
  findings: Finding[];
  /** The engines that ran, and what each found (`findings` is their concatenation). */
  engines: ReadonlySet<Engine>;
  byEngine: ReadonlyMap<Engine, readonly Finding[]>;
  guests: Map<Guest, GuestState>;
  /** Every timeline replayed: the state after each step. */
  timelines: Map<Timeline, TimelineRun>;
  /** Every pool: the union of its hosts' regions and what a safe guest map may use. */
  pools: Map<Pool, PoolLayout>;
  /** Every firmware run through ExitBootServices. */
  firmwares: Map<Firmware, FirmwareRun>;
  /** Every Xen host's domain maps, and the balloon/free steps replayed against them. */
  xen: XenSimulation;
  /** Every VINTF and where each command of a `commands` block goes. */
  cmdqv: CmdqvSimulation;
  /** Groups and regions of a platform, built on first use. */
  regionsOf(p: Platform): PlatformRegions;
}

export function simulate(model: Model, engines: ReadonlySet<Engine> = ALL_ENGINES): Simulation {
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
  const run = <T>(e: Engine, go: (sink: Finding[]) => T, empty: () => T, needs: Engine[] = []): T => {
    const list: Finding[] = [];
    if (engines.has(e)) byEngine.set(e, list);
    const broken = needs.find((n) => failed.has(n));
    try {
      if (broken) throw new Error(`it needs the ${broken} check, which failed`);
      return go(list);
    } catch (err) {
      failed.add(e);
      list.length = 0;
      if (engines.has(e)) list.push(...internalErrors(model.comments.keys(), `the ${e} check`, err));
      return empty();
    }
  };
  const on = (e: Engine) => engines.has(e);
  // Pools weigh every guest's start, so the guests start even when only pools are checked.
  const guests =
    on('vfio') || on('pools')
      ? run(
          'vfio',
          (sink) => simulateGuests(model, regionsOf, sink),
          () => new Map<Guest, GuestState>(),
        )
      : new Map<Guest, GuestState>();
  const timelines = on('timelines')
    ? run(
        'timelines',
        (sink) => runTimelines(model, regionsOf, sink),
        () => new Map<Timeline, TimelineRun>(),
      )
    : new Map<Timeline, TimelineRun>();
  const pools = on('pools')
    ? run(
        'pools',
        (sink) => checkPools(model, regionsOf, guests, sink),
        () => new Map<Pool, PoolLayout>(),
        ['vfio'],
      )
    : new Map<Pool, PoolLayout>();
  const firmwares = on('firmware')
    ? run(
        'firmware',
        (sink) => new Map([...model.firmwares.values()].map((fw) => [fw, runFirmware(fw, sink)] as const)),
        () => new Map<Firmware, FirmwareRun>(),
      )
    : new Map<Firmware, FirmwareRun>();
  const noXen = (): XenSimulation => ({ runs: new Map(), p2m: new Map() });
  const xen = on('xen') ? run('xen', (sink) => runXen(model, regionsOf, sink), noXen) : noXen();
  const noCmdqv = (): CmdqvSimulation => ({ vintfs: new Map(), routes: new Map() });
  const cmdqv = on('cmdqv') ? run('cmdqv', (sink) => runCmdqv(model, sink), noCmdqv) : noCmdqv();
  const findings = ENGINES.flatMap((e) => byEngine.get(e) ?? []);
  return { findings, engines, byEngine, guests, timelines, pools, firmwares, xen, cmdqv, regionsOf };
}

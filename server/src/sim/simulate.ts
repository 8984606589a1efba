/**
 * The simulator's entry point: from the resolved model, build every platform's groups
 * and regions, start every guest, replay every timeline, check every pool and run every
 * firmware through ExitBootServices. What it computes stays available (`Simulation`)
 * for hovers and the CLI; what fails becomes findings.
 */
import type { Finding } from '../model/findings';
import type { Firmware, Guest, Model, Platform, Pool, Timeline } from '../model/types';
import { runFirmware, type FirmwareRun } from './exitBootServices';
import { PlatformRegions } from './groups';
import { simulateGuests, type GuestState } from './guests';
import { checkPools, type PoolLayout } from './pools';
import { runTimelines, type TimelineRun } from './timeline';

export interface Simulation {
  findings: Finding[];
  guests: Map<Guest, GuestState>;
  /** Every timeline replayed: the state after each step. */
  timelines: Map<Timeline, TimelineRun>;
  /** Every pool: the union of its hosts' regions and what a safe guest map may use. */
  pools: Map<Pool, PoolLayout>;
  /** Every firmware run through ExitBootServices. */
  firmwares: Map<Firmware, FirmwareRun>;
  /** Groups and regions of a platform, built on first use. */
  regionsOf(p: Platform): PlatformRegions;
}

export function simulate(model: Model): Simulation {
  const platforms = new Map<Platform, PlatformRegions>();
  const regionsOf = (p: Platform) => {
    let pr = platforms.get(p);
    if (!pr) platforms.set(p, (pr = new PlatformRegions(p)));
    return pr;
  };
  const findings: Finding[] = [];
  const guests = simulateGuests(model, regionsOf, findings);
  const timelines = runTimelines(model, regionsOf, findings);
  const pools = checkPools(model, regionsOf, guests, findings);
  const firmwares = new Map([...model.firmwares.values()].map((fw) => [fw, runFirmware(fw, findings)] as const));
  return { findings, guests, timelines, pools, firmwares, regionsOf };
}

/**
 * The simulator's entry point: from the resolved model, build every platform's groups
 * and regions, start every guest, replay every timeline, check every pool and run every
 * firmware through ExitBootServices, build every Xen host's IOMMU maps and route every
 * SMMU command batch through its VINTF. What it computes stays available (`Simulation`)
 * for hovers and the CLI; what fails becomes findings.
 */
import type { Finding } from '../model/findings';
import type { Firmware, Guest, Model, Platform, Pool, Timeline } from '../model/types';
import { runFirmware, type FirmwareRun } from './exitBootServices';
import { PlatformRegions } from './groups';
import { simulateGuests, type GuestState } from './guests';
import { checkPools, type PoolLayout } from './pools';
import { runTimelines, type TimelineRun } from './timeline';
import { runCmdqv, type CmdqvSimulation } from './cmdqv';
import { runXen, type XenSimulation } from './xen';

export interface Simulation {
  findings: Finding[];
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
  const xen = runXen(model, regionsOf, findings);
  const cmdqv = runCmdqv(model, findings);
  return { findings, guests, timelines, pools, firmwares, xen, cmdqv, regionsOf };
}

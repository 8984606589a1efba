/**
 * The simulator's entry point: from the resolved model, build every platform's groups
 * and regions and start every guest. What it computes stays available (`Simulation`)
 * for hovers and the CLI; what fails becomes findings.
 */
import type { Finding } from '../model/findings';
import type { Guest, Model, Platform } from '../model/types';
import { PlatformRegions } from './groups';
import { simulateGuests, type GuestState } from './guests';

export interface Simulation {
  findings: Finding[];
  guests: Map<Guest, GuestState>;
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
  return { findings, guests, regionsOf };
}

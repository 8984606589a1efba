/**
 * A guest firmware at ExitBootServices (RULES §7): its drivers' DMA mappings, their
 * notify functions and the IOMMU driver's, run in every order the UEFI specification
 * allows (uefiEvents.ts). What goes wrong in every order is an error; what goes wrong in
 * some orders is a warning that carries one such order.
 *
 * Independence: a driver's notify functions touch only its own device and mappings;
 * the IOMMU protocol's touch every driver's mappings. So each driver is explored alone,
 * projected onto its own notify functions, the IOMMU protocol's that touch its mappings,
 * and whatever signals the events those wait on (their queue position depends on it).
 * The projection is exact: the relative orders it allows are exactly those of the whole
 * firmware. Cost grows with the number of drivers, not with the factorial of it, nor with
 * their square: indexes built once find a projection's functions without walking the others,
 * each function keeps only the actions that can matter to the driver, and a finding's trace
 * lists the driver's projection (around where the problem happens), not every function.
 * Budget: past FIRMWARE_BUDGET a driver's search is cut short, and a driver whose projection
 * alone is too big is checked in one order of the whole firmware; `fw-orders-truncated` says so.
 * Symmetry: drivers whose projections are the same up to names (twenty identical
 * VirtioBlkDxe instances) are explored once, and the verdicts are renamed for each.
 */
import type { Finding } from '../../../model';
import type { Firmware } from '../model/types';
import { atLeast } from '../../../model/versions';
import { finding } from '../codes';
import { driverFindings } from './driverFindings';
import { beforeResignalled, beforeUnsupported, handlerRules, pendingBusMaster } from './handlerRules';
import {
  append,
  BEFORE_EBS_ONCE,
  BEFORE_EBS_SINCE,
  buildSlots,
  eventsOf,
  type EbsSlot,
  fwCheck,
  type FwCheck,
  reachableSlots,
  type FirmwareRun,
} from './notifyFunctions';
import { checkMapping, isCommonBuffer } from './pciIo';
import { independence, Projector, semantics } from './projection';
import { explore, replay, sourceOrder, type Exploration } from './uefiEvents';

/**
 * The search budget of one firmware, over all its drivers: each driver's search gets what
 * the ones before it left. A choice point costs a copy and a key of the queues and of the
 * driver's mappings, so in proportion to the notify functions of the projection and the
 * mappings: the budget counts states times both, 20,000 states of projections up to 32
 * (a driver with 30,000 mappings took minutes for its 20,000 states). A bound of states per search
 * alone let a firmware whose drivers signal each other in a ring (every projection the
 * whole firmware, none shared) cost drivers × bound states, 24 such drivers 20 s per
 * analysis; and a driver with 400 ExitBootServices handlers took 4 s for its 20,000.
 * Building a projection costs its functions and actions, and is charged too.
 */
export const FIRMWARE_BUDGET = 20_000 * 32;
/**
 * What every driver's search gets even when the drivers before it spent the firmware's
 * budget: without it, a driver after a pathological one was not searched at all and its
 * "in every order" errors became warnings. The total stays linear in the drivers. A driver
 * whose projection alone is more than its share in 32 (a thousand IOMMU handlers, each in
 * every driver's projection) is checked in one order of the whole firmware instead.
 */
export const DRIVER_FLOOR = 256 * 32;

// ----- findings --------------------------------------------------------------------------

/**
 * Runs `fw` through ExitBootServices. `reduce: false` explores the whole firmware for every
 * driver, without projection, independence or symmetry: the tests check that both agree.
 */
export function runFirmware(fw: Firmware, out: Finding[], options: { reduce?: boolean } = {}): FirmwareRun {
  const reduce = options.reduce ?? true;
  const uri = fw.sym.uri;
  // EDK II signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES since edk2-stable202302 (9d70d8f20d).
  const beforeRuns = atLeast(fw.edk2, BEFORE_EBS_SINCE);
  const slots = buildSlots(fw, beforeRuns);
  const allEvents = eventsOf(slots);
  const reachable = reachableSlots(slots, allEvents, (s) => s.ebs || !!s.before);
  const early = reachableSlots(slots, allEvents, (s) => !!s.before);
  const projector = new Projector(slots, allEvents, reachable);
  const run: FirmwareRun = {
    slots,
    reachable,
    early,
    left: new Set(),
    unmappers: new Map(),
    unmapAll: projector.unmapAll.map((i) => slots[i]!),
    states: 0,
    visited: 0,
    oneOrder: 0,
  };
  const c = fwCheck(fw, out, run);
  checkHandlers(c, beforeRuns);
  checkMappings(c);
  const truncated = exploreDrivers(c, projector, allEvents, reduce);
  run.visited = projector.visited;
  if (truncated) {
    out.push(
      finding(
        'fw-orders-truncated',
        { uri, span: fw.sym.nameSpan },
        `firmware ${fw.sym.name} has more orders of notify functions than the simulator explores; findings come from ` +
          'the orders explored, and none claims "every order"',
      ),
    );
  }
  return run;
}

/**
 * The rules on each notify function that runs, one action at a time (the order does not
 * matter to them), with who unmaps each mapping by name; and whether this EDK II runs
 * BeforeExitBootServices handlers, and once.
 */
function checkHandlers(c: FwCheck, beforeRuns: boolean): void {
  const { run } = c;
  run.slots.forEach((s, i) => {
    if (!run.reachable[i]) return;
    s.effects.forEach((e, k) => {
      if (e.kind === 'unmap') append(run.unmappers, e.mapping, s);
      // Before the memory map is locked, Unmap() and the memory services are allowed.
      if (!run.early[i]) handlerRules(c, s, s.actions[k]!);
    });
  });
  if (!beforeRuns) beforeUnsupported(c);
  else if (!atLeast(c.fw.edk2, BEFORE_EBS_ONCE)) beforeResignalled(c);
}

/** The rules on each mapping as declared (PciIo's Map() on its buffer), whatever the order of the notify functions. */
function checkMappings(c: FwCheck): void {
  const { fw, confidential } = c;
  const setting = { confidential: !!confidential, dma32: fw.guest?.platform?.arch !== 'arm64' };
  for (const d of fw.drivers)
    for (const m of d.maps.values()) {
      checkMapping(c.uri, m, setting, c.out);
      if (confidential && m.state === 'pending' && m.operation && !isCommonBuffer(m.operation)) pendingBusMaster(c, m, c.run.early);
    }
}

/** The source order of the whole firmware, and the unmap-all that acts first in it. */
interface SourceOrder {
  steps: number[][];
  wipe: number | undefined;
}

/**
 * Each driver's findings from the orders of its projection, explored within the firmware's
 * budget (drivers with the same projection up to names share one exploration); a driver past
 * the budget is checked in the source order. True when some driver's orders were not all explored.
 */
function exploreDrivers(c: FwCheck, projector: Projector, allEvents: Map<string, number[]>, reduce: boolean): boolean {
  const { fw, run } = c;
  const shared = new Map<string, Exploration>();
  let truncated = false;
  let budget = FIRMWARE_BUDGET;
  /** Recorded once, for the drivers checked in one order. */
  let recorded: SourceOrder | undefined;
  for (const d of fw.drivers) {
    const allowance = Math.max(budget, DRIVER_FLOOR);
    const p = reduce ? projector.project(d, allowance / 32) : projector.whole(d);
    if (typeof p === 'number') {
      budget = Math.max(0, budget - p);
      recorded ??= sourceOrderOf(run.slots, allEvents, projector);
      const q = projector.touching(d, recorded.wipe);
      run.oneOrder++;
      truncated = true;
      driverFindings(c, d, q, replay(recorded.steps, q.views, semantics(q, d)));
      continue;
    }
    budget = Math.max(0, budget - p.size);
    const signature = reduce ? projector.signature(p, d) : undefined;
    let x = signature === undefined ? undefined : shared.get(signature);
    if (!x) {
      const size = Math.max(32, p.views.length + p.maps.length);
      x = explore(p.views, eventsOf(p.views), semantics(p, d), {
        independent: reduce ? independence(p, d) : [],
        maxStates: Math.floor(Math.max(budget, DRIVER_FLOOR) / size),
      });
      budget = Math.max(0, budget - x.states * size);
      if (signature !== undefined) shared.set(signature, x);
      run.states += x.states;
      truncated ||= x.truncated;
    }
    driverFindings(c, d, p, x);
  }
  return truncated;
}

/** The source order, and the unmap-all that acts first in it. */
function sourceOrderOf(slots: readonly EbsSlot[], allEvents: Map<string, number[]>, projector: Projector): SourceOrder {
  const steps = sourceOrder(slots, allEvents);
  let wipe: number | undefined;
  let first = Infinity;
  for (const i of projector.unmapAll) {
    slots[i]!.effects.forEach((e, k) => {
      const at = steps[i]![k];
      if (e.kind === 'unmap-all' && at !== undefined && at < first) {
        first = at;
        wipe = i;
      }
    });
  }
  return { steps, wipe };
}

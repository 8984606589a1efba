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
import type { Span } from '@iommu-lens/grammar';
import type { Finding, Fix, Firmware, FwAction, FwDriver, FwHandler, FwMapping, Related } from '../../../model';
import { atLeast, releaseName, since } from '../../../model/versions';
import { finding } from '../codes';
import { checkMapping, EFI_OPERATION, isCommonBuffer } from './pciIo';
import { poolUses } from './sharedPool';
import { explore, replay, sourceOrder, type Exploration, type Semantics, type Slot } from './uefiEvents';

/** The first EDK II release whose CoreExitBootServices signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES (9d70d8f20d). */
export const BEFORE_EBS_SINCE = 'edk2-stable202302';
/** The first EDK II release that signals it only on the first ExitBootServices() call (e8668d2dee). */
export const BEFORE_EBS_ONCE = 'edk2-stable202502';

/** What an action does to the state the exploration tracks. */
type Effect = { kind: 'stop'; driver: FwDriver } | { kind: 'unmap'; mapping: FwMapping } | { kind: 'unmap-all' } | { kind: 'none' };

/** A notify function: a handler, or the second event behind an `unmap-all deferred`. */
export interface EbsSlot extends Slot {
  /** Its position in `FirmwareRun.slots`. */
  index: number;
  handler: FwHandler;
  driver?: FwDriver;
  /** Set on the second event of `unmap-all deferred`: that action. */
  deferredOf?: FwAction;
  actions: FwAction[];
  effects: Effect[];
}

export interface FirmwareRun {
  slots: EbsSlot[];
  /** Slots that run at all: ExitBootServices and BeforeExitBootServices handlers and the events they signal. */
  reachable: boolean[];
  /** Slots that run before the memory map is locked: BeforeExitBootServices handlers and the events they signal. */
  early: boolean[];
  /** Mappings still present after ExitBootServices (in some order). */
  left: Set<FwMapping>;
  /** Who unmaps each mapping by name (`unmap`) during ExitBootServices; `unmappedBy` adds `unmapAll`. */
  unmappers: Map<FwMapping, EbsSlot[]>;
  /** Notify functions that run and unmap every mapping (kept once, not once per mapping). */
  unmapAll: EbsSlot[];
  /** Choice points explored, over all drivers (for the benchmark). */
  states: number;
  /** Slots and actions looked at while projecting, over all drivers: about linear in the firmware, not drivers × slots. */
  visited: number;
  /** Drivers past the budget whose projection was not built: checked in one order of the whole firmware. */
  oneOrder: number;
}

/** Who unmaps `m` at ExitBootServices, in source order. */
export function unmappedBy(run: FirmwareRun, m: FwMapping): EbsSlot[] {
  const own = run.unmappers.get(m) ?? [];
  if (!run.unmapAll.length) return own;
  return [...new Set([...own, ...run.unmapAll])].sort((a, b) => a.index - b.index);
}

/** What DMA into a mapping torn down does, per technology: RMP or private-GPA checks fault; plain IOMMU translation faults. */
const FAULT = {
  'sev-snp': "the device's next access faults in the IOMMU (the page is guest-owned again in the RMP)",
  tdx: "the device's next access to the now private page is blocked",
  none: "the device's next access hits an IOMMU fault",
} as const;

const TPL_NAME = { notify: 'TPL_NOTIFY', callback: 'TPL_CALLBACK' } as const;

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
/**
 * Boot services other than the memory ones that deserve a word in a notify function. The
 * rest are used there upstream and are no finding: XhcExitBootService cancels its timer with
 * SetTimer(), IoMmuExitBoot calls SignalEvent() (RULES §7.5).
 */
const SERVICE_NOTES: Partial<Record<string, string>> = {
  CloseEvent:
    "edk2's CoreCloseEvent() ends in CoreFreePool (Event), so this frees memory indirectly; upstream XhcExitBootService does the same and nothing fails (RULES §7.5)",
  WaitForEvent:
    'it returns EFI_UNSUPPORTED above TPL_APPLICATION (CoreWaitForEvent), and the timer is stopped before the event group is signalled: a notify function "should not depend on timer events" (UEFI CreateEvent) (RULES §7.5)',
};
/** Entries of a trace (one order, on hover) around where the problem happens; the rest are counted. */
export const TRACE_LIMIT = 12;
/** Functions an order names in a message. */
const MESSAGE_LIMIT = 6;
/** `stop-dma` locations a fault lists. */
const STOPS_LIMIT = 3;

/** "VirtioNetDxe's TPL_CALLBACK ExitBootServices handler". */
export function slotLabel(s: EbsSlot): string {
  const owner = s.driver ? `${s.driver.sym.name}'s` : "the IOMMU protocol's";
  if (s.deferredOf) return `${owner} deferred unmap-all (second ${TPL_NAME[s.tpl]} event)`;
  const what = s.ebs ? 'ExitBootServices handler' : s.before ? 'BeforeExitBootServices handler' : `handler of event ${s.event}`;
  return `${owner} ${TPL_NAME[s.tpl]} ${what}`;
}

/**
 * The notify functions of `fw`. `beforeRuns`: whether the DXE core signals the BeforeExitBootServices
 * group at all (edk2-stable202302 on); when it does not, those handlers wait for nothing and never run.
 */
function buildSlots(fw: Firmware, beforeRuns: boolean): EbsSlot[] {
  const slots: Omit<EbsSlot, 'index'>[] = [];
  const deferred: Omit<EbsSlot, 'index'>[] = [];
  for (const h of fw.handlers) {
    const signals: (string | undefined)[] = [];
    const effects: Effect[] = [];
    for (const a of h.actions) {
      if (a.verb === 'unmap-all' && a.deferred) {
        const event = `#deferred${deferred.length}`;
        deferred.push({
          handler: h,
          driver: h.driver,
          deferredOf: a,
          // IoMmuDxe creates its second event at TPL_CALLBACK whatever the TPL of its ExitBootServices
          // handler ("permitted ... only at TPL_CALLBACK"; CcIoMmu.c InstallIoMmuProtocol, since 7aee391fa3).
          tpl: 'callback',
          ebs: false,
          event,
          signals: [undefined],
          actions: [a],
          effects: [{ kind: 'unmap-all' }],
        });
        signals.push(event);
        effects.push({ kind: 'none' });
        continue;
      }
      signals.push(a.verb === 'signal' ? a.event : undefined);
      effects.push(
        a.verb === 'stop-dma' && h.driver
          ? { kind: 'stop', driver: h.driver }
          : a.verb === 'unmap' && a.mapping
            ? { kind: 'unmap', mapping: a.mapping }
            : a.verb === 'unmap-all'
              ? { kind: 'unmap-all' }
              : { kind: 'none' },
      );
    }
    slots.push({
      handler: h,
      driver: h.driver,
      tpl: h.tpl,
      ebs: h.event.ebs,
      before: 'before' in h.event && beforeRuns,
      event: 'name' in h.event ? h.event.name : undefined,
      signals,
      actions: h.actions,
      effects,
    });
  }
  return [...slots, ...deferred].map((s, index) => ({ ...s, index }));
}

function eventsOf(slots: readonly Slot[]): Map<string, number[]> {
  const events = new Map<string, number[]>();
  slots.forEach((s, i) => {
    if (s.event !== undefined) append(events, s.event, i);
  });
  return events;
}

/** The slots that run from the group handlers `seed` picks: those handlers and every event they signal, transitively. */
function reachableSlots(slots: readonly EbsSlot[], events: ReadonlyMap<string, number[]>, seed: (s: EbsSlot) => boolean): boolean[] {
  const seen = slots.map((s) => seed(s));
  const work = seen.flatMap((x, i) => (x ? [i] : []));
  const signalled = new Set<string>();
  while (work.length) {
    for (const e of slots[work.pop()!]!.signals) {
      if (e === undefined || signalled.has(e)) continue;
      signalled.add(e);
      for (const j of events.get(e) ?? [])
        if (!seen[j]) {
          seen[j] = true;
          work.push(j);
        }
    }
  }
  return seen;
}

// ----- one driver's projection ---------------------------------------------------------

/**
 * A notify function as one driver's projection sees it: only the actions that can matter to
 * that driver, what they do to its device and mappings and the signals of events the
 * projection waits on. The others change nothing for it, and an IOMMU handler that unmaps
 * every driver's mapping by name would otherwise cost each projection all of its actions.
 */
interface View extends Slot {
  of: EbsSlot;
  /** Its position in the firmware's slots. */
  index: number;
  driver?: FwDriver;
  /** Per action kept, its index in `of.actions`. */
  kept: number[];
  effects: Effect[];
}

/** A driver's projection, in local terms (slot, action and mapping indices) so that it can be shared. */
interface Projection {
  /** In source order. */
  views: View[];
  maps: FwMapping[];
  mapIndex: Map<FwMapping, number>;
  /** Its functions and the actions they keep: what building it cost. */
  size: number;
}

/**
 * What a view reads or writes of driver `d`'s state: `dev` (is the device doing DMA; read
 * by every unmap and by the end of d's ExitBootServices handlers) and d's mappings by index.
 */
function footprint(v: View, d: FwDriver, p: Projection): Set<string> {
  const fp = new Set<string>();
  if (v.driver === d && v.ebs) fp.add('dev');
  for (const e of v.effects) {
    if (e.kind === 'stop' && e.driver === d) fp.add('dev');
    // An unmap-all touches every mapping: one key `*`, which every unmap holds too.
    if (e.kind === 'unmap' && e.mapping.driver === d) {
      fp.add('dev');
      fp.add('*');
      fp.add(`m${p.mapIndex.get(e.mapping)}`);
    }
    if (e.kind === 'unmap-all') {
      fp.add('dev');
      fp.add('*');
    }
  }
  return fp;
}

/** Whether action `k` of `s` can matter to `d` when the projection waits on `events`. */
function matters(s: EbsSlot, k: number, d: FwDriver, events: ReadonlySet<string>): boolean {
  const e = s.effects[k]!;
  const signal = s.signals[k];
  return (
    (signal !== undefined && events.has(signal)) ||
    e.kind === 'unmap-all' ||
    (e.kind === 'stop' && e.driver === d) ||
    (e.kind === 'unmap' && e.mapping.driver === d)
  );
}

/**
 * Projects the firmware onto one driver: its own functions, those that unmap its mappings
 * (`unmap` of one, or `unmap-all`), and, closing over signals, one function of each kind
 * that signals an event the projection waits on (their order decides when it is queued).
 * Two functions that touch nothing of the driver, run at the same TPL on the same trigger
 * and signal the same events in the same order are of one kind: whichever runs first queues
 * those events, and the other then queues nothing, so keeping one of them loses no order.
 * Indexes built once per firmware make a projection cost about its own size, not the
 * firmware's (a firmware of n drivers used to cost n × its functions to project).
 */
class Projector {
  private readonly own = new Map<FwDriver, number[]>();
  /** Reachable functions that `unmap` a mapping of the driver. */
  private readonly unmapsOf = new Map<FwDriver, number[]>();
  /** Reachable functions with an `unmap-all`: in every driver's projection. */
  readonly unmapAll: number[] = [];
  private readonly wipes: boolean[];
  /** Per slot, the actions that may matter to any driver: signals and unmap-alls. */
  private readonly common: number[][];
  /** Per slot, its `unmap` actions by the driver whose mapping they name. */
  private readonly unmapsBy: Map<FwDriver, number[]>[];
  /** Per event, its reachable signallers, grouped by kind (each kind in source order). */
  private readonly kinds = new Map<string, number[][]>();
  /** What the unmap-alls weigh in every projection, at least. */
  private wipeWeight = 0;
  /** Slots and actions looked at while projecting, over all drivers. */
  visited = 0;

  constructor(
    private readonly slots: readonly EbsSlot[],
    events: ReadonlyMap<string, number[]>,
    reachable: readonly boolean[],
  ) {
    this.common = slots.map(() => []);
    this.wipes = slots.map(() => false);
    this.unmapsBy = slots.map(() => new Map());
    const kindOf = new Map<string, number[]>();
    const privateTo = privateEvents(slots, events);
    slots.forEach((s, i) => {
      if (s.driver) append(this.own, s.driver, i);
      s.effects.forEach((e, k) => {
        if (s.signals[k] !== undefined || e.kind === 'unmap-all') this.common[i]!.push(k);
        if (e.kind === 'unmap') append(this.unmapsBy[i]!, e.mapping.driver, k);
      });
      if (!reachable[i]) return;
      for (const d of this.unmapsBy[i]!.keys()) append(this.unmapsOf, d, i);
      if (s.effects.some((e) => e.kind === 'unmap-all')) {
        this.wipes[i] = true;
        this.unmapAll.push(i);
        this.wipeWeight += 1 + this.common[i]!.length;
      }
      // A driver's signal of an event private to it is nothing to any other driver.
      const signalled = s.signals.filter((e): e is string => e !== undefined && (!s.driver || privateTo.get(e) !== s.driver));
      if (!signalled.length) return;
      const key = JSON.stringify([s.tpl, s.ebs ? 'ebs' : s.before ? 'before' : s.event, signalled]);
      const kind = kindOf.get(key);
      if (kind) {
        kind.push(i);
        return;
      }
      const members = [i];
      kindOf.set(key, members);
      for (const e of new Set(signalled)) {
        const list = this.kinds.get(e);
        if (list) list.push(members);
        else this.kinds.set(e, [members]);
      }
    });
  }

  /** Whether slot `i` can touch `d`'s device or mappings (every such reachable slot starts in d's projection). */
  private touches(i: number, d: FwDriver): boolean {
    return this.slots[i]!.driver === d || this.wipes[i]! || this.unmapsBy[i]!.has(d);
  }

  /** A slot and the actions of it that may matter to `d`: what it adds to a projection. */
  private weight(i: number, d: FwDriver): number {
    const s = this.slots[i]!;
    return 1 + (s.driver === d ? s.actions.length : this.common[i]!.length + (this.unmapsBy[i]!.get(d)?.length ?? 0));
  }

  /**
   * `d`'s projection, or, as soon as it weighs more than `cap`, the weight reached (what the
   * attempt cost, to charge to the budget): then the caller checks `d` in one order instead.
   */
  project(d: FwDriver, cap: number): Projection | number {
    // Thousands of IOMMU unmap-alls: every projection is too big, and finding out costs nothing.
    if (this.wipeWeight > cap) return 0;
    const set = new Set<number>();
    const work: number[] = [];
    let size = 0;
    const add = (i: number): boolean => {
      this.visited++;
      if (!set.has(i)) {
        set.add(i);
        work.push(i);
        size += this.weight(i, d);
      }
      return size <= cap;
    };
    for (const list of [this.own.get(d), this.unmapsOf.get(d), this.unmapAll]) {
      for (const i of list ?? []) if (!add(i)) return size;
    }
    const wanted = new Set<string>();
    while (work.length) {
      const e = this.slots[work.pop()!]!.event;
      if (e === undefined || wanted.has(e)) continue;
      wanted.add(e);
      for (const kind of this.kinds.get(e) ?? []) {
        // Members that touch d are in the set already; the first that does not stands for the rest.
        const first = kind.find((i) => {
          this.visited++;
          return !this.touches(i, d);
        });
        if (first !== undefined && !add(first)) return size;
      }
    }
    return this.projection(d, [...set], size);
  }

  /**
   * What can act on `d` in one fixed order: its own functions, those that unmap its mappings
   * by name, and `wipe`, the unmap-all that runs first in that order (after it, every other
   * unmap-all finds nothing mapped).
   */
  touching(d: FwDriver, wipe: number | undefined): Projection {
    const set = new Set([...(this.own.get(d) ?? []), ...(this.unmapsOf.get(d) ?? []), ...(wipe === undefined ? [] : [wipe])]);
    return this.projection(d, [...set], 0);
  }

  /** The whole firmware, every action kept: the unreduced search the tests compare with. */
  whole(d: FwDriver): Projection {
    return this.projection(
      d,
      this.slots.map((_, i) => i),
      this.slots.length,
      false,
    );
  }

  private projection(d: FwDriver, slots: number[], size: number, reduce = true): Projection {
    slots.sort((a, b) => a - b);
    const events = new Set(slots.map((i) => this.slots[i]!.event).filter((e): e is string => e !== undefined));
    const views = slots.map((i): View => {
      const s = this.slots[i]!;
      const candidates = !reduce || s.driver === d ? s.actions.map((_, k) => k) : merge(this.common[i]!, this.unmapsBy[i]!.get(d) ?? []);
      this.visited += 1 + candidates.length;
      const kept = reduce ? candidates.filter((k) => matters(s, k, d, events)) : candidates;
      return {
        of: s,
        index: i,
        driver: s.driver,
        tpl: s.tpl,
        ebs: s.ebs,
        before: s.before,
        event: s.event,
        kept,
        signals: kept.map((k) => s.signals[k]),
        effects: kept.map((k) => s.effects[k]!),
      };
    });
    const maps = [...d.maps.values()];
    return { views, maps, mapIndex: new Map(maps.map((m, i) => [m, i])), size };
  }

  /** What the search of a projection depends on, names left out, so that drivers of the same shape share one search. */
  signature(p: Projection, d: FwDriver): string {
    const names = new Map<string, number>();
    const ev = (e: string | undefined): number => {
      if (e === undefined) return -1;
      let n = names.get(e);
      if (n === undefined) names.set(e, (n = names.size));
      return n;
    };
    const code = (e: Effect) =>
      e.kind === 'unmap' ? `u${p.mapIndex.get(e.mapping)}` : e.kind === 'stop' ? 's' : e.kind === 'unmap-all' ? 'a' : 'n';
    const shape = p.views.map((v) => [
      v.driver === d ? 'self' : 'other',
      v.tpl,
      v.ebs,
      !!v.before,
      ev(v.event),
      v.signals.map(ev),
      v.effects.map(code),
    ]);
    return JSON.stringify([shape, p.maps.map((m) => m.state)]);
  }
}

/**
 * Events only one driver can care about, by that driver: all their functions are its own,
 * unmap nothing of another driver's and signal nothing (a driver deferring its stop-dma to
 * an event of its own). No other driver's projection ever waits on such an event.
 */
function privateEvents(slots: readonly EbsSlot[], events: ReadonlyMap<string, number[]>): Map<string, FwDriver> {
  const owners = new Map<string, FwDriver>();
  for (const [e, handlers] of events) {
    const owner = slots[handlers[0]!]!.driver;
    const mine = (i: number) =>
      slots[i]!.driver === owner &&
      slots[i]!.effects.every((x) => x.kind !== 'unmap-all') &&
      slots[i]!.signals.every((x) => x === undefined);
    if (owner && handlers.every(mine)) owners.set(e, owner);
  }
  return owners;
}

/** Adds `v` to `k`'s list, once when the same `v` comes several times in a row. */
function append<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const xs = m.get(k);
  if (!xs) m.set(k, [v]);
  else if (xs.at(-1) !== v) xs.push(v);
}

/** Two ascending lists as one. */
function merge(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0, j = 0; i < a.length || j < b.length; ) out.push(j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!);
  return out;
}

/** A verdict with what it is about: `slot` is the local function that acts, for faults and double unmaps. */
interface Witness {
  every: boolean;
  order: number[];
  kind: string;
  slot?: number;
}

interface DriverState {
  active: boolean;
  mapped: boolean[];
  ebsLeft: number;
}

function semantics(p: Projection, d: FwDriver): Semantics<DriverState> {
  const local = p.views;
  const ebsSlots = local.filter((s) => s.driver === d && s.ebs).length;
  const unmap = (s: DriverState, slot: number, action: number, m: number, emit: (k: string) => void) => {
    if (!s.mapped[m]) return;
    if (s.active && p.maps[m]!.state === 'pending') emit(`fault:${slot}:${action}:${m}`);
    s.mapped[m] = false;
  };
  return {
    init: () => ({
      active: p.maps.some((m) => m.state === 'pending'),
      mapped: p.maps.map((m) => m.state !== 'completed'),
      ebsLeft: ebsSlots,
    }),
    clone: (s) => ({ active: s.active, mapped: [...s.mapped], ebsLeft: s.ebsLeft }),
    key: (s) => `${s.active ? 1 : 0}${s.mapped.map((b) => (b ? 1 : 0)).join('')}`,
    act(s, slot, action, emit) {
      const e = local[slot]!.effects[action]!;
      if (e.kind === 'stop' && e.driver === d) s.active = false;
      else if (e.kind === 'unmap-all') for (const m of p.maps.keys()) unmap(s, slot, action, m, emit);
      else if (e.kind === 'unmap' && e.mapping.driver === d) {
        const m = p.mapIndex.get(e.mapping)!;
        if (!s.mapped[m]) emit(`double:${slot}:${action}:${m}`);
        unmap(s, slot, action, m, emit);
      }
    },
    returned(s, slot, emit) {
      const h = local[slot]!;
      if (h.driver !== d || !h.ebs) return;
      if (--s.ebsLeft === 0 && s.active) emit('after');
    },
    end(s, emit) {
      if (!ebsSlots && s.active) emit('after');
      s.mapped.forEach((m, i) => {
        if (m) emit(`left:${i}`);
      });
    },
  };
}

/**
 * Footprints decide which slots commute with all the others of the projection: those whose
 * every key no other slot has (counted once, not compared pairwise) and that signal nothing.
 */
function independence(p: Projection, d: FwDriver): boolean[] {
  const prints = p.views.map((v) => footprint(v, d, p));
  const holders = new Map<string, number>();
  for (const fp of prints) for (const x of fp) holders.set(x, (holders.get(x) ?? 0) + 1);
  return p.views.map((v, i) => !v.signals.some((e) => e !== undefined) && [...prints[i]!].every((x) => holders.get(x) === 1));
}

/** Which entries of an order of `n` to show, at most `limit`: all, the first ones, or the first two and those up to `at`. */
function windowOf(n: number, at: number, limit: number): [number, number][] {
  if (n <= limit) return [[0, n]];
  if (at < limit) return [[0, limit]];
  return [
    [0, 2],
    [at + 1 - (limit - 2), at + 1],
  ];
}

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
  const live = reachable.filter((r) => r).length;
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
  const confidential = fw.guest?.confidential?.technology;
  const pool = poolUses(fw);
  /** What a BusMasterRead/Write Unmap() does with its bounce buffer, for a message (IoMmuUnmapWorker, IoMmuFreeBounceBuffer). */
  const bounceRelease = (m: FwMapping): string => {
    if (!m.operation || isCommonBuffer(m.operation)) return '';
    const use = pool.get(m);
    if (use?.slot !== undefined)
      return ` and zeroes its bounce buffer and returns the pool slot, with no re-encryption and no FreePages() (${use.why})`;
    return ` and zeroes, re-encrypts and frees its bounce buffer with FreePages()${use ? ` (${use.why})` : ''}`;
  };
  const loc = (span: Span, message: string): Related => ({ uri, span, message });
  const head = (h: FwHandler): Span => ({ start: h.stmt.span.start, end: (h.stmt.tpl ?? h.stmt.event ?? h.stmt).span.end });

  slots.forEach((s, i) => {
    if (!reachable[i]) return;
    s.effects.forEach((e, k) => {
      if (e.kind === 'unmap') append(run.unmappers, e.mapping, s);
      // Before the memory map is locked, Unmap() and the memory services are allowed.
      if (!early[i]) handlerRules(s, s.actions[k]!);
    });
  });
  if (!beforeRuns) beforeUnsupported();
  else if (!atLeast(fw.edk2, BEFORE_EBS_ONCE)) beforeResignalled();

  const setting = { confidential: !!confidential, dma32: fw.guest?.platform?.arch !== 'arm64' };
  for (const d of fw.drivers)
    for (const m of d.maps.values()) {
      checkMapping(uri, m, setting, out);
      if (confidential && m.state === 'pending' && m.operation && !isCommonBuffer(m.operation)) pendingBusMaster(m);
    }

  const shared = new Map<string, Exploration>();
  let truncated = false;
  let budget = FIRMWARE_BUDGET;
  /** The source order of the whole firmware, recorded once for the drivers checked in one order. */
  let recorded: { steps: number[][]; wipe: number | undefined } | undefined;
  for (const d of fw.drivers) {
    const allowance = Math.max(budget, DRIVER_FLOOR);
    const p = reduce ? projector.project(d, allowance / 32) : projector.whole(d);
    if (typeof p === 'number') {
      budget = Math.max(0, budget - p);
      recorded ??= record();
      const q = projector.touching(d, recorded.wipe);
      run.oneOrder++;
      truncated = true;
      driverFindings(d, q, replay(recorded.steps, q.views, semantics(q, d)));
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
    driverFindings(d, p, x);
  }
  run.visited = projector.visited;
  if (truncated) {
    out.push(
      finding(
        'fw-orders-truncated',
        { uri, span: fw.sym.nameSpan },
        `firmware ${fw.sym.name} has more orders of notify functions than the simulator explores; findings come from the orders explored, and none claims "every order"`,
      ),
    );
  }
  return run;

  /** The source order, and the unmap-all that acts first in it. */
  function record(): { steps: number[][]; wipe: number | undefined } {
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

  /**
   * `free`, a driver's Unmap() (which frees) and the memory services, in any notify function
   * that runs. UEFI forbids only the Memory Allocation Services there (CreateEvent,
   * EVT_SIGNAL_EXIT_BOOT_SERVICES; Module Writer's Guide 8.7); edk2 neither refuses nor
   * fails them (CoreTerminateMemoryMap locks nothing), so they are warnings (RULES §0.1).
   */
  function handlerRules(s: EbsSlot, a: FwAction): void {
    const where = slotLabel(s);
    const rule = `an ExitBootServices notify function "is not allowed to use the Memory Allocation Services ... because these services modify the current memory map" (UEFI CreateEvent, EVT_SIGNAL_EXIT_BOOT_SERVICES)`;
    if (a.verb === 'free' && a.mapping) {
      out.push(finding('fw-free-in-handler', { uri, span: a.node.span }, `${where} frees ${a.mapping.sym.name}: ${rule} (RULES §7.5)`));
    } else if (a.verb === 'unmap' && a.mapping?.operation && s.driver && confidential) {
      // IoMmuUnmap() is IoMmuUnmapWorker(MemoryMapLocked=FALSE): FreePool(MAP_INFO) for every operation.
      const m = a.mapping;
      const op = m.operation!;
      const bounce = bounceRelease(m);
      out.push(
        finding(
          'fw-free-in-handler',
          { uri, span: a.node.span },
          `Unmap() of ${m.sym.name} (${EFI_OPERATION[op]}) in ${where} calls FreePool() on its MAP_INFO${bounce} ` +
            '(IoMmuUnmap -> IoMmuUnmapWorker(MemoryMapLocked=FALSE)): ' +
            `${rule}. Since edk2 9ed745b967 (every release with IoMmuDxe) "device drivers are no longer expected to call Unmap() in their ` +
            `ExitBootServices() notification functions": stop the device and leave the mapping to IoMmuDxe's deferred unmap-all (RULES §7.2, §7.5)`,
          { related: [loc(m.stmt.span, `${m.sym.name} is mapped ${EFI_OPERATION[op]} here`)] },
        ),
      );
    } else if (a.verb === 'call') {
      const service = a.node.service?.text ?? '';
      const memory = /^(Allocate|Free)(Pool|Pages|Buffer)$/.test(service);
      const note = memory
        ? `${service}() is a Memory Allocation Service: ${rule}${
            service.startsWith('Allocate') ? '; the memory it hands out may be memory the OS already counts as free' : ''
          } (RULES §7.5)`
        : SERVICE_NOTES[service];
      if (!note) return;
      out.push(
        finding('fw-boot-service-in-handler', { uri, span: a.node.span }, `${where} calls ${service}(): ${note}`, {
          severity: memory ? 'warning' : 'information',
        }),
      );
    }
  }

  /** BeforeExitBootServices handlers on an EDK II that never signals the group. */
  function beforeUnsupported(): void {
    for (const h of fw.handlers) {
      if (!('before' in h.event)) continue;
      out.push(
        finding(
          'fw-before-ebs-unsupported',
          { uri, span: head(h) },
          `${fw.sym.name} is ${releaseName('edk2', fw.edk2!)}: EDK II signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES only ${since('edk2', BEFORE_EBS_SINCE)} ` +
            '(CoreExitBootServices, 9d70d8f20d), so this handler never runs and what it does is not done (RULES §7.7)',
          { related: fw.edk2Stmt ? [loc(fw.edk2Stmt.span, `the release is named here`)] : [] },
        ),
      );
    }
  }

  /**
   * edk2-stable202302 to edk2-stable202411 signal the BeforeExitBootServices group on every
   * ExitBootServices() call. A change to the memory map there (allowed: the map is not locked yet)
   * makes the loader's MapKey stale, so the first call fails with EFI_INVALID_PARAMETER; the loader
   * reads the map again and retries (Linux's efi_exit_boot_services does), and every handler runs a
   * second time. Whether a FreePool() releases a page is not in the description, so a warning: it
   * takes a map change, the loader's retry and a release before edk2-stable202502 (RULES §0.1).
   */
  function beforeResignalled(): void {
    for (const h of fw.handlers) {
      if (!('before' in h.event)) continue;
      for (const a of h.actions) {
        const again = secondRun(a);
        if (!again) continue;
        out.push(
          finding(
            'fw-before-ebs-resignal',
            { uri, span: a.node.span },
            `${again[0]}, which can change the memory map (freeing or allocating pages does). Any change in these handlers makes an OS ` +
              `loader's MapKey stale: its first ExitBootServices() fails (EFI_INVALID_PARAMETER) and it calls again (Linux's ` +
              `efi_exit_boot_services retries once). ${releaseName('edk2', fw.edk2!)} ` +
              `signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES on every call (CoreExitBootServices; only once ${since('edk2', BEFORE_EBS_ONCE)}, ` +
              `e8668d2dee, as UEFI 2.10 errata A requires), so this handler runs twice: ${again[1]} (RULES §7.7)`,
            {
              related: [
                loc(head(h), 'the BeforeExitBootServices handler'),
                ...(fw.edk2Stmt ? [loc(fw.edk2Stmt.span, 'the release is named here')] : []),
              ],
            },
          ),
        );
      }
    }
  }

  /** What an action in a BeforeExitBootServices handler does to the memory map, and what its second run does. */
  function secondRun(a: FwAction): [string, string] | undefined {
    const m = a.mapping;
    if (a.verb === 'free' && m) return [`this frees ${m.sym.name}`, 'the second run frees it again'];
    // A driver's Unmap() through IoMmuDxe frees its MAP_INFO (IoMmuUnmapWorker, MemoryMapLocked=FALSE).
    if (a.verb === 'unmap' && m?.operation && confidential)
      return [`Unmap() of ${m.sym.name} frees its MAP_INFO`, `its second Unmap() hands IoMmuDxe the MAP_INFO the first one freed`];
    const service = a.verb === 'call' ? (a.node.service?.text ?? '') : '';
    if (/^(Allocate|Free)(Pool|Pages|Buffer)$/.test(service))
      return [
        `${service}() here`,
        service.startsWith('Free')
          ? `the second run frees the same memory again`
          : `the second run allocates again and the first block leaks`,
      ];
    return undefined;
  }

  /**
   * A BusMasterRead/Write mapping with DMA pending at ExitBootServices is upstream's own design
   * (VirtioNetDxe's TX packets); it matters only when a driver's Unmap() of it runs there (and
   * frees) or when no IOMMU cleanup reaches it (RULES §7.4).
   */
  function pendingBusMaster(m: FwMapping): void {
    const op = EFI_OPERATION[m.operation!];
    const upstream =
      `upstream VirtioNetDxe keeps TX packets mapped ${op === 'BusMasterRead' ? op : 'BusMasterRead'} and only resets the device at ExitBootServices ` +
      "(VirtioNetMapTxBuf, VirtioNetExitBoot), and IoMmuDxe's deferred unmap-all cleans up without freeing (IoMmuUnmapAllMappings, edk2 7aee391fa3)";
    const unmaps = (run.unmappers.get(m) ?? []).filter((s) => s.driver && !early[s.index]);
    if (unmaps.length) {
      const related = unmaps.flatMap((s) =>
        s.actions
          .filter((a) => a.verb === 'unmap' && a.mapping === m)
          .map((a) => loc(a.node.span, `${slotLabel(s)} unmaps ${m.sym.name} here`)),
      );
      out.push(
        finding(
          'fw-pending-bus-master',
          { uri, span: m.stmt.operation!.span },
          `${m.sym.name} is ${op} with DMA pending at ExitBootServices, and a notify function of ${m.driver.sym.name} unmaps it there, ` +
            `which frees (fw-free-in-handler). Leave it mapped: ${upstream} (RULES §7.4)`,
          { severity: 'warning', related },
        ),
      );
    } else if (!projector.unmapAll.length) {
      out.push(
        finding(
          'fw-pending-bus-master',
          { uri, span: m.stmt.operation!.span },
          `${m.sym.name} is ${op} with DMA pending at ExitBootServices and no IOMMU unmap-all runs, so its bounce buffer stays shared ` +
            `(see fw-mapping-left). That is the missing cleanup, not the operation: ${upstream} (RULES §7.3, §7.4)`,
          { severity: 'information' },
        ),
      );
    }
  }

  /**
   * Findings of driver `d` from the verdicts of its projection `p`. A trace (hover) is the
   * witness order of the projection around where the problem happens, then one line for the
   * firmware's other notify functions: they run in between but change nothing for `d`.
   */
  function driverFindings(d: FwDriver, p: Projection, x: Exploration): void {
    const local = p.views;
    const device = d.device?.sym.name ?? `${d.sym.name}'s device`;
    const others = live - local.filter((v) => reachable[v.index]).length;
    const ownEbs = local.flatMap((s, i) => (s.driver === d && s.ebs ? [i] : []));
    // Findings share witness orders: index each once, not once per finding.
    const positions = new Map<number[], Map<number, number>>();
    const position = (order: number[], slot: number) => {
      let m = positions.get(order);
      if (!m) positions.set(order, (m = new Map(order.map((g, n) => [g, n]))));
      return m.get(slot) ?? -1;
    };
    /** Where in `v.order` the problem happens: its acting function, the end of d's handlers, or the end. */
    const at = (v: Witness) => {
      if (v.slot !== undefined) return position(v.order, v.slot);
      if (v.kind === 'after' && ownEbs.length) return ownEbs.reduce((last, i) => Math.max(last, position(v.order, i)), -1);
      return v.order.length - 1;
    };
    const trace = (v: Witness): Related[] => {
      const t: Related[] = [];
      const gap = (n: number) => t.push(loc(fw.sym.nameSpan, `... ${n} more`));
      let shown = 0;
      for (const [from, to] of windowOf(v.order.length, at(v), TRACE_LIMIT)) {
        if (from > shown) gap(from - shown);
        for (let n = from; n < to; n++) t.push(loc(head(local[v.order[n]!]!.of.handler), `${n + 1}. ${slotLabel(local[v.order[n]!]!.of)}`));
        shown = to;
      }
      if (v.order.length > shown) gap(v.order.length - shown);
      if (others) {
        t.push(
          loc(
            fw.sym.nameSpan,
            `and ${others} other notify function${others > 1 ? 's' : ''} of firmware ${fw.sym.name}, in between: ` +
              `${others > 1 ? 'none changes' : 'it does not change'} what happens to ${device} or ${d.sym.name}'s mappings`,
          ),
        );
      }
      return t;
    };
    // The first few: a long handler stopping many times would make every fault list them all.
    const stopping = local.flatMap((v) => (v.driver === d ? v.of.actions.filter((a) => a.verb === 'stop-dma') : []));
    const stops = stopping
      .slice(0, STOPS_LIMIT)
      .map((a, i) =>
        loc(
          a.node.span,
          i === STOPS_LIMIT - 1 && stopping.length > STOPS_LIMIT
            ? `${device} stops DMA here (and at ${stopping.length - STOPS_LIMIT} more places)`
            : `${device} stops DMA here`,
        ),
      );
    const inOrder = (v: Witness) => {
      if (v.every) return 'in every order the UEFI specification allows';
      const parts = windowOf(v.order.length, at(v), MESSAGE_LIMIT).map(([from, to]) =>
        v.order
          .slice(from, to)
          .map((i) => slotLabel(local[i]!.of))
          .join(', then '),
      );
      const more = v.order.length > MESSAGE_LIMIT ? ` (${v.order.length} functions in all)` : '';
      return `in some orders the UEFI specification allows, e.g. ${parts.join(', then ..., then ')}${more}`;
    };

    // Group per acting statement: one finding per action, listing the mappings it hits.
    const groups = new Map<string, Witness & { action: FwAction; acting: EbsSlot; maps: FwMapping[] }>();
    for (const [key, v] of x.verdicts) {
      const [kind, a, b, c] = key.split(':');
      if (kind === 'fault' || kind === 'double') {
        const view = local[Number(a)]!;
        const action = view.of.actions[view.kept[Number(b)]!]!;
        const id = `${kind}:${a}:${b}:${v.every}`;
        const g = groups.get(id) ?? { action, acting: view.of, maps: [], every: v.every, order: v.order, kind, slot: Number(a) };
        g.maps.push(p.maps[Number(c)]!);
        groups.set(id, g);
      } else if (kind === 'left') {
        leftFinding(p.maps[Number(a)]!, { ...v, kind });
      } else if (kind === 'after') {
        afterFinding({ ...v, kind });
      }
    }
    for (const g of groups.values()) {
      const names = g.maps.map((m) => m.sym.name).join(', ');
      const severity = g.every ? 'error' : 'warning';
      const what = g.action.verb === 'unmap-all' ? `${slotLabel(g.acting)} unmaps every mapping` : `${slotLabel(g.acting)} unmaps ${names}`;
      if (g.kind === 'fault') {
        out.push(
          finding(
            'fw-teardown-before-stop',
            { uri, span: g.action.node.span },
            `${what} while ${device} may still do DMA into ${names} (pending), ${inOrder(g)}: ${FAULT[confidential ?? 'none']}. Tear mappings down only after ${d.sym.name} has stopped the device (RULES §7.5)`,
            { severity, related: [...stops, ...g.maps.map((m) => loc(m.stmt.span, `${m.sym.name}: DMA pending`))], trace: trace(g) },
          ),
        );
      } else {
        const why = g.maps.every((m) => m.state === 'completed')
          ? `${names} ${g.maps.length > 1 ? 'are' : 'is'} \`completed\`: ${d.sym.name} unmapped ${g.maps.length > 1 ? 'them' : 'it'} before its call returned`
          : `another notify function has already torn ${names} down, ${inOrder(g)}`;
        out.push(
          finding(
            'fw-double-unmap',
            { uri, span: g.action.node.span },
            `Unmap() of a mapping that is gone: ${why}. The Mapping handle is stale (IoMmuDxe would unlink and re-encrypt a MAP_INFO that is no longer on its list)`,
            {
              severity,
              related: g.maps.map((m) => loc(m.stmt.span, `${m.sym.name} is mapped here`)),
              trace: g.every ? undefined : trace(g),
            },
          ),
        );
      }
    }

    function leftFinding(m: FwMapping, v: Witness): void {
      run.left.add(m);
      const still = `${m.sym.name} of ${d.sym.name} is still mapped when ExitBootServices returns${v.every ? '' : ` ${inOrder(v)}`}`;
      if (!confidential) {
        // IoMmuDxeEntryPoint installs the IOMMU protocol only under SEV or TDX; elsewhere PciIo.Map() goes to the root bridge.
        out.push(
          finding(
            'fw-mapping-left',
            { uri, span: m.sym.nameSpan },
            `${still}, but guest ${fw.guest?.sym.name ?? '?'} is not confidential: OVMF's IoMmuDxe installs IoMmuAbsentProtocol outside SEV/TDX, ` +
              'so Map() went to the root bridge, which maps in place (bouncing only above 4 GiB, through boot-services memory the OS reclaims); ' +
              'no IOMMU mapping and no shared memory are left behind (RULES §7.3)',
            { severity: 'information', trace: v.every ? undefined : trace(v) },
          ),
        );
        return;
      }
      const leak = `its ${m.operation && isCommonBuffer(m.operation) ? 'buffer' : 'bounce buffer'} stays shared (decrypted) with the host after ExitBootServices (${confidential === 'tdx' ? 'TDX' : 'SEV-SNP'}), readable and writable by the hypervisor`;
      out.push(
        finding(
          'fw-mapping-left',
          { uri, span: m.sym.nameSpan },
          `${still}: ${leak}. Unmap it in the IOMMU protocol's deferred unmap-all (RULES §7.3, §7.5)`,
          { severity: v.every ? 'error' : 'warning', trace: v.every ? undefined : trace(v) },
        ),
      );
    }

    function afterFinding(v: Witness): void {
      const own = local.filter((v) => v.driver === d && v.ebs).map((v) => v.of);
      const pending = p.maps
        .filter((m) => m.state === 'pending')
        .map((m) => m.sym.name)
        .join(', ');
      const later = local.find(
        (v) => v.driver === d && !v.ebs && reachable[v.index] && v.of.actions.some((a) => a.verb === 'stop-dma'),
      )?.of;
      const why = !own.length
        ? `${d.sym.name} has no ExitBootServices handler`
        : later
          ? `its stop-dma runs only in ${slotLabel(later)}, queued behind other notify functions`
          : `its ExitBootServices handler never stops the device`;
      const at = own[0] ? head(own[0].handler) : d.sym.nameSpan;
      // A stop that comes later still ends the DMA inside ExitBootServices: a broken "must", not a failure (RULES §0.1, §7.6).
      const outlives = !later;
      const consequence = outlives
        ? 'nothing stops it, so its DMA outlives ExitBootServices and "may corrupt memory that is now owned by the operating system"'
        : 'the DMA still ends inside ExitBootServices, but the Driver Writer\'s Guide (25.2.1, for network controllers) says the handler "must ... disable all further DMA activity"';
      out.push(
        finding(
          'fw-dma-after-handler',
          { uri, span: at },
          `${device} still does DMA into ${pending} when ${d.sym.name}'s ExitBootServices handling is over${v.every ? '' : ` ${inOrder(v)}`}: ${why}; ${consequence} (RULES §7.6)`,
          { severity: outlives && v.every ? 'error' : 'warning', fixes: stopDmaFix(own[0]), trace: v.every ? undefined : trace(v) },
        ),
      );
    }

    /** Inserts `stop-dma` first in the handler, or adds a handler. Indentation follows the 2-space convention. */
    function stopDmaFix(own: EbsSlot | undefined): Fix[] {
      const title = `Stop ${device}'s DMA first in ${d.sym.name}'s ExitBootServices handler`;
      const insert = (at: number, newText: string): Fix[] => [{ title, edits: [{ uri, span: { start: at, end: at }, newText }] }];
      if (!own) {
        const last = d.decl.items.at(-1);
        if (last) return insert(last.span.end, '\n    on exit-boot-services tpl callback stop-dma');
        return d.decl.braces ? insert(d.decl.braces.open.end, ' on exit-boot-services tpl callback stop-dma') : [];
      }
      const h = own.handler.stmt;
      const first = h.actions[0];
      if (h.braces) {
        if (!first) return insert(h.braces.open.end, ' stop-dma');
        return insert(first.span.start, first.span.start - h.braces.open.end <= 1 ? 'stop-dma; ' : 'stop-dma\n      ');
      }
      if (first) {
        return [
          {
            title,
            edits: [
              { uri, span: { start: first.span.start, end: first.span.start }, newText: '{ stop-dma; ' },
              { uri, span: { start: first.span.end, end: first.span.end }, newText: ' }' },
            ],
          },
        ];
      }
      return insert(h.span.end, ' stop-dma');
    }
  }
}

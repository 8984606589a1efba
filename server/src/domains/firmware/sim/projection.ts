/**
 * One driver's projection of a firmware (see exitBootServices.ts): its own notify functions,
 * the IOMMU protocol's that touch its mappings, and whatever signals the events those wait on;
 * the state the order search keeps for it, and which of its steps are independent.
 */
import type { FwDriver, FwMapping } from '../model/types';
import { append, type EbsSlot, type Effect } from './notifyFunctions';
import type { Semantics, Slot } from './uefiEvents';

/**
 * A notify function as one driver's projection sees it: only the actions that can matter to
 * that driver, what they do to its device and mappings and the signals of events the
 * projection waits on. The others change nothing for it, and an IOMMU handler that unmaps
 * every driver's mapping by name would otherwise cost each projection all of its actions.
 */
export interface View extends Slot {
  of: EbsSlot;
  /** Its position in the firmware's slots. */
  index: number;
  driver?: FwDriver;
  /** Per action kept, its index in `of.actions`. */
  kept: number[];
  effects: Effect[];
}

/** A driver's projection, in local terms (slot, action and mapping indices) so that it can be shared. */
export interface Projection {
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
export class Projector {
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

/** Two ascending lists as one. */
function merge(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0, j = 0; i < a.length || j < b.length; ) out.push(j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!);
  return out;
}

/** A verdict with what it is about: `slot` is the local function that acts, for faults and double unmaps. */
export interface Witness {
  every: boolean;
  order: number[];
  kind: string;
  slot?: number;
}

export interface DriverState {
  active: boolean;
  mapped: boolean[];
  ebsLeft: number;
}

export function semantics(p: Projection, d: FwDriver): Semantics<DriverState> {
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
export function independence(p: Projection, d: FwDriver): boolean[] {
  const prints = p.views.map((v) => footprint(v, d, p));
  const holders = new Map<string, number>();
  for (const fp of prints) for (const x of fp) holders.set(x, (holders.get(x) ?? 0) + 1);
  return p.views.map((v, i) => !v.signals.some((e) => e !== undefined) && [...prints[i]!].every((x) => holders.get(x) === 1));
}

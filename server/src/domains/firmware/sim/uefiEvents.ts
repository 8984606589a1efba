/**
 * The UEFI event queues at ExitBootServices, and the exploration of every order of notify
 * functions they allow (RULES §7.5; UEFI spec, CreateEvent/SignalEvent; EDK II
 * `MdeModulePkg/Core/Dxe/Event/Event.c`):
 *
 * - CoreExitBootServices() first signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES (since
 *   edk2-stable202302, 9d70d8f20d) and dispatches it, and everything it signals, to the end;
 *   only then does it lock the memory map and signal the ExitBootServices group.
 * - ExitBootServices() signals the EFI_EVENT_GROUP_EXIT_BOOT_SERVICES group: every
 *   notify function of the group is queued at once, TPL_NOTIFY ones in one unordered batch
 *   and TPL_CALLBACK ones in another. Higher TPLs are dispatched first.
 * - SignalEvent() from a notify function queues the event's notify functions behind
 *   everything already queued at their TPL. If that TPL is above the one running, they
 *   run at once, before the signalling function goes on (restoring the TPL dispatches them).
 *   An event that is pending is not queued twice; one that has already run is not queued
 *   again (real firmware would loop; the simulation runs each notify function once).
 *
 * Exploring "every order" is a search over the choice made each time several notify
 * functions of one batch are ready. Two reductions keep it small; both are exact:
 * - states are memoised: orders that reach the same queues, stack and state are explored
 *   once, so n unordered functions cost at most 2^n states, not n!;
 * - a function marked independent (it touches no state any other touches, and signals
 *   nothing) commutes with all of them, so it is run first instead of being branched on.
 * The caller does the bigger reduction: it projects the firmware onto the functions that
 * can touch one driver's state (see exitBootServices.ts). When even that is too big for its
 * budget, `sourceOrder` records one order of the whole firmware once and `replay` reads
 * each driver's functions back from it.
 */

export type Tpl = 'notify' | 'callback';

const LEVEL: Record<Tpl, number> = { callback: 8, notify: 16 };
const TPLS: Tpl[] = ['notify', 'callback'];

export interface Slot {
  tpl: Tpl;
  /** Registered for ExitBootServices (else it waits on `event`, or is `before`). */
  ebs: boolean;
  /** Registered for EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES: runs, with all it signals, before every `ebs` slot. */
  before?: boolean;
  event?: string;
  /** Per action, the event it signals (if it is a `signal`). */
  signals: (string | undefined)[];
}

/** What the notify functions do to the caller's state; `emit` records a problem key. */
export interface Semantics<S> {
  init(): S;
  clone(s: S): S;
  key(s: S): string;
  act(s: S, slot: number, action: number, emit: (key: string) => void): void;
  returned(s: S, slot: number, emit: (key: string) => void): void;
  end(s: S, emit: (key: string) => void): void;
}

type Next =
  | { kind: 'choose'; batch: Batch }
  | { kind: 'act'; slot: number; action: number }
  | { kind: 'return'; slot: number }
  | { kind: 'end' };

/**
 * Notify functions queued together (unordered among themselves). Taking the first is O(1),
 * so running one order of a batch of thousands costs its length, not its square.
 */
class Batch {
  constructor(
    private items: number[],
    private head = 0,
  ) {}
  get size(): number {
    return this.items.length - this.head;
  }
  get first(): number {
    return this.items[this.head]!;
  }
  list(): number[] {
    return this.items.slice(this.head);
  }
  take(slot: number): void {
    if (this.items[this.head] === slot) this.head++;
    else this.items.splice(this.items.indexOf(slot, this.head), 1);
  }
  clone(): Batch {
    return new Batch(this.list());
  }
}

/** A FIFO of batches per TPL, with the same O(1) front. */
class Queue {
  constructor(
    private batches: Batch[] = [],
    private head = 0,
  ) {}
  get front(): Batch | undefined {
    return this.batches[this.head];
  }
  push(b: Batch): void {
    this.batches.push(b);
  }
  shift(): void {
    this.head++;
  }
  clone(): Queue {
    return new Queue(this.batches.slice(this.head).map((b) => b.clone()));
  }
  key(): string {
    return this.batches
      .slice(this.head)
      .map((b) => b.list().join(','))
      .join('|');
  }
}

/**
 * The event queues and the stack of running notify functions. Within each batch the
 * functions marked independent come first (in source order, then the others), so the
 * search finds one, when there is one, at the front.
 */
class Dispatcher {
  private stack: { slot: number; action: number }[] = [];
  private queues: Record<Tpl, Queue> = { notify: new Queue(), callback: new Queue() };
  private done: boolean[] = [];
  /**
   * Events signalled so far. The first signal queues all of an event's functions at once, so
   * afterwards each of them is queued, running or done, and a later signal queues nothing.
   */
  private signalled = new Set<string>();
  /** The ExitBootServices group has been signalled (after the BeforeExitBootServices group drained). */
  private ebsSignalled = false;

  constructor(
    private readonly slots: readonly Slot[],
    private readonly events: ReadonlyMap<string, number[]>,
    private readonly independent: readonly boolean[],
    init = true,
  ) {
    if (!init) return;
    this.done = slots.map(() => false);
    this.enqueue(slots.flatMap((s, i) => (s.before ? [i] : [])));
  }

  /** Signals the ExitBootServices group: every `ebs` slot, one batch per TPL. */
  private signalEbs(): void {
    this.ebsSignalled = true;
    this.enqueue(this.slots.flatMap((s, i) => (s.ebs ? [i] : [])));
  }

  /** Queues one batch per TPL of `fresh`, behind what is already queued there. */
  private enqueue(fresh: number[]): void {
    for (const tpl of TPLS) {
      const batch = fresh.filter((i) => this.slots[i]!.tpl === tpl);
      const first = batch.filter((i) => this.independent[i]);
      if (batch.length) this.queues[tpl].push(new Batch(first.length ? [...first, ...batch.filter((i) => !this.independent[i])] : batch));
    }
  }

  clone(): Dispatcher {
    const c = new Dispatcher(this.slots, this.events, this.independent, false);
    c.stack = this.stack.map((f) => ({ ...f }));
    c.queues = { notify: this.queues.notify.clone(), callback: this.queues.callback.clone() };
    c.done = [...this.done];
    c.signalled = new Set(this.signalled);
    c.ebsSignalled = this.ebsSignalled;
    return c;
  }

  /** The state, for memoising (what was signalled shows in the queues, the stack and `done`). */
  key(): string {
    const q = TPLS.map((t) => this.queues[t].key()).join('/');
    const phase = this.ebsSignalled ? 'E' : 'B';
    return `${phase}${this.stack.map((f) => `${f.slot}.${f.action}`).join(' ')}#${q}#${this.done.map((d) => (d ? 1 : 0)).join('')}`;
  }

  next(): Next {
    const top = this.stack.at(-1);
    const level = top ? LEVEL[this.slots[top.slot]!.tpl] : 0;
    for (const tpl of TPLS) {
      if (LEVEL[tpl] <= level) break;
      const batch = this.queues[tpl].front;
      if (batch) return { kind: 'choose', batch };
    }
    if (!top) {
      if (this.ebsSignalled) return { kind: 'end' };
      this.signalEbs();
      return this.next();
    }
    if (top.action < this.slots[top.slot]!.signals.length) return { kind: 'act', slot: top.slot, action: top.action };
    return { kind: 'return', slot: top.slot };
  }

  /** Takes `slot` out of the front batch of its queue and runs it. */
  start(slot: number): void {
    const q = this.queues[this.slots[slot]!.tpl];
    const batch = q.front!;
    batch.take(slot);
    if (!batch.size) q.shift();
    this.stack.push({ slot, action: 0 });
  }

  /** The running function finished its current action. */
  advance(): void {
    const top = this.stack.at(-1)!;
    const event = this.slots[top.slot]!.signals[top.action];
    top.action++;
    if (event === undefined || this.signalled.has(event)) return;
    this.signalled.add(event);
    this.enqueue(this.events.get(event) ?? []);
  }

  pop(): void {
    this.done[this.stack.pop()!.slot] = true;
  }
}

export interface Verdict {
  /** The problem happens in every allowed order. */
  every: boolean;
  /** One order in which it happens: slots in the order they start. */
  order: number[];
}

export interface Exploration {
  verdicts: Map<string, Verdict>;
  /** Distinct choice points visited. */
  states: number;
  /** The search hit its bound; verdicts come from one order only and `every` is false. */
  truncated: boolean;
}

interface Result {
  all: Set<string>;
  some: Map<string, number[]>;
  path: number[];
}

class Truncated extends Error {}

/** Runs every allowed order of `slots` against `sem` and says which problems happen in all, or in some. */
export function explore<S>(
  slots: readonly Slot[],
  events: ReadonlyMap<string, number[]>,
  sem: Semantics<S>,
  options: { independent?: readonly boolean[]; maxStates?: number } = {},
): Exploration {
  const independent = options.independent ?? [];
  const maxStates = options.maxStates ?? 20_000;
  const memo = new Map<string, Result>();
  let states = 0;

  /** Runs to the next choice point and explores it (or, with `oneOrder`, takes the first function each time). */
  const run = (d: Dispatcher, s: S, oneOrder: boolean): Result => {
    const emitted = new Set<string>();
    const path: number[] = [];
    const emit = (k: string) => {
      emitted.add(k);
    };
    for (;;) {
      const n = d.next();
      if (n.kind === 'act') {
        sem.act(s, n.slot, n.action, emit);
        d.advance();
        continue;
      }
      if (n.kind === 'return') {
        d.pop();
        sem.returned(s, n.slot, emit);
        continue;
      }
      if (n.kind === 'end') {
        sem.end(s, emit);
        return prefixed(emitted, path, { all: new Set(), some: new Map(), path: [] });
      }
      // Independent functions come first in their batch: running one first loses no order.
      const first = n.batch.first;
      if (oneOrder || independent[first] || n.batch.size === 1) {
        d.start(first);
        path.push(first);
        continue;
      }
      const key = `${d.key()}@${sem.key(s)}`;
      let r = memo.get(key);
      if (!r) {
        if (++states > maxStates || path.length > 1_000) throw new Truncated();
        r = branch(d, s, n.batch.list());
        memo.set(key, r);
      }
      return prefixed(emitted, path, r);
    }
  };

  const branch = (d: Dispatcher, s: S, choices: number[]): Result => {
    const results = choices.map((slot) => {
      const c = d.clone();
      c.start(slot);
      return prefixed(new Set(), [slot], run(c, sem.clone(s), false));
    });
    const first = results[0]!;
    const all = new Set([...first.all].filter((k) => results.every((r) => r.all.has(k))));
    const some = new Map<string, number[]>();
    for (const r of results) for (const [k, p] of r.some) if (!some.has(k)) some.set(k, p);
    return { all, some, path: first.path };
  };

  let result: Result;
  let truncated = false;
  try {
    result = run(new Dispatcher(slots, events, independent), sem.init(), false);
  } catch (e) {
    if (!(e instanceof Truncated)) throw e;
    truncated = true;
    const one = run(new Dispatcher(slots, events, independent), sem.init(), true);
    result = { all: new Set(), some: one.some, path: one.path };
  }
  const verdicts = new Map<string, Verdict>();
  for (const [k, order] of result.some) verdicts.set(k, { every: result.all.has(k), order });
  return { verdicts, states, truncated };
}

/**
 * Problems emitted before a choice point happen on every path through it. Problems found on
 * the same path share one witness array: a run that emits many problems (a handler with
 * thousands of unmaps) would otherwise copy its whole path once per problem.
 */
function prefixed(emitted: Set<string>, path: number[], r: Result): Result {
  if (!emitted.size && !path.length) return r;
  const extended = new Map<number[], number[]>();
  const extend = (p: number[]) => {
    if (!path.length) return p;
    let e = extended.get(p);
    if (!e) extended.set(p, (e = [...path, ...p]));
    return e;
  };
  const full = extend(r.path);
  const some = new Map<string, number[]>();
  for (const k of emitted) some.set(k, full);
  for (const [k, p] of r.some) if (!some.has(k)) some.set(k, extend(p));
  return { all: emitted.size ? new Set([...emitted, ...r.all]) : r.all, some, path: full };
}

/**
 * One order of `slots`, always taking the first queued function (source order): for each
 * slot, the positions in that order of its actions and then of its return (empty if it never
 * runs). `replay` reads a subset of the slots back from it.
 */
export function sourceOrder(slots: readonly Slot[], events: ReadonlyMap<string, number[]>): number[][] {
  const d = new Dispatcher(slots, events, []);
  const steps: number[][] = slots.map(() => []);
  let at = 0;
  for (;;) {
    const n = d.next();
    if (n.kind === 'end') return steps;
    if (n.kind === 'choose') {
      d.start(n.batch.first);
      continue;
    }
    steps[n.slot]!.push(at++);
    if (n.kind === 'act') d.advance();
    else d.pop();
  }
}

/** A slot as `replay` reads it: its index where the steps were recorded, and which of its actions `sem` sees (in order). */
export interface Part {
  index: number;
  kept: readonly number[];
}

/**
 * The problems of `sem` in the one order `steps` recorded (from `sourceOrder`), reading only
 * the slots `local` (`sem` numbers them, and the actions each keeps, from 0). Exact for that
 * order only when nothing left out acts on `sem`'s state: nothing is claimed for every order.
 */
export function replay<S>(steps: readonly number[][], local: readonly Part[], sem: Semantics<S>): Exploration {
  const run: { at: number; slot: number; action: number }[] = [];
  local.forEach(({ index, kept }, slot) => {
    const at = steps[index]!;
    if (!at.length) return;
    for (const [action, k] of kept.entries()) run.push({ at: at[k]!, slot, action });
    run.push({ at: at.at(-1)!, slot, action: -1 });
  });
  run.sort((a, b) => a.at - b.at);
  const s = sem.init();
  const emitted = new Set<string>();
  const emit = (k: string) => {
    emitted.add(k);
  };
  for (const step of run) {
    if (step.action >= 0) sem.act(s, step.slot, step.action, emit);
    else sem.returned(s, step.slot, emit);
  }
  sem.end(s, emit);
  // Slots in the order they start (their first step, kept or not).
  const start = (slot: number) => steps[local[slot]!.index]![0]!;
  const order = local.flatMap((p, slot) => (steps[p.index]!.length ? [slot] : [])).sort((a, b) => start(a) - start(b));
  return { verdicts: new Map([...emitted].map((k) => [k, { every: false, order }])), states: 0, truncated: true };
}

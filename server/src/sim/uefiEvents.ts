/**
 * The UEFI event queues at ExitBootServices, and the exploration of every order of notify
 * functions they allow (RULES §7.5; UEFI spec, CreateEvent/SignalEvent; EDK II
 * `MdeModulePkg/Core/Dxe/Event/Event.c`):
 *
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
 * can touch one driver's state (see exitBootServices.ts).
 */

export type Tpl = 'notify' | 'callback';

const LEVEL: Record<Tpl, number> = { callback: 8, notify: 16 };
const TPLS: Tpl[] = ['notify', 'callback'];

export interface Slot {
  tpl: Tpl;
  /** Registered for ExitBootServices (else it waits on `event`). */
  ebs: boolean;
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
  | { kind: 'choose'; options: number[] }
  | { kind: 'act'; slot: number; action: number }
  | { kind: 'return'; slot: number }
  | { kind: 'end' };

/** The event queues and the stack of running notify functions. */
class Dispatcher {
  private stack: { slot: number; action: number }[] = [];
  private queues: Record<Tpl, number[][]> = { notify: [], callback: [] };
  private done: boolean[];
  private queued: boolean[];

  constructor(private readonly slots: readonly Slot[], private readonly events: ReadonlyMap<string, number[]>, init = true) {
    this.done = slots.map(() => false);
    this.queued = slots.map((s) => init && s.ebs);
    if (!init) return;
    for (const tpl of TPLS) {
      const batch = slots.flatMap((s, i) => (s.ebs && s.tpl === tpl ? [i] : []));
      if (batch.length) this.queues[tpl].push(batch);
    }
  }

  clone(): Dispatcher {
    const c = new Dispatcher(this.slots, this.events, false);
    c.stack = this.stack.map((f) => ({ ...f }));
    c.queues = { notify: this.queues.notify.map((b) => [...b]), callback: this.queues.callback.map((b) => [...b]) };
    c.done = [...this.done];
    c.queued = [...this.queued];
    return c;
  }

  key(): string {
    const q = TPLS.map((t) => this.queues[t].map((b) => b.join(',')).join('|')).join('/');
    return `${this.stack.map((f) => `${f.slot}.${f.action}`).join(' ')}#${q}#${this.done.map((d) => (d ? 1 : 0)).join('')}`;
  }

  next(): Next {
    const top = this.stack.at(-1);
    const level = top ? LEVEL[this.slots[top.slot]!.tpl] : 0;
    for (const tpl of TPLS) {
      if (LEVEL[tpl] <= level) break;
      const batch = this.queues[tpl][0];
      if (batch) return { kind: 'choose', options: batch };
    }
    if (!top) return { kind: 'end' };
    if (top.action < this.slots[top.slot]!.signals.length) return { kind: 'act', slot: top.slot, action: top.action };
    return { kind: 'return', slot: top.slot };
  }

  /** Takes `slot` out of the front batch of its queue and runs it. */
  start(slot: number): void {
    const q = this.queues[this.slots[slot]!.tpl];
    const batch = q[0]!;
    batch.splice(batch.indexOf(slot), 1);
    if (!batch.length) q.shift();
    this.queued[slot] = false;
    this.stack.push({ slot, action: 0 });
  }

  /** The running function finished its current action. */
  advance(): void {
    const top = this.stack.at(-1)!;
    const event = this.slots[top.slot]!.signals[top.action];
    top.action++;
    if (event === undefined) return;
    const running = new Set(this.stack.map((f) => f.slot));
    const fresh = (this.events.get(event) ?? []).filter((i) => !this.queued[i] && !this.done[i] && !running.has(i));
    for (const tpl of TPLS) {
      const batch = fresh.filter((i) => this.slots[i]!.tpl === tpl);
      if (batch.length) this.queues[tpl].push(batch);
    }
    for (const i of fresh) this.queued[i] = true;
  }

  pop(): void { this.done[this.stack.pop()!.slot] = true; }
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

interface Result { all: Set<string>; some: Map<string, number[]>; path: number[] }

class Truncated extends Error {}

/** Runs every allowed order of `slots` against `sem` and says which problems happen in all, or in some. */
export function explore<S>(
  slots: readonly Slot[], events: ReadonlyMap<string, number[]>, sem: Semantics<S>,
  options: { independent?: readonly boolean[]; maxStates?: number } = {},
): Exploration {
  const independent = options.independent ?? [];
  const maxStates = options.maxStates ?? 20_000;
  const memo = new Map<string, Result>();
  let states = 0;

  const run = (d: Dispatcher, s: S, pick: ((options: number[]) => number) | undefined): Result => {
    const emitted = new Set<string>();
    const path: number[] = [];
    const emit = (k: string) => { emitted.add(k); };
    for (;;) {
      const n = d.next();
      if (n.kind === 'act') { sem.act(s, n.slot, n.action, emit); d.advance(); continue; }
      if (n.kind === 'return') { d.pop(); sem.returned(s, n.slot, emit); continue; }
      if (n.kind === 'end') { sem.end(s, emit); return prefixed(emitted, path, { all: new Set(), some: new Map(), path: [] }); }
      const free = n.options.find((i) => independent[i]);
      if (pick || free !== undefined || n.options.length === 1) {
        const slot = pick && free === undefined ? pick(n.options) : free ?? n.options[0]!;
        d.start(slot);
        path.push(slot);
        continue;
      }
      const key = `${d.key()}@${sem.key(s)}`;
      let r = memo.get(key);
      if (!r) {
        if (++states > maxStates || path.length > 1_000) throw new Truncated();
        r = branch(d, s, n.options);
        memo.set(key, r);
      }
      return prefixed(emitted, path, r);
    }
  };

  const branch = (d: Dispatcher, s: S, choices: number[]): Result => {
    const results = choices.map((slot) => {
      const c = d.clone();
      c.start(slot);
      return prefixed(new Set(), [slot], run(c, sem.clone(s), undefined));
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
    result = run(new Dispatcher(slots, events), sem.init(), undefined);
  } catch (e) {
    if (!(e instanceof Truncated)) throw e;
    truncated = true;
    const one = run(new Dispatcher(slots, events), sem.init(), (o) => o[0]!);
    result = { all: new Set(), some: one.some, path: one.path };
  }
  const verdicts = new Map<string, Verdict>();
  for (const [k, order] of result.some) verdicts.set(k, { every: result.all.has(k), order });
  return { verdicts, states, truncated };
}

/** Problems emitted before a choice point happen on every path through it. */
function prefixed(emitted: Set<string>, path: number[], r: Result): Result {
  if (!emitted.size && !path.length) return r;
  const some = new Map<string, number[]>();
  for (const k of emitted) some.set(k, [...path, ...r.path]);
  for (const [k, p] of r.some) if (!some.has(k)) some.set(k, [...path, ...p]);
  return { all: new Set([...emitted, ...r.all]), some, path: [...path, ...r.path] };
}

/**
 * One complete order of all `slots`, following `wanted` (a subsequence, e.g. a witness
 * found on a projection) wherever the queues allow, and taking the others in source order.
 */
export function completeOrder(slots: readonly Slot[], events: ReadonlyMap<string, number[]>, wanted: readonly number[]): number[] {
  const d = new Dispatcher(slots, events);
  const order: number[] = [];
  let w = 0;
  const wantedSet = new Set(wanted);
  for (;;) {
    const n = d.next();
    if (n.kind === 'end') return order;
    if (n.kind === 'act') { d.advance(); continue; }
    if (n.kind === 'return') { d.pop(); continue; }
    const next = wanted[w];
    const slot = next !== undefined && n.options.includes(next) ? next
      : n.options.find((i) => !wantedSet.has(i)) ?? n.options[0]!;
    if (slot === next) w++;
    d.start(slot);
    order.push(slot);
  }
}

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
 * firmware. Cost grows with the number of drivers, not with the factorial of it.
 * Symmetry: drivers whose projections are the same up to names (twenty identical
 * VirtioBlkDxe instances) are explored once, and the verdicts are renamed for each.
 */
import type { Span } from '@iommu-lens/grammar';
import { finding, type Finding, type Fix, type Firmware, type FwAction, type FwDriver, type FwHandler, type FwMapping, type Related } from '../model';
import { checkMapping, commonBufferOf, EFI_OPERATION, isCommonBuffer, toCommonBufferFix, unmapFrees } from './pciIo';
import { completeOrder, explore, type Exploration, type Semantics, type Slot } from './uefiEvents';

/** What an action does to the state the exploration tracks. */
type Effect =
  | { kind: 'stop'; driver: FwDriver }
  | { kind: 'unmap'; mapping: FwMapping }
  | { kind: 'unmap-all' }
  | { kind: 'none' };

/** A notify function: a handler, or the second event behind an `unmap-all deferred`. */
export interface EbsSlot extends Slot {
  handler: FwHandler;
  driver?: FwDriver;
  /** Set on the second event of `unmap-all deferred`: that action. */
  deferredOf?: FwAction;
  actions: FwAction[];
  effects: Effect[];
}

export interface FirmwareRun {
  slots: EbsSlot[];
  /** Slots that run at all: ExitBootServices handlers and the events they signal. */
  reachable: boolean[];
  /** Mappings still present after ExitBootServices (in some order). */
  left: Set<FwMapping>;
  /** Who unmaps each mapping during ExitBootServices. */
  unmappers: Map<FwMapping, EbsSlot[]>;
  /** Choice points explored, over all drivers (for the benchmark). */
  states: number;
}

const TPL_NAME = { notify: 'TPL_NOTIFY', callback: 'TPL_CALLBACK' } as const;

/**
 * The search budget of one firmware, over all its drivers: each driver's search gets what
 * the ones before it left. A choice point costs a copy and a key of the queues, so in
 * proportion to the notify functions of the projection: the budget counts states times
 * functions, 20,000 states of projections up to 32 functions. A bound of states per search
 * alone let a firmware whose drivers signal each other in a ring (every projection the
 * whole firmware, none shared) cost drivers × bound states, 24 such drivers 20 s per
 * analysis; and a driver with 400 ExitBootServices handlers took 4 s for its 20,000.
 */
export const FIRMWARE_BUDGET = 20_000 * 32;
/**
 * What every driver's search gets even when the drivers before it spent the firmware's
 * budget: without it, a driver after a pathological one was not searched at all and its
 * "in every order" errors became warnings. The total stays linear in the drivers.
 */
export const DRIVER_FLOOR = 256 * 32;

/** "VirtioNetDxe's TPL_CALLBACK ExitBootServices handler". */
export function slotLabel(s: EbsSlot): string {
  const owner = s.driver ? `${s.driver.sym.name}'s` : "the IOMMU protocol's";
  if (s.deferredOf) return `${owner} deferred unmap-all (second ${TPL_NAME[s.tpl]} event)`;
  return `${owner} ${TPL_NAME[s.tpl]} ${s.ebs ? 'ExitBootServices handler' : `handler of event ${s.event}`}`;
}

function buildSlots(fw: Firmware): EbsSlot[] {
  const slots: EbsSlot[] = [];
  const deferred: EbsSlot[] = [];
  for (const h of fw.handlers) {
    const signals: (string | undefined)[] = [];
    const effects: Effect[] = [];
    for (const a of h.actions) {
      if (a.verb === 'unmap-all' && a.deferred) {
        const event = `#deferred${deferred.length}`;
        deferred.push({ handler: h, driver: h.driver, deferredOf: a, tpl: h.tpl, ebs: false, event, signals: [undefined], actions: [a], effects: [{ kind: 'unmap-all' }] });
        signals.push(event);
        effects.push({ kind: 'none' });
        continue;
      }
      signals.push(a.verb === 'signal' ? a.event : undefined);
      effects.push(
        a.verb === 'stop-dma' && h.driver ? { kind: 'stop', driver: h.driver }
          : a.verb === 'unmap' && a.mapping ? { kind: 'unmap', mapping: a.mapping }
            : a.verb === 'unmap-all' ? { kind: 'unmap-all' } : { kind: 'none' });
    }
    slots.push({ handler: h, driver: h.driver, tpl: h.tpl, ebs: h.event.ebs, event: h.event.ebs ? undefined : h.event.name, signals, actions: h.actions, effects });
  }
  return [...slots, ...deferred];
}

function eventsOf(slots: readonly Slot[], pick: (i: number) => boolean = () => true): Map<string, number[]> {
  const events = new Map<string, number[]>();
  slots.forEach((s, i) => {
    if (s.event !== undefined && pick(i)) events.set(s.event, [...(events.get(s.event) ?? []), i]);
  });
  return events;
}

function reachableSlots(slots: readonly EbsSlot[], events: ReadonlyMap<string, number[]>): boolean[] {
  const seen = slots.map((s) => s.ebs);
  const work = slots.flatMap((s, i) => (s.ebs ? [i] : []));
  while (work.length) {
    for (const e of slots[work.pop()!]!.signals) {
      for (const j of (e !== undefined && events.get(e)) || []) if (!seen[j]) { seen[j] = true; work.push(j); }
    }
  }
  return seen;
}

// ----- one driver's projection ---------------------------------------------------------

/** A driver's projection, in local terms (slot, action and mapping indices) so that it can be shared. */
interface Projection {
  /** Local slot → global slot index. */
  slots: number[];
  maps: FwMapping[];
  signature: string;
}

/**
 * What a slot reads or writes of driver `d`'s state: `dev` (is the device doing DMA; read
 * by every unmap and by the end of d's ExitBootServices handlers) and d's mappings by name.
 */
function footprint(s: EbsSlot, d: FwDriver, maps: readonly FwMapping[]): Set<string> {
  const fp = new Set<string>();
  if (s.driver === d && s.ebs) fp.add('dev');
  for (const e of s.effects) {
    if (e.kind === 'stop' && e.driver === d) fp.add('dev');
    if (e.kind === 'unmap' && e.mapping.driver === d) { fp.add('dev'); fp.add(e.mapping.sym.name); }
    if (e.kind === 'unmap-all') { fp.add('dev'); for (const m of maps) fp.add(m.sym.name); }
  }
  return fp;
}

function touches(s: EbsSlot, d: FwDriver): boolean {
  return s.driver === d || footprint(s, d, []).size > 0;
}

function project(all: readonly EbsSlot[], d: FwDriver, reduce: boolean): Projection {
  const inSet = all.map((s) => !reduce || touches(s, d));
  // Close over signallers: they decide when the events in the set are queued.
  for (let grew = true; grew;) {
    grew = false;
    const wanted = new Set(all.flatMap((s, i) => (inSet[i] && s.event !== undefined ? [s.event] : [])));
    all.forEach((s, i) => {
      if (!inSet[i] && s.signals.some((e) => e !== undefined && wanted.has(e))) { inSet[i] = true; grew = true; }
    });
  }
  const slots = all.flatMap((_, i) => (inSet[i] ? [i] : []));
  const maps = [...d.maps.values()];
  const names = new Map<string, number>();
  const ev = (e: string | undefined) => (e === undefined ? -1 : names.get(e) ?? (names.set(e, names.size), names.size - 1));
  const shape = slots.map((g) => {
    const s = all[g]!;
    const effects = s.effects.map((e) => (e.kind === 'unmap' ? (e.mapping.driver === d ? `u${maps.indexOf(e.mapping)}` : '-') : e.kind === 'stop' ? (e.driver === d ? 's' : '-') : e.kind[0]));
    return [s.driver === d ? 'self' : g, s.tpl, s.ebs, ev(s.event), s.signals.map(ev), effects];
  });
  return { slots, maps, signature: JSON.stringify([shape, maps.map((m) => m.state)]) };
}

interface DriverState { active: boolean; mapped: boolean[]; ebsLeft: number }

function semantics(all: readonly EbsSlot[], p: Projection, d: FwDriver): Semantics<DriverState> {
  const local = p.slots.map((g) => all[g]!);
  const ebsSlots = local.filter((s) => s.driver === d && s.ebs).length;
  const unmap = (s: DriverState, slot: number, action: number, m: number, emit: (k: string) => void) => {
    if (!s.mapped[m]) return;
    if (s.active && p.maps[m]!.state === 'pending') emit(`fault:${slot}:${action}:${m}`);
    s.mapped[m] = false;
  };
  return {
    init: () => ({ active: p.maps.some((m) => m.state === 'pending'), mapped: p.maps.map((m) => m.state !== 'completed'), ebsLeft: ebsSlots }),
    clone: (s) => ({ active: s.active, mapped: [...s.mapped], ebsLeft: s.ebsLeft }),
    key: (s) => `${s.active ? 1 : 0}${s.mapped.map((b) => (b ? 1 : 0)).join('')}`,
    act(s, slot, action, emit) {
      const e = local[slot]!.effects[action]!;
      if (e.kind === 'stop' && e.driver === d) s.active = false;
      else if (e.kind === 'unmap-all') p.maps.forEach((_, m) => unmap(s, slot, action, m, emit));
      else if (e.kind === 'unmap' && e.mapping.driver === d) {
        const m = p.maps.indexOf(e.mapping);
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
      s.mapped.forEach((m, i) => { if (m) emit(`left:${i}`); });
    },
  };
}

/** Footprints decide which slots commute with all the others of the projection. */
function independence(all: readonly EbsSlot[], p: Projection, d: FwDriver): boolean[] {
  const prints = p.slots.map((g) => footprint(all[g]!, d, p.maps));
  return p.slots.map((g, i) => !all[g]!.signals.some((e) => e !== undefined)
    && prints.every((b, j) => i === j || ![...prints[i]!].some((x) => b.has(x))));
}

// ----- findings --------------------------------------------------------------------------

/**
 * Runs `fw` through ExitBootServices. `reduce: false` explores the whole firmware for every
 * driver, without projection, independence or symmetry: the tests check that both agree.
 */
export function runFirmware(fw: Firmware, out: Finding[], options: { reduce?: boolean } = {}): FirmwareRun {
  const reduce = options.reduce ?? true;
  const uri = fw.sym.uri;
  const slots = buildSlots(fw);
  const allEvents = eventsOf(slots);
  const reachable = reachableSlots(slots, allEvents);
  const run: FirmwareRun = { slots, reachable, left: new Set(), unmappers: new Map(), states: 0 };
  const confidential = fw.guest?.confidential?.technology;
  const loc = (span: Span, message: string): Related => ({ uri, span, message });
  const head = (h: FwHandler): Span => ({ start: h.stmt.span.start, end: (h.stmt.tpl ?? h.stmt.event ?? h.stmt).span.end });

  const unmappedBy = (m: FwMapping, s: EbsSlot) => {
    const by = run.unmappers.get(m);
    if (by) by.push(s);
    else run.unmappers.set(m, [s]);
  };
  slots.forEach((s, i) => {
    if (!reachable[i]) return;
    s.effects.forEach((e, k) => {
      if (e.kind === 'unmap') unmappedBy(e.mapping, s);
      if (e.kind === 'unmap-all') for (const d of fw.drivers) for (const m of d.maps.values()) unmappedBy(m, s);
      handlerRules(s, s.actions[k]!);
    });
  });

  for (const d of fw.drivers) for (const m of d.maps.values()) {
    checkMapping(uri, m, !!confidential, out);
    if (m.state === 'pending' && m.operation && !isCommonBuffer(m.operation)) pendingBusMaster(m);
  }

  const shared = new Map<string, Exploration>();
  let truncated = false;
  let budget = FIRMWARE_BUDGET;
  for (const d of fw.drivers) {
    const p = project(slots, d, reduce);
    let x = reduce ? shared.get(p.signature) : undefined;
    if (!x) {
      const local = p.slots.map((g) => slots[g]!);
      const size = Math.max(32, local.length);
      x = explore(local, eventsOf(local), semantics(slots, p, d), { independent: reduce ? independence(slots, p, d) : [], maxStates: Math.floor(Math.max(budget, DRIVER_FLOOR) / size) });
      budget = Math.max(0, budget - x.states * size);
      if (reduce) shared.set(p.signature, x);
      run.states += x.states;
      truncated ||= x.truncated;
    }
    driverFindings(d, p, x);
  }
  if (truncated) {
    out.push(finding('fw-orders-truncated', { uri, span: fw.sym.nameSpan },
      `firmware ${fw.sym.name} has more orders of notify functions than the simulator explores; findings come from the orders explored, and none claims "every order"`));
  }
  return run;

  /** `free`, a freeing Unmap() and boot-service calls, in any notify function that runs. */
  function handlerRules(s: EbsSlot, a: FwAction): void {
    const where = slotLabel(s);
    if (a.verb === 'free' && a.mapping) {
      out.push(finding('fw-free-in-handler', { uri, span: a.node.span },
        `${where} frees ${a.mapping.sym.name}: an ExitBootServices notify function "is not allowed to use the Memory Allocation Services ... because these services modify the current memory map" (RULES §7.4)`));
    } else if (a.verb === 'unmap' && a.mapping && unmapFrees(a.mapping)) {
      const m = a.mapping;
      out.push(finding('fw-free-in-handler', { uri, span: a.node.span },
        `Unmap() of ${m.sym.name} (${EFI_OPERATION[m.operation!]}) in ${where} zeroes and frees its bounce buffer: the memory map changes inside ExitBootServices (RULES §7.1, §7.4)`,
        { related: [loc(m.stmt.span, `${m.sym.name} is mapped ${EFI_OPERATION[m.operation!]} here`)] }));
    } else if (a.verb === 'call') {
      const service = a.node.service?.text ?? 'a boot service';
      const memory = /^(Allocate|Free)(Pool|Pages|Buffer)$/.test(service);
      out.push(finding('fw-boot-service-in-handler', { uri, span: a.node.span },
        memory
          ? `${where} calls ${service}(): a Memory Allocation Service changes the memory map, which ExitBootServices handlers must not do (RULES §7.5)`
          : `${where} calls ${service}(): the UEFI specification does not permit other boot services from an ExitBootServices handler (RULES §7.5)`));
    }
  }

  function pendingBusMaster(m: FwMapping): void {
    const op = EFI_OPERATION[m.operation!];
    out.push(finding('fw-pending-bus-master', { uri, span: m.stmt.operation!.span },
      `${m.sym.name} is ${op} with DMA still pending after ${m.driver.sym.name}'s call returns: `
      + `a ${op} mapping cannot be unmapped at ExitBootServices without freeing its bounce buffer, and the memory map must not change there. Asynchronous DMA must use CommonBuffer (RULES §7.4)`,
      { fixes: [toCommonBufferFix(uri, m, commonBufferOf(m.operation!), `Map ${m.sym.name} ${EFI_OPERATION[commonBufferOf(m.operation!)]} from AllocateBuffer()`)] }));
  }

  function driverFindings(d: FwDriver, p: Projection, x: Exploration): void {
    const local = p.slots.map((g) => slots[g]!);
    const device = d.device?.sym.name ?? `${d.sym.name}'s device`;
    const trace = (order: number[]): Related[] => completeOrder(slots, allEvents, order.map((i) => p.slots[i]!))
      .map((g, n) => loc(head(slots[g]!.handler), `${n + 1}. ${slotLabel(slots[g]!)}`));
    const stops = local.flatMap((s) => s.driver === d ? s.actions.filter((a) => a.verb === 'stop-dma').map((a) => loc(a.node.span, `${device} stops DMA here`)) : []);
    const inOrder = (v: { every: boolean; order: number[] }) => (v.every
      ? 'in every order the UEFI specification allows'
      : `in some orders the UEFI specification allows, e.g. ${v.order.map((i) => slotLabel(local[i]!)).join(', then ')}`);

    // Group per acting statement: one finding per action, listing the mappings it hits.
    const groups = new Map<string, { action: FwAction; slot: EbsSlot; maps: FwMapping[]; every: boolean; order: number[]; kind: string }>();
    for (const [key, v] of x.verdicts) {
      const [kind, a, b, c] = key.split(':');
      if (kind === 'fault' || kind === 'double') {
        const slot = local[Number(a)]!;
        const action = slot.actions[Number(b)]!;
        const id = `${kind}:${a}:${b}:${v.every}`;
        const g = groups.get(id) ?? { action, slot, maps: [], every: v.every, order: v.order, kind };
        g.maps.push(p.maps[Number(c)]!);
        groups.set(id, g);
      } else if (kind === 'left') {
        leftFinding(p.maps[Number(a)]!, v);
      } else if (kind === 'after') {
        afterFinding(v);
      }
    }
    for (const g of groups.values()) {
      const names = g.maps.map((m) => m.sym.name).join(', ');
      const severity = g.every ? 'error' : 'warning';
      const what = g.action.verb === 'unmap-all' ? `${slotLabel(g.slot)} unmaps every mapping` : `${slotLabel(g.slot)} unmaps ${names}`;
      if (g.kind === 'fault') {
        out.push(finding('fw-teardown-before-stop', { uri, span: g.action.node.span },
          `${what} while ${device} may still do DMA into ${names} (pending), ${inOrder(g)}: the device's next access hits an IOMMU fault. Tear mappings down only after ${d.sym.name} has stopped the device (RULES §7.5)`,
          { severity, related: [...stops, ...g.maps.map((m) => loc(m.stmt.span, `${m.sym.name}: DMA pending`))], trace: trace(g.order) }));
      } else {
        const why = g.maps.every((m) => m.state === 'completed')
          ? `${names} ${g.maps.length > 1 ? 'are' : 'is'} \`completed\`: ${d.sym.name} unmapped ${g.maps.length > 1 ? 'them' : 'it'} before its call returned`
          : `another notify function has already torn ${names} down, ${inOrder(g)}`;
        out.push(finding('fw-double-unmap', { uri, span: g.action.node.span },
          `Unmap() of a mapping that is gone: ${why}. The Mapping handle is stale (IoMmuDxe would unlink and re-encrypt a MAP_INFO that is no longer on its list)`,
          { severity, related: g.maps.map((m) => loc(m.stmt.span, `${m.sym.name} is mapped here`)), trace: g.every ? undefined : trace(g.order) }));
      }
    }

    function leftFinding(m: FwMapping, v: { every: boolean; order: number[] }): void {
      run.left.add(m);
      const leak = confidential
        ? `its ${m.operation && isCommonBuffer(m.operation) ? 'buffer' : 'bounce buffer'} stays shared (decrypted) with the host after ExitBootServices (${confidential === 'tdx' ? 'TDX' : 'SEV-SNP'}), readable and writable by the hypervisor`
        : 'the OS inherits an IOMMU mapping it knows nothing about';
      out.push(finding('fw-mapping-left', { uri, span: m.sym.nameSpan },
        `${m.sym.name} of ${d.sym.name} is still mapped when ExitBootServices returns${v.every ? '' : ` ${inOrder(v)}`}: ${leak}. Unmap it in the IOMMU protocol's deferred unmap-all (RULES §7.3, §7.5)`,
        { severity: confidential && v.every ? 'error' : 'warning', trace: v.every ? undefined : trace(v.order) }));
    }

    function afterFinding(v: { every: boolean; order: number[] }): void {
      const own = local.filter((s) => s.driver === d && s.ebs);
      const pending = p.maps.filter((m) => m.state === 'pending').map((m) => m.sym.name).join(', ');
      const later = local.find((s) => s.driver === d && !s.ebs && s.actions.some((a) => a.verb === 'stop-dma'));
      const why = !own.length ? `${d.sym.name} has no ExitBootServices handler`
        : later ? `its stop-dma runs only in ${slotLabel(later)}, queued behind other notify functions`
          : `its ExitBootServices handler never stops the device`;
      const at = own[0] ? head(own[0].handler) : d.sym.nameSpan;
      out.push(finding('fw-dma-after-handler', { uri, span: at },
        `${device} still does DMA into ${pending} when ${d.sym.name}'s ExitBootServices handling is over${v.every ? '' : ` ${inOrder(v)}`}: ${why}. Devices must stop DMA by the end of their driver's ExitBootServices handler, before the OS owns the memory (RULES §7.6)`,
        { severity: v.every ? 'error' : 'warning', fixes: stopDmaFix(own[0]), trace: v.every ? undefined : trace(v.order) }));
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
        return [{ title, edits: [
          { uri, span: { start: first.span.start, end: first.span.start }, newText: '{ stop-dma; ' },
          { uri, span: { start: first.span.end, end: first.span.end }, newText: ' }' },
        ] }];
      }
      return insert(h.span.end, ' stop-dma');
    }
  }
}

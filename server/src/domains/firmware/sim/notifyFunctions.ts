/**
 * The notify functions of a firmware at ExitBootServices (RULES §7): its drivers' and the IOMMU
 * protocol's handlers, and the second events of deferred unmap-alls, as the slots the order
 * search runs (uefiEvents.ts); which of them run at all, and before the memory map is locked;
 * and what the checks of one firmware share (FwCheck).
 */
import type { Span } from '@iommu-lens/grammar';
import type { Finding, Related } from '../../../model';
import type { Firmware, FwAction, FwDriver, FwHandler, FwMapping } from '../model/types';

type ConfidentialTechnology = NonNullable<NonNullable<Firmware['guest']>['confidential']>['technology'];
import { sharedPoolUses, type SharedPoolUse } from './sharedPool';
import type { Slot } from './uefiEvents';

/** The first EDK II release whose CoreExitBootServices signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES (9d70d8f20d). */
export const BEFORE_EBS_SINCE = 'edk2-stable202302';
/** The first EDK II release that signals it only on the first ExitBootServices() call (e8668d2dee). */
export const BEFORE_EBS_ONCE = 'edk2-stable202502';

/** What an action does to the state the exploration tracks. */
export type Effect = { kind: 'stop'; driver: FwDriver } | { kind: 'unmap'; mapping: FwMapping } | { kind: 'unmap-all' } | { kind: 'none' };

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

const TPL_NAME = { notify: 'TPL_NOTIFY', callback: 'TPL_CALLBACK' } as const;

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
export function buildSlots(fw: Firmware, beforeRuns: boolean): EbsSlot[] {
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

export function eventsOf(slots: readonly Slot[]): Map<string, number[]> {
  const events = new Map<string, number[]>();
  slots.forEach((s, i) => {
    if (s.event !== undefined) append(events, s.event, i);
  });
  return events;
}

/** The slots that run from the group handlers `seed` picks: those handlers and every event they signal, transitively. */
export function reachableSlots(slots: readonly EbsSlot[], events: ReadonlyMap<string, number[]>, seed: (s: EbsSlot) => boolean): boolean[] {
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

/** Adds `v` to `k`'s list, once when the same `v` comes several times in a row. */
export function append<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const xs = m.get(k);
  if (!xs) m.set(k, [v]);
  else if (xs.at(-1) !== v) xs.push(v);
}

/** What the checks of one firmware share: where findings go and how they point into it. */
export interface FwCheck {
  fw: Firmware;
  uri: string;
  out: Finding[];
  run: FirmwareRun;
  confidential: ConfidentialTechnology | undefined;
  /** Which mappings hold a slot of IoMmuDxe's reserved shared pool (computed once: every Unmap() message asks). */
  sharedPool: ReadonlyMap<FwMapping, SharedPoolUse>;
  /** How many notify functions run at all (counted once: every driver's trace names the rest). */
  live: number;
  loc(span: Span, message: string): Related;
  /** A handler's first words, `on exit-boot-services tpl callback`: where its findings point. */
  head(h: FwHandler): Span;
}

export function fwCheck(fw: Firmware, out: Finding[], run: FirmwareRun): FwCheck {
  const uri = fw.sym.uri;
  return {
    fw,
    uri,
    out,
    run,
    confidential: fw.guest?.confidential?.technology,
    live: run.reachable.filter((r) => r).length,
    sharedPool: sharedPoolUses(fw),
    loc: (span, message) => ({ uri, span, message }),
    head: (h) => ({ start: h.stmt.span.start, end: (h.stmt.tpl ?? h.stmt.event ?? h.stmt).span.end }),
  };
}

/**
 * The TDIs of a timeline (RULES §5): every TDISP-capable function a step touches or a
 * guest holds has an interface state and the two config registers a locked TDI watches.
 * `tdisp` steps drive the state machine (tdisp.ts); `config`, `power` and `link` steps
 * change the function and may take a locked TDI to ERROR (pciConfig.ts). Each ERROR is a
 * finding on the step that caused it, naming the rule, with the lock step related.
 */
import * as A from '@iommu-lens/grammar';
import type { Finding, Fix, Related, TextEdit } from '../../../model/findings';
import { finding } from '../codes';
import { COMMAND_BITS } from '../model/pciRegisters';
import { partitionPoint } from '../../../model/search';
import type { AssignMode, Device, Guest, Model, Platform, ResolvedStep } from '../../../model/types';
import { removalSpan } from '../../../sim/edits';
import {
  afterWrite,
  commandWritten,
  isFlr,
  lockedViolation,
  losesState,
  RESET_REGS,
  vfCommand,
  VFS_WRITE,
  type ConfigRegs,
  type ConfigWrite,
  type VfsWrite,
  type Violation,
} from './pciConfig';
import { isLocked, isTdispMessage, MESSAGES, sendMessage, type MessageRule, type TdiState, type TdispMessage } from './stateTable';

/** One TDI as it stands after a step. Frozen: later steps make new snapshots. */
export interface TdiSnapshot {
  device: Device;
  state: TdiState;
  regs: ConfigRegs;
  /** The step that put it in this state, if one did. */
  since?: Related;
}

interface Tdi extends TdiSnapshot {
  /** The LOCK_INTERFACE_REQUEST that locked it last. */
  lock?: Related;
}

/** A device in a running guest, as the TDI engine needs to know it. */
export interface Holding {
  guest: Guest;
  mode: AssignMode;
  dma: 'private' | 'shared';
}

const BME = COMMAND_BITS.BME!;
const MSE = COMMAND_BITS.MSE!;

/**
 * The messages that lead from a state to one where a request is accepted: the fix for a
 * request sent too early, or to a TDI in ERROR. A second `lock` of a locked TDI gets no
 * fix: unlocking a running TDI is rarely what was meant.
 */
const PREREQUISITE: Partial<Record<TdiState, Partial<Record<TdiState, TdispMessage[]>>>> = {
  CONFIG_UNLOCKED: { CONFIG_LOCKED: ['lock'], RUN: ['lock', 'start'] },
  CONFIG_LOCKED: { RUN: ['start'] },
  ERROR: { CONFIG_UNLOCKED: ['stop'], CONFIG_LOCKED: ['stop', 'lock'], RUN: ['stop', 'lock', 'start'] },
};

export class Tdis {
  private readonly tdis = new Map<Device, Tdi>();
  private snap?: TdiSnapshot[];

  constructor(
    private readonly model: Model,
    private readonly steps: readonly ResolvedStep[],
    private readonly out: Finding[],
    private readonly holderOf: (d: Device) => Holding | undefined,
  ) {}

  /** The TDI of a TDISP-capable device, created CONFIG_UNLOCKED with reset registers. */
  private tdi(d: Device): Tdi {
    let t = this.tdis.get(d);
    if (!t) this.tdis.set(d, (t = { device: d, state: 'CONFIG_UNLOCKED', regs: RESET_REGS }));
    return t;
  }

  private set(t: Tdi, patch: Partial<Tdi>): void {
    Object.assign(t, patch);
    this.snap = undefined;
    this.indexResettable(t);
  }

  /**
   * The TDIs a reset would change (locked, or with registers off their reset values), by
   * PF (its VFs) and by link: a PF reset or a link-down visits those only. Visiting every
   * function behind the PF or the link made thousands of resets of a PF with thousands of
   * VFs cost resets × VFs, although after the first nothing is left to reset.
   */
  private indexResettable(t: Tdi): void {
    const on = isLocked(t.state) || t.regs !== RESET_REGS;
    const d = t.device;
    // A VF is behind its PF's link too (topology as linkDown reads it).
    const keys = [linkIn(d), ...(d.pf && linkKey(d.pf) !== linkKey(d) ? [linkIn(d.pf)] : [])];
    const sets = [...keys.map((k) => setOf(this.byLink, k)), ...(d.pf ? [setOf(this.byPf, d.pf)] : [])];
    for (const set of sets) {
      if (on) set.add(t);
      else set.delete(t);
    }
  }

  private readonly byPf = new Map<Device, Set<Tdi>>();
  private readonly byLink = new Map<string, Set<Tdi>>();

  /** Every TDI in play, frozen. */
  snapshot(): TdiSnapshot[] {
    return (this.snap ??= [...this.tdis.values()].map((t) => ({ device: t.device, state: t.state, regs: t.regs, since: t.since })));
  }

  state(d: Device): TdiState | undefined {
    return this.tdis.get(d)?.state;
  }

  /** A guest realized the device: its TDI comes into play. */
  realized(d: Device): void {
    if (d.tdisp) this.tdi(d);
  }

  /** The device left its guest: VFIO resets it and the TSM unbinds the TDI (STOP_INTERFACE). */
  released(d: Device, r: ResolvedStep, why: string): void {
    const t = this.tdis.get(d);
    if (t && (t.state !== 'CONFIG_UNLOCKED' || t.regs !== RESET_REGS)) {
      this.set(t, {
        state: 'CONFIG_UNLOCKED',
        regs: RESET_REGS,
        lock: undefined,
        since: at(r, `${d.sym.name} ${why}: the TSM unbinds the TDI and VFIO resets the function`),
      });
    }
  }

  /** A `tdisp`, `config`, `power` or `link` step. */
  step(r: ResolvedStep): void {
    const d = r.device;
    if (!d) return;
    const s = r.step;
    switch (s.kind) {
      case 'tdisp':
        if (isTdispMessage(s.message)) this.message(r, d, s.message.text);
        break;
      case 'config':
        this.config(r, d, s);
        break;
      case 'power':
        if (s.state && losesState(s.state.text))
          this.powerLoss(r, d, `enters ${s.state.text}, which loses the function's state (No_Soft_Reset clear)`);
        break;
      case 'link':
        if (s.state?.text === 'down') this.linkDown(r, d);
        break;
      default:
        break;
    }
  }

  private message(r: ResolvedStep, d: Device, m: TdispMessage): void {
    const rule = MESSAGES[m];
    const request = `${rule.request} (0x${rule.code.toString(16)})`;
    if (!d.tdisp) {
      this.out.push(
        finding(
          'tdisp-not-capable',
          at(r),
          `${d.sym.name} does not support TDISP (no \`tdisp\` in its declaration), so the TSM has no TDI to send ${request} to`,
          { related: [{ uri: d.sym.uri, span: d.sym.nameSpan, message: `device ${d.sym.name}` }] },
        ),
      );
      return;
    }
    const t = this.tdi(d);
    if (m === 'lock' && t.state === 'CONFIG_UNLOCKED' && this.lockRefused(r, d, request)) return;
    if (m === 'stop' && t.state === 'CONFIG_UNLOCKED') {
      // RULES §5.7, unconfirmed: the TDISP text lets STOP through in any state; the DMTF sample responder refuses it.
      this.out.push(
        finding(
          'tdisp-stop-unlocked',
          at(r),
          `${request} to ${d.sym.name} in CONFIG_UNLOCKED: the TDISP text lets STOP through in any state (unconfirmed), but the DMTF ` +
            'spdm-emu sample responder answers TDISP_ERROR INVALID_INTERFACE_STATE (0x0004) (pci_tdisp_device_stop_interface); ' +
            'either way the TDI stays CONFIG_UNLOCKED, so the request does nothing here (RULES §5.7)',
          { related: t.since ? [t.since] : [] },
        ),
      );
      return;
    }
    const outcome = sendMessage(t.state, m);
    if (!outcome.ok) {
      this.out.push(invalidState(r, d, t, rule, request, outcome.errorCode));
      return;
    }
    if (outcome.next !== t.state) {
      const lock =
        m === 'lock'
          ? at(r, `${d.sym.name} locked here (LOCK_INTERFACE_REQUEST)`)
          : outcome.next === 'CONFIG_UNLOCKED'
            ? undefined
            : t.lock;
      this.set(t, { state: outcome.next, since: at(r, `${d.sym.name} goes to ${outcome.next} here (${rule.request})`), lock });
    }
  }

  /** LOCK_INTERFACE_REQUEST for a device no confidential guest holds (the TSM binds TDIs to confidential VMs): reported, true. */
  private lockRefused(r: ResolvedStep, d: Device, request: string): boolean {
    const h = this.holderOf(d);
    if (h?.guest.confidential) return false;
    const why = h ? `guest ${h.guest.sym.name}, which holds it, is not confidential` : 'no running guest holds it';
    this.out.push(
      finding(
        'tdisp-not-bound',
        at(r),
        `${request} for ${d.sym.name}: ${why}. The TSM binds a TDI to the confidential VM the device is assigned to (the TSM ` +
          'bind through an iommufd vDEVICE, as the RFCs propose it; not merged in Linux), so there is nothing to lock it for',
        { related: h ? [{ uri: h.guest.sym.uri, span: h.guest.sym.nameSpan, message: `guest ${h.guest.sym.name}` }] : [] },
      ),
    );
    return true;
  }

  private config(r: ResolvedStep, d: Device, s: A.ConfigStep): void {
    const written = configWrite(s, r.bits);
    if (!written || !d.tdisp) return;
    // A VF has no Command MSE: what is written there reads back 0 and changes nothing.
    const w: ConfigWrite = d.pf && written.what === 'command' ? { what: 'command', value: vfCommand(written.value) } : written;
    const t = this.tdi(d);
    const command = commandWritten(w, t.regs);
    if (isLocked(t.state)) {
      if (w.what === 'intx' && d.pf) {
        this.out.push(
          finding(
            'tdisp-avoidable-access',
            at(r),
            `${d.sym.name} is a VF, and VFs have no INTx (Interrupt Pin is 0): this INTx-masking probe ` +
              '(pci_intx_mask_supported()) toggles INTx Disable in the Command register of a locked TDI for nothing. ' +
              'It does not break TDISP by itself, but every such write risks ERROR on devices that count config ' +
              'writes strictly; the guest driver or the VMM should skip it on VFs (RULES §5.5)',
            { related: t.lock ? [t.lock] : [] },
          ),
        );
      }
      const v = lockedViolation(w, t.regs, d.quirks);
      if (v) this.toError(r, t, v, s);
    }
    if (isFlr(w)) this.resetVfs(r, d, 'is reset by the Function Level Reset of its PF');
    if (w.what === 'sriov' && w.vfs) this.vfsWritten(r, d, w.vfs);
    this.set(t, { regs: afterWrite(w, t.regs) });
    const h = this.holderOf(d);
    if (command !== undefined && command & BME && h?.dma === 'private' && (t.state === 'CONFIG_UNLOCKED' || t.state === 'CONFIG_LOCKED')) {
      this.out.push(
        finding(
          'tdisp-dma-before-run',
          at(r),
          `${d.sym.name} gets Bus Master Enable while its TDI is ${t.state}, and it is ${h.mode} in ` +
            `guest ${h.guest.sym.name}: its DMA to private memory carries the T bit, which is rejected outside ` +
            'RUN (RULES §5.4). Lock and start the TDI before the driver enables bus mastering',
          { related: t.since ? [t.since] : [] },
        ),
      );
    }
  }

  /** A locked TDI goes to ERROR because of this step. */
  private toError(r: ResolvedStep, t: Tdi, v: Violation, s?: A.ConfigStep): void {
    const d = t.device;
    const quirk = v.rule === '5.5';
    this.out.push(
      finding(
        quirk ? 'tdisp-bme-quirk' : 'tdisp-config-locked',
        at(r),
        `${v.what[0]!.toUpperCase()}${v.what.slice(1)}. ${d.sym.name}'s TDI is ${t.state}, so it goes to ERROR: the device stops ` +
          `serving the confidential VM until the TSM stops and re-locks it (RULES §${v.rule}${quirk ? ', §5.3' : ''})`,
        { related: t.lock ? [t.lock] : [], fixes: quirk && s ? this.coalesce(r, s) : [] },
      ),
    );
    this.set(t, { state: 'ERROR', since: at(r, `${d.sym.name} goes to ERROR here (RULES §${v.rule})`) });
  }

  /**
   * Seed 001's fix: one Command write that sets MSE and BME together (as
   * `pci_enable(TARGET|INITIATOR)` would) in place of the write that leaves BME 0, and the
   * later write of the same device that adds BME goes.
   */
  private coalesce(r: ResolvedStep, s: A.ConfigStep): Fix[] {
    // Only the pci_enable_device() half of the pattern: a write that enables MSE and leaves BME 0.
    if (s.what?.text !== 'command' || r.bits === undefined || !(r.bits & MSE)) return [];
    const bits = [...s.bits.map((b) => b.text.toUpperCase()), 'BME'];
    const to = s.bits.length ? s.bits[s.bits.length - 1]!.span.end : s.what!.span.end;
    const edits: TextEdit[] = [{ uri: r.uri, span: { start: s.what!.span.end, end: to }, newText: ` ${bits.join(' ')}` }];
    const j = this.nextCommandWrite(r);
    const later = j === undefined ? undefined : this.steps[j];
    if (j !== undefined && later && later.bits !== undefined && later.bits & BME && later.uri === r.uri) {
      edits.push({ uri: r.uri, span: removalSpan(this.model, r.uri, this.steps[j - 1]!.step, later.step), newText: '' });
    }
    const dropped = edits.length > 1 ? ' (the later write that sets BME goes)' : '';
    return [{ title: `Enable with one Command write: ${bits.join(' ')}${dropped}`, edits }];
  }

  /**
   * The index of the first Command write to the same device after step `r`. The steps'
   * positions and each device's Command writes are indexed once: a timeline with thousands
   * of quirk findings searched the whole timeline for each.
   */
  private nextCommandWrite(r: ResolvedStep): number | undefined {
    if (!this.commandWrites) {
      this.commandWrites = { at: new Map(), byDevice: new Map() };
      this.steps.forEach((x, k) => {
        this.commandWrites!.at.set(x, k);
        if (!x.device || x.step.kind !== 'config' || x.step.what?.text !== 'command') return;
        const list = this.commandWrites!.byDevice.get(x.device);
        if (list) list.push(k);
        else this.commandWrites!.byDevice.set(x.device, [k]);
      });
    }
    const i = this.commandWrites.at.get(r);
    const list = r.device && this.commandWrites.byDevice.get(r.device);
    if (i === undefined || !list) return undefined;
    return list[partitionPoint(list.length, (k) => list[k]! <= i)];
  }

  private commandWrites?: { at: Map<ResolvedStep, number>; byDevice: Map<Device, number[]> };

  /** A power transition that loses the function's state (and, for a PF, its VFs'). */
  private powerLoss(r: ResolvedStep, d: Device, what: string): void {
    const t = this.tdis.get(d);
    if (t && isLocked(t.state)) {
      this.out.push(
        finding('tdisp-power-loss', at(r), `${d.sym.name} ${what}; its TDI is ${t.state}, so it goes to ERROR (RULES §5.3)`, {
          related: t.lock ? [t.lock] : [],
        }),
      );
      this.set(t, { state: 'ERROR', since: at(r, `${d.sym.name} goes to ERROR here: ${what}`) });
    }
    if (t) this.set(t, { regs: RESET_REGS });
    this.resetVfs(r, d, `loses its state with its PF (${what})`);
  }

  /** RULES §5.3: a PF reset takes every locked TDI of its VFs to ERROR. */
  private resetVfs(r: ResolvedStep, pf: Device, why: string): void {
    const vfs = r.platform ? [...(this.byPf.get(pf) ?? [])] : [];
    this.loseState(
      r,
      vfs,
      'tdisp-vf-reset',
      (list, verb) => `resetting PF ${pf.sym.name} resets its VFs: ${list} ${verb} to ERROR (RULES §5.3)`,
      (d) => `${d.sym.name} ${why}: ERROR`,
    );
  }

  /**
   * RULES §5.6: clearing VF Enable or changing NumVFs destroys a PF's VFs, and clearing VF MSE
   * takes their memory space: every locked VF TDI goes to ERROR, whether or not the PF is locked.
   */
  private vfsWritten(r: ResolvedStep, pf: Device, write: VfsWrite): void {
    const vfs = r.platform ? [...(this.byPf.get(pf) ?? [])] : [];
    const what = VFS_WRITE[write].replace('{pf}', pf.sym.name);
    this.loseState(
      r,
      vfs,
      'tdisp-vfs-disabled',
      (list, verb) =>
        `${what[0]!.toUpperCase()}${what.slice(1)}: ${list} ${verb} to ERROR, whether or not the PF itself is locked (RULES §5.6)`,
      (d) => `${d.sym.name} goes to ERROR here: its PF's SR-IOV ${write} write`,
      write !== 'vf-mse',
    );
  }

  /** The link goes down: every function behind it loses its state, and IDE streams of locked TDIs become insecure. */
  private linkDown(r: ResolvedStep, d: Device): void {
    const port = d.pf ?? d;
    const behind = r.platform ? [...(this.byLink.get(linkIn(port)) ?? [])] : [];
    const own = this.tdis.get(d);
    if (own && !behind.includes(own) && (isLocked(own.state) || own.regs !== RESET_REGS)) behind.push(own);
    this.loseState(
      r,
      behind,
      'tdisp-link-down',
      (list, verb) => `the link of ${port.sym.name} goes down: the IDE stream is torn down, so ${list} ${verb} to ERROR (RULES §5.3)`,
      (x) => `${x.sym.name} goes to ERROR here: link down`,
    );
  }

  /**
   * Functions reset together (those a reset changes): their registers go back to reset
   * values and each locked TDI to ERROR, in one finding naming the first few.
   */
  private loseState(
    r: ResolvedStep,
    tdis: readonly Tdi[],
    code: 'tdisp-vf-reset' | 'tdisp-link-down' | 'tdisp-vfs-disabled',
    message: (list: string, verb: string) => string,
    since: (d: Device) => string,
    reset = true,
  ): void {
    const hit = this.inDeclarationOrder(
      r,
      tdis.filter((t) => isLocked(t.state)),
    );
    if (reset) for (const t of tdis) this.set(t, { regs: RESET_REGS });
    if (!hit.length) return;
    const shown = hit
      .slice(0, NAMED_TDIS)
      .map((t) => `${t.device.sym.name} (${t.state})`)
      .join(', ');
    const more = hit.length > NAMED_TDIS ? ` and ${hit.length - NAMED_TDIS} more` : '';
    const list = `the locked TDI${hit.length > 1 ? 's' : ''} of ${shown}${more}`;
    const related = hit.slice(0, NAMED_TDIS).flatMap((t) => (t.lock ? [t.lock] : []));
    this.out.push(finding(code, at(r), message(list, hit.length > 1 ? 'go' : 'goes'), { related }));
    for (const t of hit) this.set(t, { state: 'ERROR', since: at(r, since(t.device)) });
  }

  /** TDIs in the order their devices are declared (the platform's order, indexed once). */
  private inDeclarationOrder(r: ResolvedStep, list: Tdi[]): Tdi[] {
    if (list.length < 2 || !r.platform) return list;
    let order = this.order.get(r.platform);
    if (!order) this.order.set(r.platform, (order = new Map([...r.platform.devices.values()].map((d, i) => [d, i]))));
    const o = order;
    return list.sort((a, b) => (o.get(a.device) ?? 0) - (o.get(b.device) ?? 0));
  }

  private readonly order = new Map<Platform, Map<Device, number>>();
}

/** Locked TDIs named in one reset's finding; the rest are counted. */
const NAMED_TDIS = 8;

/** The set under `key`, made empty on first use. */
function setOf<K, V>(m: Map<K, Set<V>>, key: K): Set<V> {
  let set = m.get(key);
  if (!set) m.set(key, (set = new Set()));
  return set;
}

/** A function's link, told apart from another platform's at the same address. */
function linkIn(d: Device): string {
  return `${d.sym.container}\n${linkKey(d)}`;
}

/** Functions of one physical device share its link: same segment, bus and device number. */
function linkKey(d: Device): string {
  return d.bdf ? `${d.bdf.segment}:${d.bdf.bus}:${d.bdf.device}` : `device ${d.sym.name}`;
}

function configWrite(s: A.ConfigStep, bits: number | undefined): ConfigWrite | undefined {
  const what = s.what?.text;
  if (what === 'command' || what === 'devctl') return { what, value: bits ?? 0 };
  if (what === 'bar') {
    const text = s.bar?.text.replace(/_/g, '') ?? '';
    return { what, index: /^(0x[0-9a-f]+|[0-9]+)$/i.test(text) ? BigInt(text) : undefined };
  }
  if (what === 'sriov') return { what, vfs: s.sriovField?.text as VfsWrite | undefined };
  return what ? ({ what } as ConfigWrite) : undefined;
}

function at(r: ResolvedStep, message = ''): Related {
  return { uri: r.uri, span: r.step.span, message };
}

/**
 * A request the TDI's state does not accept: TDISP_ERROR INVALID_INTERFACE_STATE, with a fix
 * that first sends the messages leading to a state that accepts it, when there are such.
 */
function invalidState(r: ResolvedStep, d: Device, t: Tdi, rule: MessageRule, request: string, errorCode: number): Finding {
  const accepted = rule.accepted.join(' or ');
  const path = rule.accepted.map((s) => PREREQUISITE[t.state]?.[s]).find((p) => p);
  const ref = 'device' in r.step && r.step.device ? A.refText(r.step.device) : undefined;
  return finding(
    'tdisp-invalid-state',
    at(r),
    `${request} to ${d.sym.name} in ${t.state}: the device answers TDISP_ERROR with ERROR_CODE ` +
      `INVALID_INTERFACE_STATE (0x${errorCode.toString(16).padStart(4, '0')}) and the TDI ` +
      `stays in ${t.state}; it accepts this request only in ${accepted} (RULES §5.2)`,
    {
      related: t.since ? [t.since] : [],
      fixes:
        path && ref
          ? [
              {
                title: `Send ${path.map((p) => MESSAGES[p].request).join(' then ')} first`,
                edits: [
                  {
                    uri: r.uri,
                    span: { start: r.step.span.start, end: r.step.span.start },
                    newText: path.map((p) => `tdisp ${ref} ${p}\n  `).join(''),
                  },
                ],
              },
            ]
          : [],
    },
  );
}

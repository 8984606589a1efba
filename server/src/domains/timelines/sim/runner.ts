/**
 * The timeline runner (RULES §3.5, §4): a `timeline` replays what happens to guests over
 * time. Each timeline starts from a world where nothing runs; every step updates it
 * (which host each guest is on, its container, the groups attached, what it maps), and a
 * step the real system would refuse becomes a finding on that step, with the steps that
 * set the guest up (start, migrate) as related locations. The state after every step is
 * kept for hovers.
 *
 * A guest's own assignments were already checked when the guest was started on its
 * platform (guests.ts); `start` on that platform re-plays them quietly and reports only
 * what the timeline adds: a device another guest of the timeline holds.
 */
import { refText, type Span, type Word } from '@iommu-lens/grammar';
import type { Finding, Location, Related } from '../../../model/findings';
import { finding } from '../codes';
import { finding as sevFinding } from '../../sev/codes';
import { finding as tdispFinding } from '../../tdisp/codes';
import { hex, type Interval } from '../../../model/interval';
import type { AssignMode, Device, Guest, Iommu, Model, Platform, ResolvedStep } from '../../../model/types';
import type { Timeline } from '../model/types';
import { addressWidthOf, apertureEnd } from '../../../sim/builtins';
import type { Container } from '../../../sim/container';
import type { GroupRegions, PlatformRegions } from '../../../sim/platformRegions';
import { newContainer } from '../../../sim/vfio';
import { guestRam, qemuDevice, type GuestRamRange } from '../../../sim/qemu';
import { launchUpdate, newLaunch, realizedBeforeLaunch, type LaunchState } from '../../sev/sim/launchUpdate';
import { claim, newClaims, realize, release, type Claims, type Site } from '../../../sim/realize';
import { checkMember, dmaSide, instanceOf, type Member } from '../../sev/sim/joinRules';
import { Tdis, type TdiSnapshot } from '../../tdisp/sim/timelineInterfaces';

/** A device a guest holds, the line that brought it in, and how its DMA runs. */
export interface Held {
  device: Device;
  gr: GroupRegions;
  site: Site;
  /** The mode QEMU realized it with (RULES §6.2). */
  mode: AssignMode;
  /** Where its DMA goes now: bind-capable devices are shared until converted (§6.4). */
  dma: 'private' | 'shared';
  window?: Interval;
  /** Its iommufd instance; none: the legacy type1 container (RULES §6.5, §6.6). */
  instance?: string;
  /** The line that set its mode: the `assign` line, or the step. */
  at: Location;
}

/** How a device joins a guest: its mode, DMA window and the line saying so. */
interface Joining {
  mode: AssignMode;
  window?: Interval;
  instance?: string;
  at: Location;
  modeWord?: Word;
}

/** One guest as it stands after a step. Frozen: later steps make new snapshots. */
export interface GuestSnapshot {
  guest: Guest;
  platform?: Platform;
  running: boolean;
  /** SEV-SNP: SNP_LAUNCH_UPDATE has run. */
  launched: boolean;
  ram: readonly GuestRamRange[];
  devices: readonly Held[];
  container: Container<GuestRamRange>;
}

export interface StepState {
  step: ResolvedStep;
  /** Every guest the timeline has touched so far, after this step (shared with the steps before while none changed). */
  guests: readonly GuestSnapshot[];
  /** Every TDI in play, after this step (shared likewise). */
  tdis: readonly TdiSnapshot[];
}

export interface TimelineRun {
  timeline: Timeline;
  states: StepState[];
}

interface Run {
  guest: Guest;
  platform?: Platform;
  running: boolean;
  ram: GuestRamRange[];
  container: Container<GuestRamRange>;
  devices: Holdings;
  /**
   * The steps that set the guest up, as related locations: the first (its start, which
   * fixed the memory map) and the latest few migrations and stops (`withSetupStep`).
   */
  setup: Related[];
  /** How many setup steps were left out of `setup` since the guest started. */
  setupLeftOut: number;
  launch: LaunchState;
  snapshot?: GuestSnapshot;
}

/**
 * Hovers show the state after each step: a snapshot of each guest the step touched, with
 * copies of its device, group and mapping lists, and the list of every guest and every
 * TDI in play (shared with the step before when nothing in it changed). One guest receiving
 * thousands of devices would keep a copy of ever longer lists per step (20,000 hotplugs:
 * 4 GB, past V8's heap limit), and so would thousands of guests started in one timeline
 * (2,000 confidential guests brought up: 2.5 GB). Once a timeline's snapshots hold this
 * many list entries, later steps keep no state: their findings are the same, only hovers
 * on those steps have no state to show.
 */
const SNAPSHOT_BUDGET = 2_000_000;

export function runTimelines(model: Model, regionsOf: (p: Platform) => PlatformRegions, out: Finding[]): Map<Timeline, TimelineRun> {
  const runs = new Map<Timeline, TimelineRun>();
  // Findings on a guest's own lines (an assign line) are reported once, whichever timeline finds them.
  const reported = new Set<string>();
  for (const t of model.timelines.values()) runs.set(t, new Runner(model, t, regionsOf, out, reported).run());
  return runs;
}

class Runner {
  private readonly guests = new Map<Guest, Run>();
  /** The running guest holding each device. */
  private readonly heldBy = new Map<Device, Run>();
  private readonly claims: Claims = newClaims();
  private readonly tdis: Tdis;

  constructor(
    model: Model,
    private readonly t: Timeline,
    private readonly regionsOf: (p: Platform) => PlatformRegions,
    private readonly out: Finding[],
    private readonly reported: Set<string>,
  ) {
    this.tdis = new Tdis(model, t.steps, out, (d) => {
      const h = this.holding(d);
      return h && { guest: h.run.guest, mode: h.mode, dma: h.dma };
    });
  }

  run(): TimelineRun {
    const states: StepState[] = [];
    let kept = 0;
    let guests: readonly GuestSnapshot[] | undefined;
    let tdis: readonly TdiSnapshot[] | undefined;
    for (const r of this.t.steps) {
      const known = this.guests.size;
      const touched = this.step(r);
      if (touched) touched.snapshot = undefined;
      if (touched || this.guests.size !== known) guests = undefined;
      if (kept > SNAPSHOT_BUDGET) continue;
      if (!guests) {
        guests = [...this.guests.values()].map((x) => {
          if (!x.snapshot) kept += x.devices.size + x.container.groups.length + x.container.mappings.length;
          return this.snapshot(x);
        });
        kept += guests.length;
      }
      const now = this.tdis.snapshot();
      if (now !== tdis) kept += now.length;
      tdis = now;
      states.push({ step: r, guests, tdis });
    }
    return { timeline: this.t, states };
  }

  /** The running guest holding a device, and how. */
  private holding(d: Device): (Held & { run: Run }) | undefined {
    const run = this.heldBy.get(d);
    const h = run?.devices.get(d);
    return run && h && { ...h, run };
  }

  /** Applies one step; returns the guest it changed. */
  private step(r: ResolvedStep): Run | undefined {
    switch (r.step.kind) {
      case 'start':
        return r.guest && r.platform ? this.start(r, r.guest, r.platform) : undefined;
      case 'stop':
        return r.guest ? this.stop(r, r.guest) : undefined;
      case 'migrate':
        return r.guest && r.target ? this.migrate(r, r.guest, r.target) : undefined;
      case 'hotplug':
        return r.guest ? this.hotplug(r, r.guest) : undefined;
      case 'unplug':
        return r.device ? this.unplug(r, r.device) : undefined;
      case 'tdisp':
      case 'config':
      case 'power':
      case 'link':
        this.tdis.step(r);
        return undefined;
      case 'convert':
        return r.device ? this.convert(r, r.device) : undefined;
      case 'launch-update':
        return r.guest ? this.launch(r, r.guest) : undefined;
      default:
        return undefined; // balloon and free belong to the Xen engine
    }
  }

  private runOf(g: Guest, platform: Platform | undefined): Run {
    let run = this.guests.get(g);
    if (!run) {
      run = {
        guest: g,
        platform,
        running: false,
        ram: guestRam(g),
        container: newContainer(g),
        devices: new Holdings(),
        setup: [],
        setupLeftOut: 0,
        launch: newLaunch(),
      };
      this.guests.set(g, run);
    }
    return run;
  }

  private at(r: ResolvedStep): { uri: string; span: Span } {
    return { uri: r.uri, span: r.step.span };
  }

  private site(r: ResolvedStep, run: Run, verb: string, prefix: string): Site {
    return { uri: r.uri, span: r.step.span, verb, onStep: true, context: run.setup, prefix };
  }

  private start(r: ResolvedStep, g: Guest, platform: Platform): Run {
    const run = this.runOf(g, platform);
    if (run.running) {
      this.out.push(
        finding(
          'guest-already-running',
          this.at(r),
          `guest ${g.sym.name} is already running on ${run.platform?.sym.name ?? 'its host'}: a ` +
            'second QEMU for it would fight the first over its devices and disk',
          { related: run.setup.slice(0, 1) },
        ),
      );
      return run;
    }
    Object.assign(run, {
      platform,
      running: true,
      container: newContainer(g),
      devices: new Holdings(),
      setup: [],
      setupLeftOut: 0,
      launch: newLaunch(),
    });
    run.setup.push({
      uri: r.uri,
      span: r.step.span,
      message: `guest ${g.sym.name} starts on ${platform.sym.name}; its memory map is fixed here`,
    });
    // On its own platform the assignments were checked when the guest was declared;
    // elsewhere (started again after a migration) they are checked here.
    const declared = platform === g.platform;
    const site = this.site(
      r,
      run,
      `is assigned here (guest ${g.sym.name} starts)`,
      `starting guest ${g.sym.name} on ${platform.sym.name}: `,
    );
    const pr = this.regionsOf(platform);
    for (const a of g.assigns) {
      if (!a.device) continue;
      const dev = declared ? a.device : platform.devices.get(a.device.sym.name);
      if (!dev) {
        this.out.push(
          finding(
            'migrate-device-missing',
            this.at(r),
            `${site.prefix}device ${a.device.sym.name} (${qemuDevice(a.device)}) assigned to the guest does not exist there; ` +
              `QEMU fails with "vfio ${qemuDevice(a.device)}: error getting device from group: No such device"`,
            {
              related: [
                { uri: a.uri, span: a.stmt.span, message: `assigned here` },
                { uri: platform.sym.uri, span: platform.sym.nameSpan, message: `platform ${platform.sym.name}` },
              ],
            },
          ),
        );
        continue;
      }
      const at = { uri: a.uri, span: a.stmt.span };
      this.bringIn(
        run,
        dev,
        pr,
        site,
        declared ? [] : this.out,
        { mode: a.mode, window: a.dmaWindow, instance: instanceOf(g, a.iommufd), at, modeWord: a.stmt.mode },
        declared,
      );
    }
    return run;
  }

  /**
   * Claims and realizes a device in a running guest. `quiet`: its own problems were
   * reported elsewhere; only a clash with a device the timeline put in another guest is new.
   */
  private bringIn(run: Run, dev: Device, pr: PlatformRegions, site: Site, out: Finding[], how: Joining, quiet = false): boolean {
    const group = dev.iommu ? pr.groupOf(dev) : undefined;
    if (group) {
      const prior = this.claims.devices.get(dev) ?? this.claims.groups.get(group);
      if (quiet && prior && !prior.site.onStep) return false;
      if (!claim(run.guest, site, dev, group, this.claims, this.out)) return false;
    }
    const gr = realize({ guest: run.guest, ram: run.ram, container: run.container, pr, site, atomic: true }, dev, out);
    if (!gr) {
      if (group) release(dev, group, this.claims);
      return false;
    }
    run.devices.add({
      device: dev,
      gr,
      site,
      mode: how.mode,
      dma: dmaSide(how.mode),
      window: how.window,
      instance: how.instance,
      at: how.at,
    });
    this.heldBy.set(dev, run);
    this.tdis.realized(dev);
    realizedBeforeLaunch(run.guest, run.launch, { device: dev, at: how.at, mode: how.modeWord }, how.mode === 'private');
    return true;
  }

  /** A device leaves a running guest (unplug, stop, the source side of a migration). */
  private leave(r: ResolvedStep, h: Held, why: string): void {
    this.heldBy.delete(h.device);
    release(h.device, h.gr.group, this.claims);
    this.tdis.released(h.device, r, why);
  }

  private notRunning(r: ResolvedStep, g: Guest, what: string): void {
    this.out.push(
      finding(
        'guest-not-running',
        this.at(r),
        `guest ${g.sym.name} is not running at this step, so there is no QEMU to ${what}; start it first`,
        {
          fixes: [
            {
              title: `Start ${g.sym.name} first`,
              edits: [{ uri: r.uri, span: { start: r.step.span.start, end: r.step.span.start }, newText: `start ${g.sym.name}\n  ` }],
            },
          ],
        },
      ),
    );
  }

  private stop(r: ResolvedStep, g: Guest): Run | undefined {
    const run = this.guests.get(g);
    if (!run?.running) {
      this.notRunning(r, g, 'stop');
      return undefined;
    }
    for (const h of run.devices.values()) this.leave(r, h, `leaves with guest ${g.sym.name}`);
    Object.assign(run, { running: false, devices: new Holdings(), container: newContainer(g), launch: newLaunch() });
    withSetupStep(run, { uri: r.uri, span: r.step.span, message: `guest ${g.sym.name} stops` });
    return run;
  }

  private migrate(r: ResolvedStep, g: Guest, target: Platform): Run {
    const source = r.platform;
    const run = this.runOf(g, source);
    if (!run.running) this.notRunning(r, g, 'migrate');
    const prefix = `after migrating guest ${g.sym.name} to ${target.sym.name}, `;
    const site = this.site(r, run, `moves with the guest here`, prefix);
    const tr = this.regionsOf(target);
    // The destination QEMU realizes the same devices (same names, RULES §4) before it takes the state.
    const carried = [...run.devices.values()];
    for (const h of carried) this.leave(r, h, `leaves ${source?.sym.name ?? 'the source'} with guest ${g.sym.name}`);
    Object.assign(run, { platform: target, devices: new Holdings(), container: newContainer(g, target) });
    const behind = new Set<Iommu>();
    for (const h of carried) {
      const dev = target.devices.get(h.device.sym.name);
      if (!dev) {
        const sameBdf = h.device.bdf ? this.byAddress(target).get(qemuDevice(h.device)) : undefined;
        this.out.push(
          finding(
            'migrate-device-missing',
            this.at(r),
            `guest ${g.sym.name} holds ${h.device.sym.name} (${qemuDevice(h.device)}), and ${target.sym.name} has no device of ` +
              `that name${sameBdf ? ` (${sameBdf.sym.name} sits at that address)` : ''}: the destination QEMU cannot realize it ` +
              `("vfio ${qemuDevice(h.device)}: error getting device from group: No such device"), so the migration fails`,
            {
              related: [
                { uri: h.site.uri, span: h.site.span, message: `${h.device.sym.name} ${h.site.verb}` },
                { uri: target.sym.uri, span: target.sym.nameSpan, message: `platform ${target.sym.name}` },
              ],
            },
          ),
        );
        continue;
      }
      if (dev.iommu) behind.add(dev.iommu);
      if (run.running) this.bringIn(run, dev, tr, site, this.out, { mode: h.mode, window: h.window, at: h.at });
    }
    this.addressWidth(r, run, target, tr, behind);
    withSetupStep(run, {
      uri: r.uri,
      span: r.step.span,
      message: `guest ${g.sym.name} migrates from ${source?.sym.name ?? 'its host'} to ${target.sym.name}, keeping its memory map`,
    });
    return run;
  }

  /**
   * A platform's devices by PCI address (the first declared at each), built once: a
   * migration names the one at a missing device's address.
   */
  private byAddress(p: Platform): Map<string, Device> {
    let m = this.addresses.get(p);
    if (m) return m;
    this.addresses.set(p, (m = new Map()));
    for (const d of p.devices.values()) if (d.bdf && !m.has(qemuDevice(d))) m.set(qemuDevice(d), d);
    return m;
  }

  private readonly addresses = new Map<Platform, Map<string, Device>>();

  /** The target's IOMMUs must cover the guest's RAM, or no device behind them can be added (RULES §2.2a). */
  private addressWidth(r: ResolvedStep, run: Run, target: Platform, tr: PlatformRegions, reported: Set<Iommu>): void {
    if (!run.ram.length) return;
    const top = run.ram.reduce((m, x) => (x.range.end > m ? x.range.end : m), 0n);
    const narrow = tr.iommusNotReaching(top).filter((i) => !reported.has(i));
    if (!narrow.length) return;
    const names = narrow.map((i) => `${i.sym.name} (${addressWidthOf(i)} bits, up to ${hex(apertureEnd(i))})`).join(', ');
    this.out.push(
      finding(
        'migrate-address-width',
        this.at(r),
        `guest ${run.guest.sym.name}'s RAM reaches ${hex(top)}, beyond the aperture of ${names} on ${target.sym.name}: ` +
          'the migration itself succeeds (it does not involve the IOMMU), but after it no device ' +
          `behind ${narrow.length > 1 ? 'them' : 'it'} can be hot-added: the DMA map of that RAM fails with -EINVAL`,
        {
          related: [
            ...narrow.map((i) => ({ uri: i.sym.uri, span: i.sym.nameSpan, message: `IOMMU ${i.sym.name}` })),
            ...run.setup.slice(0, 1),
          ],
        },
      ),
    );
  }

  private hotplug(r: ResolvedStep, g: Guest): Run | undefined {
    const run = this.guests.get(g);
    if (!run?.running) {
      this.notRunning(r, g, 'take the device');
      return undefined;
    }
    const dev = r.device;
    if (!dev || !run.platform) return undefined;
    const site = this.site(r, run, 'is hot-added here', `hot-adding ${dev.sym.name} to guest ${g.sym.name} on ${run.platform.sym.name}: `);
    const step = r.step.kind === 'hotplug' ? r.step : undefined;
    const how: Joining = {
      mode: (step?.mode?.text ?? 'shared') as AssignMode,
      window: r.range,
      instance: instanceOf(g, r.iommufd),
      at: this.at(r),
      modeWord: step?.mode,
    };
    if (this.bringIn(run, dev, this.regionsOf(run.platform), site, this.out, how)) {
      const joining = { device: dev, mode: how.mode, window: how.window, instance: how.instance, at: how.at };
      checkMember(g, joining, run.devices.otherSide(dmaSide(how.mode), joining), site.prefix, this.out, run.setup.slice(0, 1));
    }
    return run;
  }

  /**
   * `convert D to MODE` (RULES §6.2, §6.4): only a bind-capable device can switch, since the
   * DTE was written at realize; it goes private once its TDI runs.
   */
  private convert(r: ResolvedStep, dev: Device): Run | undefined {
    const h = this.holding(dev);
    const to = r.step.kind === 'convert' ? (r.step.mode?.text as 'private' | 'shared' | undefined) : undefined;
    if (!to) return undefined;
    if (!h) {
      this.out.push(
        finding(
          'device-not-plugged',
          this.at(r),
          `${dev.sym.name} is not in any running guest at this step, so no guest can ask to convert its DMA to ${to}`,
        ),
      );
      return undefined;
    }
    const g = h.run.guest;
    if (h.dma === to) return undefined;
    if (!g.confidential) {
      this.out.push(
        sevFinding(
          'sev-not-confidential',
          this.at(r),
          `guest ${g.sym.name} is not confidential: it has no private memory to convert ${dev.sym.name}'s DMA to`,
          { related: [{ uri: g.sym.uri, span: g.sym.nameSpan, message: `guest ${g.sym.name}` }] },
        ),
      );
      return undefined;
    }
    if (h.mode !== 'bind-capable') {
      const ref = r.step.kind === 'convert' && r.step.device ? refText(r.step.device) : dev.sym.name;
      this.out.push(
        sevFinding(
          'sev-convert-needs-replug',
          this.at(r),
          `${dev.sym.name} was realized ${h.mode}: QEMU wrote its IOMMU device table entry (DTE) then, and the DTE is ` +
            `not updated afterwards, so converting its DMA to ${to} needs unplug and replug (RULES §6.2)`,
          {
            related: [{ uri: h.at.uri, span: h.at.span, message: `${dev.sym.name} realized ${h.mode} here` }],
            fixes: [
              {
                title: `Unplug ${dev.sym.name} and hot-add it ${to}`,
                edits: [
                  {
                    uri: r.uri,
                    span: r.step.span,
                    newText: `unplug ${ref} from ${g.sym.name}\n  hotplug ${ref} into ${g.sym.name} as ${to}`,
                  },
                ],
              },
            ],
          },
        ),
      );
      return undefined;
    }
    const state = this.tdis.state(dev);
    if (to === 'private' && state !== 'RUN') {
      this.out.push(
        tdispFinding(
          'tdisp-dma-before-run',
          this.at(r),
          `the guest converts ${dev.sym.name} to private DMA while its TDI is ${state ?? 'CONFIG_UNLOCKED'}: ` +
            'the guest accepts a TDI and switches it to private only in RUN, since T-bit requests are rejected ' +
            'in any other state (RULES §5.4, §6.4). Lock and start the TDI first',
        ),
      );
    }
    const at = this.at(r);
    const next: Held = { ...h.run.devices.get(dev)!, dma: to, at };
    checkMember(g, member(next), h.run.devices.otherSide(to, member(next)), `converting ${dev.sym.name} to ${to}: `, this.out);
    h.run.devices.add(next);
    return h.run;
  }

  /** `launch-update G`: SNP_LAUNCH_UPDATE (RULES §6.3). */
  private launch(r: ResolvedStep, g: Guest): Run | undefined {
    const run = this.guests.get(g);
    if (!run?.running) {
      this.notRunning(r, g, 'launch');
      return undefined;
    }
    launchUpdate(r, g, run.launch, this.reported, this.out);
    return run;
  }

  private unplug(r: ResolvedStep, dev: Device): Run | undefined {
    const holder = this.heldBy.get(dev);
    const run = holder && (!r.guest || holder.guest === r.guest) ? holder : undefined;
    if (!run) {
      this.out.push(
        finding(
          'device-not-plugged',
          this.at(r),
          `${dev.sym.name} is not in ${r.guest ? `guest ${r.guest.sym.name}` : 'any running guest'} at ` +
            `this step: QEMU refuses device_del with "Device '${dev.sym.name}' not found"`,
        ),
      );
      return undefined;
    }
    const held = run.devices.remove(dev)!;
    this.leave(r, held, `is unplugged from guest ${run.guest.sym.name}`);
    // The group leaves the container once none of its devices is left in the guest.
    if (!run.devices.holdsGroup(held.gr)) run.container.detach(held.gr);
    return run;
  }

  private snapshot(run: Run): GuestSnapshot {
    return (run.snapshot ??= {
      guest: run.guest,
      platform: run.platform,
      running: run.running,
      launched: !!run.launch.launched,
      ram: run.ram,
      devices: [...run.devices.values()],
      container: run.container.clone(),
    });
  }
}

/**
 * At most this many setup steps are related to a guest's findings: the first and the
 * latest ones. A guest migrating back and forth thousands of times related every finding
 * to every earlier migration: 1,000 cycles of migrate and hot-add took 3.2 s and 870 MB.
 */
export const SETUP_KEPT = 4;

/**
 * Adds a setup step to the guest's related steps. Past `SETUP_KEPT` the oldest but the
 * first goes, and the oldest one kept after the first says how many went. A new array
 * each time: sites made earlier keep the steps as they were then.
 */
function withSetupStep(run: Run, step: Related): void {
  if (run.setup.length < SETUP_KEPT) {
    run.setup = [...run.setup, step];
    return;
  }
  // [first, dropped, next, ...rest] becomes [first, next (noted), ...rest, step]; `next`
  // was never second, so its message carries no note yet.
  const [first, , next, ...rest] = run.setup;
  const n = ++run.setupLeftOut;
  const noted = { ...next!, message: `${next!.message} (${n} earlier step${n > 1 ? 's' : ''} of the guest not listed)` };
  run.setup = [first!, noted, ...rest, step];
}

/** A held device as the SEV checks see it: a converted bind-capable device counts as private. */
function member(h: Held): Member {
  return { device: h.device, mode: h.dma === 'private' ? 'private' : h.mode, window: h.window, instance: h.instance, at: h.at };
}

/**
 * The devices a running guest holds, in the order they came, indexed for what the steps
 * ask: the holder of a device, whether a group still has a device in the guest, the first
 * device on each side of vTOM. Each step costs O(1), not the number of devices held.
 */
class Holdings {
  private readonly byDevice = new Map<Device, Held>();
  /** By iommufd instance and the side of vTOM their DMA is on, in the order they came there. */
  private readonly bySide = new Map<string, Map<Device, Held>>();
  private readonly perGroup = new Map<GroupRegions, number>();

  get size(): number {
    return this.byDevice.size;
  }

  values(): IterableIterator<Held> {
    return this.byDevice.values();
  }

  get(d: Device): Held | undefined {
    return this.byDevice.get(d);
  }

  /** Adds a device, or replaces how it is held (a conversion keeps its place in the order). */
  add(h: Held): void {
    const prior = this.byDevice.get(h.device);
    if (prior) this.side(prior.instance, prior.dma).delete(h.device);
    else this.perGroup.set(h.gr, (this.perGroup.get(h.gr) ?? 0) + 1);
    this.byDevice.set(h.device, h);
    this.side(h.instance, h.dma).set(h.device, h);
  }

  remove(d: Device): Held | undefined {
    const h = this.byDevice.get(d);
    if (!h) return undefined;
    this.byDevice.delete(d);
    this.side(h.instance, h.dma).delete(d);
    const n = this.perGroup.get(h.gr)! - 1;
    if (n) this.perGroup.set(h.gr, n);
    else this.perGroup.delete(h.gr);
    return h;
  }

  holdsGroup(gr: GroupRegions): boolean {
    return this.perGroup.has(gr);
  }

  private side(instance: string | undefined, dma: 'private' | 'shared'): Map<Device, Held> {
    const key = `${dma}|${instance ?? '#type1'}`;
    let m = this.bySide.get(key);
    if (!m) this.bySide.set(key, (m = new Map()));
    return m;
  }

  /**
   * What the SEV check compares member `m` joining on `side` with: the first other device
   * of its iommufd instance whose DMA is on the other side (the check names one), as a one-member list.
   */
  otherSide(side: 'private' | 'shared', m: Member): Member[] {
    for (const h of this.side(m.instance, side === 'private' ? 'shared' : 'private').values())
      if (h.device !== m.device) return [member(h)];
    return [];
  }
}

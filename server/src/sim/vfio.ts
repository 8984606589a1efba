/**
 * Starting every guest (RULES §2–3): QEMU realizes the assigned devices in order, each
 * device's IOMMU group joins the guest's container (VFIO type1 or iommufd), and once the
 * first group is in, every guest RAM range is mapped for DMA. Each refusal becomes a
 * finding on the guest line that fails, with the region and the device as related
 * locations and the kernel's decision and QEMU's error line in the message.
 */
import type * as A from '@iommu-lens/grammar';
import type { Finding, Fix } from '../model/findings';
import { finding } from '../model/codes';
import { ALL_ADDRESSES, formatInterval, formatSize, hex } from '../model/interval';
import type { Assignment, Device, Guest, Model, Platform } from '../model/types';
import { Container } from './container';
import { DEFAULT_DOORBELL_SIZE, DOORBELL_BLOCKERS, placeDoorbell } from './doorbell';
import { deviceRelated, describeRegions, firstNames, regionRelated, someOf } from './explain';
import { groupLabel, groupNumberText, type GroupRegions, type PlatformRegions } from './platformRegions';
import { bitsFor, guestRam, machineLayout, physBitsError, qemuDevice, type GuestRamRange } from './qemu';
import { claim, newClaims, realize, type Claim, type Claims, type FixFor, type Site } from './realize';
import type { MergedRegion } from './regions';
import { checkGuestAssignments } from '../domains/sev/sim/joinRules';

export interface GuestState {
  guest: Guest;
  ram: GuestRamRange[];
  container: Container<GuestRamRange>;
  /** Every group the guest's assignments name, attached or refused. */
  groups: GroupRegions[];
  /** The guest needs a software MSI doorbell window (arm64, sw-msi and no hardware msi). */
  needsDoorbell: boolean;
}

export function simulateGuests(model: Model, regionsOf: (p: Platform) => PlatformRegions, out: Finding[]): Map<Guest, GuestState> {
  const states = new Map<Guest, GuestState>();
  const claims = newClaims();
  for (const g of model.guests.values()) {
    if (!g.platform) continue;
    states.set(g, startGuest(g, regionsOf(g.platform), claims, out));
    checkGuestAssignments(g, out);
  }
  const named = new Set([...model.guests.values()].flatMap((g) => g.assigns.flatMap((a) => (a.device ? [a.device] : []))));
  partlyAssigned(claims, named, out);
  return states;
}

/** A fresh container for the guest: its flavour, its doorbell in place of the groups' sw-msi windows. */
export function newContainer(g: Guest): Container<GuestRamRange> {
  return new Container<GuestRamRange>(g.container, guestDoorbell(g));
}

/** The guest's doorbell: its `msi-window`, which takes the place of the groups' sw-msi windows. */
export function guestDoorbell(g: Guest): MergedRegion | undefined {
  const stmt = msiWindowStmt(g);
  return g.msiWindow && stmt
    ? { type: 'sw-msi', range: g.msiWindow, sources: [{ kind: 'window', uri: g.sym.uri, span: stmt.span, guest: g.sym.name }] }
    : undefined;
}

export function isArmGuest(g: Guest, p: Platform | undefined): boolean {
  return p?.arch === 'arm64' || g.machine?.type === 'virt';
}

/** The site of an `assign` line: findings about RAM go on the RAM lines. */
export function assignSite(a: Assignment): Site {
  return { uri: a.uri, span: a.stmt.span, verb: 'is assigned here', onStep: false, context: [], prefix: '' };
}

/**
 * Starts a guest on a platform: its assignments in order, then the doorbell check.
 * `claims` holds what other guests took; `out` receives the findings.
 */
export function startGuest(g: Guest, pr: PlatformRegions, claims: Claims, out: Finding[]): GuestState {
  const ram = guestRam(g);
  const windowStmt = msiWindowStmt(g);
  const container = newContainer(g);
  const state: GuestState = { guest: g, ram, container, groups: [], needsDoorbell: false };
  const overlapping = ramOverlaps(g, ram, out);
  physBits(g, out);
  const arm = isArmGuest(g, pr.platform);
  // One guest, one doorbell placement: computed for the first finding that offers it.
  let doorbell: Fix[] | undefined;
  const fixFor: FixFor = (regions) =>
    arm && regions.some((r) => r.type === 'sw-msi') ? (doorbell ??= doorbellFix(g, pr, ram, windowStmt)) : [];

  const named = new Set<GroupRegions>(); // state.groups, for lookups
  for (const a of g.assigns) {
    const dev = a.device;
    if (!dev) continue;
    const site = assignSite(a);
    const group = dev.iommu ? pr.groupOf(dev) : undefined;
    if (group) {
      if (!claim(g, site, dev, group, claims, out)) continue;
      const gr = pr.regions(group);
      if (!named.has(gr)) {
        named.add(gr);
        state.groups.push(gr);
      }
    }
    realize({ guest: g, ram, container, pr, site, fixFor, skip: overlapping }, dev, out);
  }

  state.needsDoorbell = arm && state.groups.some((gr) => gr.has('sw-msi') && !gr.has('msi'));
  if (state.needsDoorbell) checkDoorbell(g, pr, state, windowStmt, out);
  return state;
}

/** QEMU refuses to start a PC machine whose addresses exceed its phys-bits (RULES §3.3). */
function physBits(g: Guest, out: Finding[]): void {
  const m = g.machine;
  const layout = machineLayout(g);
  if (!m || !layout || m.physBits === undefined) return;
  const error = physBitsError(layout, m.physBits);
  if (!error) return;
  const need = bitsFor(layout.maxUsedGpa!);
  const opt = m.stmt.options.find((o) => o.key.text === 'phys-bits');
  const hole = layout.pciHole64 ? ` and the 64-bit PCI hole ${formatInterval(layout.pciHole64)}` : '';
  out.push(
    finding(
      'phys-bits-too-low',
      { uri: g.sym.uri, span: opt?.span ?? m.stmt.span },
      `guest ${g.sym.name} uses guest-physical addresses up to ${hex(layout.maxUsedGpa!)} (its RAM${hole}${layout.relocated ? ', above-4G RAM relocated to 1 TiB' : ''}), beyond what ${m.physBits} phys-bits reach: QEMU exits with "${error}"`,
      {
        fixes: opt?.value
          ? [{ title: `Set phys-bits ${need}`, edits: [{ uri: g.sym.uri, span: opt.value.span, newText: String(need) }] }]
          : [],
      },
    ),
  );
}

/** Devices of a group named as related locations. */
const RELATED_DEVICES = 20;

/** VFIO group viability: every device of a group must be bound to vfio-pci (or no driver). */
function partlyAssigned(claims: Claims, named: Set<Device>, out: Finding[]): void {
  for (const [group, c] of claims.groups) {
    // Devices some guest names (even if refused there) are reported where they are named.
    const left = group.devices.filter((d) => !named.has(d) && d.deviceClass !== 'bridge');
    if (!left.length) continue;
    // A group of thousands names a few (the fix still assigns them all).
    out.push(
      finding(
        'group-partly-assigned',
        c.site,
        `${groupLabel(group)} also holds ${firstNames(left, 8)}, which no guest is assigned; unless ${left.length > 1 ? 'they are' : 'it is'} bound to vfio-pci (or to no driver) the group is not viable and QEMU fails with "vfio ${qemuDevice(c.device)}: group ${groupNumberText(group)} is not viable. Please ensure all devices within the iommu_group are bound to their vfio bus driver."`,
        {
          related: left.slice(0, RELATED_DEVICES).map((d) => deviceRelated(d, `also in ${groupLabel(group)}`)),
          fixes: [assignRest(c, left)],
        },
      ),
    );
  }
}

/** The fix that makes the group viable: the guest takes the rest of it, one `assign` line each. */
function assignRest(c: Claim, left: readonly Device[]): Fix {
  const lines = left.map((d) => `\n  assign ${d.sym.name}`).join('');
  return {
    title: `Assign ${someOf(
      left.map((d) => d.sym.name),
      3,
    )} to guest ${c.guest.sym.name} too`,
    edits: [{ uri: c.site.uri, span: { start: c.site.span.end, end: c.site.span.end }, newText: lines }],
  };
}

/** Guest RAM ranges overlapping one another: the second map is `-EEXIST`. Sort and sweep. */
function ramOverlaps(g: Guest, ram: readonly GuestRamRange[], out: Finding[]): Set<GuestRamRange> {
  const bad = new Set<GuestRamRange>();
  const order = new Map(ram.map((r, i) => [r, i]));
  const sorted = [...ram].sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0));
  let reach: GuestRamRange | undefined; // the range reaching furthest so far
  for (const r of sorted) {
    if (reach && r.range.start <= reach.range.end) {
      const [earlier, later] = order.get(reach)! < order.get(r)! ? [reach, r] : [r, reach];
      bad.add(later);
      out.push(
        finding(
          'ram-overlap',
          { uri: later.uri, span: later.span },
          `guest RAM ${later.name} ${formatInterval(later.range)} overlaps ${earlier.name} ${formatInterval(earlier.range)} of guest ${g.sym.name}: VFIO_IOMMU_MAP_DMA refuses a range that is already mapped with -EEXIST`,
          { related: [{ uri: earlier.uri, span: earlier.span, message: `guest RAM ${earlier.name}` }] },
        ),
      );
    }
    if (!reach || r.range.end > reach.range.end) reach = r;
  }
  return bad;
}

// ----- the doorbell window ---------------------------------------------------------

export function msiWindowStmt(g: Guest): A.MsiWindowStmt | undefined {
  let last: A.MsiWindowStmt | undefined;
  for (const item of g.decl.items) if (item.kind === 'msi-window') last = item;
  return last;
}

/** seed 002's placement for this guest's doorbell window, as a fix that writes it. */
function doorbellFix(g: Guest, pr: PlatformRegions, ram: readonly GuestRamRange[], stmt: A.MsiWindowStmt | undefined): Fix[] {
  const size = g.msiWindow ? g.msiWindow.end - g.msiWindow.start + 1n : DEFAULT_DOORBELL_SIZE;
  const avoid = [...pr.doorbellObstacles(), ...ram.map((r) => r.range)];
  const w = placeDoorbell(size, avoid);
  if (!w) return [];
  const text = `${hex(w.start)} size ${formatSize(size)}`;
  if (stmt?.range) {
    return [{ title: `Move the MSI doorbell window to ${text}`, edits: [{ uri: g.sym.uri, span: stmt.range.span, newText: text }] }];
  }
  const open = g.decl.braces?.open;
  if (!open) return [];
  return [
    {
      title: `Add msi-window ${text}`,
      edits: [{ uri: g.sym.uri, span: { start: open.end, end: open.end }, newText: `\n  msi-window ${text}` }],
    },
  ];
}

function checkDoorbell(g: Guest, pr: PlatformRegions, s: GuestState, stmt: A.MsiWindowStmt | undefined, out: Finding[]): void {
  const swGroups = s.groups.filter((gr) => gr.has('sw-msi') && !gr.has('msi'));
  const which = swGroups.map((gr) => groupLabel(gr.group)).join(', ');
  if (!g.msiWindow || !stmt) {
    const fixes = doorbellFix(g, pr, s.ram, undefined);
    const suggestion = fixes[0] ? ` Seed 002's placement: ${fixes[0].title.replace(/^Add /, '')}.` : '';
    const windows = swGroups.flatMap((gr) => gr.overlapping(ALL_ADDRESSES, ['sw-msi']));
    out.push(
      finding(
        'msi-window-missing',
        { uri: g.sym.uri, span: g.sym.nameSpan },
        `guest ${g.sym.name} needs a software MSI doorbell window (${which}: sw-msi and no hardware msi) and names none, so the kernel's window ${[...new Set(windows.map((w) => formatInterval(w.range)))].join(', ')} is used; it must stay free of guest RAM on every host the guest may run on.${suggestion}`,
        { fixes, related: regionRelated(windows) },
      ),
    );
    return;
  }
  const hit = s.groups.flatMap((gr) => gr.overlapping(g.msiWindow!, DOORBELL_BLOCKERS));
  if (!hit.length) return;
  out.push(
    finding(
      'msi-window-conflict',
      { uri: g.sym.uri, span: stmt.range?.span ?? stmt.span },
      `the msi-window ${formatInterval(g.msiWindow)} of guest ${g.sym.name} overlaps ${describeRegions(hit)}: the doorbell cannot be mapped over a reserved range (VFIO_IOMMU_MAP_DMA and IOMMU_IOAS_MAP fail with -EINVAL)`,
      { related: regionRelated(hit), fixes: doorbellFix(g, pr, s.ram, stmt) },
    ),
  );
}

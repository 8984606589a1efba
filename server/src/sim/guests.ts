/**
 * Starting every guest (RULES §2–3): QEMU realizes the assigned devices in order, each
 * device's IOMMU group joins the guest's container (VFIO type1 or iommufd), and once the
 * first group is in, every guest RAM range is mapped for DMA. Each refusal becomes a
 * finding on the guest line that fails, with the region and the device as related
 * locations and the kernel's decision and QEMU's error line in the message.
 */
import type * as A from '@iommu-lens/grammar';
import { finding, type Finding, type Fix, type Related } from '../model/findings';
import { ALL_ADDRESSES, formatInterval, formatSize, hex } from '../model/interval';
import type { Assignment, Device, Guest, Model, Platform } from '../model/types';
import { DEFAULT_ADDRESS_WIDTH } from './builtins';
import { Container, type AttachRefusal, type MapRefusal } from './container';
import { DEFAULT_DOORBELL_SIZE, placeDoorbell } from './doorbell';
import { deviceRelated, describeRegions, regionRelated } from './explain';
import { groupLabel, groupNumberText, type GroupRegions, type IommuGroup, type PlatformRegions } from './groups';
import { guestRam, kernelIdentityMessage, qemuDevice, qemuGroupError, qemuIommufdAttachError, qemuMapError, type GuestRamRange } from './qemu';
import { overlaps, type MergedRegion } from './regions';

export interface GuestState {
  guest: Guest;
  ram: GuestRamRange[];
  container: Container<GuestRamRange>;
  /** Every group the guest's assignments name, attached or refused. */
  groups: GroupRegions[];
  /** The guest needs a software MSI doorbell window (arm64, sw-msi and no hardware msi). */
  needsDoorbell: boolean;
}

interface Claim { guest: Guest; assign: Assignment }

export function simulateGuests(model: Model, regionsOf: (p: Platform) => PlatformRegions, out: Finding[]): Map<Guest, GuestState> {
  const states = new Map<Guest, GuestState>();
  const deviceClaims = new Map<Device, Claim>();
  const groupClaims = new Map<IommuGroup, Claim>();
  for (const g of model.guests.values()) {
    if (!g.platform) continue;
    const s = startGuest(g, regionsOf(g.platform), deviceClaims, groupClaims, out);
    states.set(g, s);
  }
  const named = new Set([...model.guests.values()].flatMap((g) => g.assigns.flatMap((a) => (a.device ? [a.device] : []))));
  partlyAssigned(groupClaims, named, out);
  return states;
}

function startGuest(g: Guest, pr: PlatformRegions, deviceClaims: Map<Device, Claim>, groupClaims: Map<IommuGroup, Claim>, out: Finding[]): GuestState {
  const ram = guestRam(g);
  const windowStmt = msiWindowStmt(g);
  const doorbell: MergedRegion | undefined = g.msiWindow && windowStmt
    ? { type: 'sw-msi', range: g.msiWindow, sources: [{ kind: 'window', uri: g.sym.uri, span: windowStmt.span, guest: g.sym.name }] }
    : undefined;
  const container = new Container<GuestRamRange>(g.container, doorbell);
  const state: GuestState = { guest: g, ram, container, groups: [], needsDoorbell: false };
  const overlapping = ramOverlaps(g, ram, out);
  const arm = g.platform?.arch === 'arm64' || g.machine?.type === 'virt';
  const fixFor = (regions: readonly MergedRegion[]) =>
    arm && regions.some((r) => r.type === 'sw-msi') ? doorbellFix(g, pr, ram, windowStmt) : [];

  for (const a of g.assigns) {
    const dev = a.device;
    if (!dev) continue;
    const at = { uri: a.uri, span: a.stmt.span };
    if (!dev.iommu) {
      out.push(finding('no-iommu', at, `device ${dev.sym.name} has no IOMMU in the description, so it has no IOMMU group and VFIO cannot take it: QEMU fails with "vfio ${qemuDevice(dev)}: no iommu_group found: No such file or directory"`,
        { related: [deviceRelated(dev, 'declared without `iommu`')] }));
      continue;
    }
    const group = pr.groupOf(dev);
    if (!group) continue;
    if (!claim(g, a, dev, group, deviceClaims, groupClaims, out)) continue;
    const gr = pr.regions(group);
    if (container.attached(gr)) continue;
    if (!state.groups.includes(gr)) state.groups.push(gr);
    const first = container.groups.length === 0;
    const refusals = container.attach(gr);
    for (const r of refusals) reportAttach(g, a, dev, gr, r, ram, fixFor, out);
    if (refusals.length || !first) continue;
    for (const r of ram) {
      if (overlapping.has(r)) continue; // reported as ram-overlap: the map would be -EEXIST
      const refusal = container.map(r.range, r);
      if (refusal) reportMap(a, dev, gr, r, refusal, fixFor, out);
    }
  }

  state.needsDoorbell = arm && state.groups.some((gr) => gr.has('sw-msi') && !gr.has('msi'));
  if (state.needsDoorbell) checkDoorbell(g, pr, state, windowStmt, out);
  return state;
}

/** A device and its group belong to one container (one open of `/dev/vfio/N`). */
function claim(g: Guest, a: Assignment, dev: Device, group: IommuGroup, deviceClaims: Map<Device, Claim>, groupClaims: Map<IommuGroup, Claim>, out: Finding[]): boolean {
  const at = { uri: a.uri, span: a.stmt.span };
  const prior = deviceClaims.get(dev);
  if (prior) {
    const where = prior.guest === g ? 'earlier in this guest' : `to guest ${prior.guest.sym.name}`;
    out.push(finding('device-assigned-twice', at, `device ${dev.sym.name} is already assigned ${where}: a device can be realized once; QEMU fails with "vfio ${qemuDevice(dev)}: device is already attached"`,
      { related: [{ uri: prior.assign.uri, span: prior.assign.stmt.span, message: `assigned here first` }] }));
    return false;
  }
  const owner = groupClaims.get(group);
  if (owner && owner.guest !== g) {
    out.push(finding('group-split', at, `device ${dev.sym.name} is in ${groupLabel(group)}, which guest ${owner.guest.sym.name} already holds (${owner.assign.device?.sym.name}): a group belongs to one container, so QEMU fails with "vfio: error opening /dev/vfio/${groupNumberText(group)}: Device or resource busy"`,
      { related: [{ uri: owner.assign.uri, span: owner.assign.stmt.span, message: `guest ${owner.guest.sym.name} takes ${groupLabel(group)} here` }, deviceRelated(dev, groupLabel(group))] }));
    return false;
  }
  deviceClaims.set(dev, { guest: g, assign: a });
  if (!owner) groupClaims.set(group, { guest: g, assign: a });
  return true;
}

/** VFIO group viability: every device of a group must be bound to vfio-pci (or no driver). */
function partlyAssigned(groupClaims: Map<IommuGroup, Claim>, named: Set<Device>, out: Finding[]): void {
  for (const [group, c] of groupClaims) {
    // Devices some guest names (even if refused there) are reported where they are named.
    const left = group.devices.filter((d) => !named.has(d) && d.deviceClass !== 'bridge');
    if (!left.length) continue;
    const dev = c.assign.device!;
    const names = left.map((d) => d.sym.name).join(', ');
    out.push(finding('group-partly-assigned', { uri: c.assign.uri, span: c.assign.stmt.span },
      `${groupLabel(group)} also holds ${names}, which no guest is assigned; unless ${left.length > 1 ? 'they are' : 'it is'} bound to vfio-pci (or to no driver) the group is not viable and QEMU fails with "vfio ${qemuDevice(dev)}: group ${groupNumberText(group)} is not viable. Please ensure all devices within the iommu_group are bound to their vfio bus driver."`,
      { related: left.map((d) => deviceRelated(d, `also in ${groupLabel(group)}`)) }));
  }
}

/** Guest RAM ranges overlapping one another: the second map is `-EEXIST`. Sort and sweep. */
function ramOverlaps(g: Guest, ram: readonly GuestRamRange[], out: Finding[]): Set<GuestRamRange> {
  const bad = new Set<GuestRamRange>();
  const sorted = [...ram].sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0));
  let reach: GuestRamRange | undefined; // the range reaching furthest so far
  for (const r of sorted) {
    if (reach && r.range.start <= reach.range.end) {
      const [earlier, later] = ram.indexOf(reach) < ram.indexOf(r) ? [reach, r] : [r, reach];
      bad.add(later);
      out.push(finding('ram-overlap', { uri: later.uri, span: later.span },
        `guest RAM ${later.name} ${formatInterval(later.range)} overlaps ${earlier.name} ${formatInterval(earlier.range)} of guest ${g.sym.name}: VFIO_IOMMU_MAP_DMA refuses a range that is already mapped with -EEXIST`,
        { related: [{ uri: earlier.uri, span: earlier.span, message: `guest RAM ${earlier.name}` }] }));
    }
    if (!reach || r.range.end > reach.range.end) reach = r;
  }
  return bad;
}

type FixFor = (regions: readonly MergedRegion[]) => Fix[];

function assignRelated(a: Assignment, dev: Device, gr: GroupRegions): Related[] {
  return [{ uri: a.uri, span: a.stmt.span, message: `${dev.sym.name} (${groupLabel(gr.group)}) is assigned here` }];
}

function iommuRelated(gr: GroupRegions): Related[] {
  return gr.iommus.map((i) => ({ uri: i.sym.uri, span: i.sym.nameSpan, message: `IOMMU ${i.sym.name}: address width ${i.addressWidth ?? `${DEFAULT_ADDRESS_WIDTH} (assumed)`}` }));
}

function reportMap(a: Assignment, dev: Device, gr: GroupRegions, r: GuestRamRange, refusal: MapRefusal<GuestRamRange>, fixFor: FixFor, out: Finding[]): void {
  const at = { uri: r.uri, span: r.span };
  const ram = `guest RAM ${r.name} ${formatInterval(r.range)}`;
  const qemu = `QEMU fails: ${qemuMapError(dev, groupNumberText(gr.group), r, refusal.errno)}`;
  const related = assignRelated(a, dev, gr);
  switch (refusal.kind) {
    case 'misaligned':
      out.push(finding('ram-misaligned', at, `${ram} is not aligned to ${formatSize(refusal.pageSize)}, the smallest page the IOMMU maps: VFIO_IOMMU_MAP_DMA fails with -EINVAL. ${qemu}`, { related }));
      return;
    case 'aperture':
      out.push(finding('ram-beyond-aperture', at, `${ram} reaches beyond the IOMMU aperture ${formatInterval(refusal.aperture)} (${gr.iommus.map((i) => i.sym.name).join(', ')}): it is not inside one usable IOVA range, so VFIO_IOMMU_MAP_DMA fails with -EINVAL. ${qemu}`,
        { related: [...related, ...iommuRelated(gr)] }));
      return;
    case 'overlap':
      return; // ram-overlap, reported before mapping
    case 'reserved':
      reportOverlap(at, ram, refusal.regions, `it is not inside one usable IOVA range, so VFIO_IOMMU_MAP_DMA fails with -EINVAL. ${qemu}`, related, fixFor, out);
  }
}

/** RAM over regions: one finding for doorbells (msi, sw-msi), one for the rest. */
function reportOverlap(at: { uri: string; span: A.Span }, ram: string, regions: readonly MergedRegion[], consequence: string, related: Related[], fixFor: FixFor, out: Finding[]): void {
  const doorbells = regions.filter((m) => m.type === 'msi' || m.type === 'sw-msi');
  const others = regions.filter((m) => m.type !== 'msi' && m.type !== 'sw-msi');
  if (doorbells.length) {
    out.push(finding('ram-over-doorbell', at, `${ram} overlaps the MSI doorbell window ${describeRegions(doorbells)}: ${consequence}`,
      { related: [...regionRelated(doorbells), ...related], fixes: fixFor(doorbells) }));
  }
  if (others.length) {
    out.push(finding('ram-over-reserved', at, `${ram} overlaps ${describeRegions(others)}: ${consequence}`,
      { related: [...regionRelated(others), ...related] }));
  }
}

function reportAttach(g: Guest, a: Assignment, dev: Device, gr: GroupRegions, r: AttachRefusal<GuestRamRange>, ram: readonly GuestRamRange[], fixFor: FixFor, out: Finding[]): void {
  const at = { uri: a.uri, span: a.stmt.span };
  const group = groupLabel(gr.group);
  const n = groupNumberText(gr.group);
  const errno = `-${r.errno}`;
  switch (r.kind) {
    case 'identity': {
      out.push(finding('identity-map-required', at,
        `device ${r.device.sym.name} has ${describeRegions(r.regions)}, a direct region: it needs a 1:1 mapping, so VFIO refuses to take ${group} with ${errno}. The kernel logs "${kernelIdentityMessage(r.device)}" and QEMU fails: ${qemuGroupError(r.device, n, r.errno)}`,
        { related: [...regionRelated(r.regions), deviceRelated(r.device, group)] }));
      // The guest RAM over the identity-mapped range could never be mapped either.
      for (const x of ram) {
        const hit = r.regions.filter((m) => overlaps(m.range, x.range));
        if (hit.length) {
          reportOverlap({ uri: x.uri, span: x.span }, `guest RAM ${x.name} ${formatInterval(x.range)}`, hit,
            `the device must keep IOVA = PA there, so that guest RAM could not be mapped for it even with a 1:1 domain`, assignRelated(a, dev, gr), fixFor, out);
        }
      }
      return;
    }
    case 'msi-conflict':
      out.push(finding('iommufd-msi-conflict', at,
        `device ${r.device.sym.name} has ${r.regions.filter((m) => m.type === 'sw-msi').length > 1 ? 'two sw-msi windows' : 'a sw-msi window and a hardware msi region'} (${describeRegions(r.regions)}): iommufd refuses to attach it with ${errno}. QEMU fails: ${qemuIommufdAttachError(r.device, r.errno)}`,
        { related: [...regionRelated(r.regions), deviceRelated(r.device, group)] }));
      return;
    case 'empty':
      out.push(finding('empty-iova-list', at,
        `attaching ${group} (${dev.sym.name}) leaves no usable IOVA: its regions cover the whole aperture ${formatInterval(r.aperture)}, so VFIO fails with ${errno}. QEMU fails: ${qemuGroupError(dev, n, r.errno)}`,
        { related: [deviceRelated(dev, group)] }));
      return;
    case 'aperture': {
      const qemu = `QEMU fails: ${qemuMapError(dev, n, r.mapping?.site ?? ram[0]!, r.errno)}`;
      if (!r.mapping) {
        out.push(finding('ram-beyond-aperture', at, `the aperture ${formatInterval(r.aperture)} of ${group} (${dev.sym.name}) misses every usable IOVA range of guest ${g.sym.name}'s container: attaching it fails with ${errno}. ${qemu}`));
        return;
      }
      const m = r.mapping.site;
      out.push(finding('ram-beyond-aperture', { uri: m.uri, span: m.span },
        `guest RAM ${m.name} ${formatInterval(m.range)} is mapped, and ${group} (${dev.sym.name}) has the narrower aperture ${formatInterval(r.aperture)}: attaching it fails with ${errno} (aperture conflict). ${qemu}`,
        { related: [...assignRelated(a, dev, gr), ...iommuRelated(gr)] }));
      return;
    }
    case 'reserved': {
      const m = r.mapping.site;
      const qemu = r.errno === 'EADDRINUSE'
        ? `iommufd cannot reserve a range that is mapped (${errno}); QEMU fails: ${qemuIommufdAttachError(dev, r.errno)}`
        : `attaching ${group} fails with ${errno} (reserved conflict). QEMU fails: ${qemuMapError(dev, n, m, r.errno)}`;
      reportOverlap({ uri: m.uri, span: m.span }, `guest RAM ${m.name} ${formatInterval(m.range)}, already mapped,`, r.regions,
        `${group} (${dev.sym.name}) reserves it, so ${qemu}`, assignRelated(a, dev, gr), fixFor, out);
    }
  }
}

// ----- the doorbell window ---------------------------------------------------------

function msiWindowStmt(g: Guest): A.MsiWindowStmt | undefined {
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
  return [{ title: `Add msi-window ${text}`, edits: [{ uri: g.sym.uri, span: { start: open.end, end: open.end }, newText: `\n  msi-window ${text}` }] }];
}

function checkDoorbell(g: Guest, pr: PlatformRegions, s: GuestState, stmt: A.MsiWindowStmt | undefined, out: Finding[]): void {
  const swGroups = s.groups.filter((gr) => gr.has('sw-msi') && !gr.has('msi'));
  const which = swGroups.map((gr) => groupLabel(gr.group)).join(', ');
  if (!g.msiWindow || !stmt) {
    const fixes = doorbellFix(g, pr, s.ram, undefined);
    const suggestion = fixes[0] ? ` Seed 002's placement: ${fixes[0].title.replace(/^Add /, '')}.` : '';
    const windows = swGroups.flatMap((gr) => gr.overlapping(ALL_ADDRESSES, ['sw-msi']));
    out.push(finding('msi-window-missing', { uri: g.sym.uri, span: g.sym.nameSpan },
      `guest ${g.sym.name} needs a software MSI doorbell window (${which}: sw-msi and no hardware msi) and names none, so the kernel's window ${[...new Set(windows.map((w) => formatInterval(w.range)))].join(', ')} is used; it must stay free of guest RAM on every host the guest may run on.${suggestion}`,
      { fixes, related: regionRelated(windows) }));
    return;
  }
  const hit = s.groups.flatMap((gr) => gr.overlapping(g.msiWindow!, ['direct', 'direct-relaxable', 'reserved', 'msi']));
  if (!hit.length) return;
  out.push(finding('msi-window-conflict', { uri: g.sym.uri, span: stmt.range?.span ?? stmt.span },
    `the msi-window ${formatInterval(g.msiWindow)} of guest ${g.sym.name} overlaps ${describeRegions(hit)}: the doorbell cannot be mapped over a reserved range (VFIO_IOMMU_MAP_DMA and IOMMU_IOAS_MAP fail with -EINVAL)`,
    { related: regionRelated(hit), fixes: doorbellFix(g, pr, s.ram, stmt) }));
}

/**
 * Realizing one assigned device in a guest (RULES §2, §3.5): QEMU opens the device's
 * IOMMU group, attaches it to the guest's container and, for the first group, maps every
 * guest RAM range for DMA. Shared by guests starting (an `assign` line) and by the
 * timeline runner (a `hotplug`, `start` or `migrate` step): the `Site` says where the
 * device comes in and where the findings go.
 */
import type { Span } from '@iommu-lens/grammar';
import type { Finding, Location, Related } from '../model/findings';
import { finding } from '../model/codes';
import { formatInterval, formatSize } from '../model/interval';
import type { Device, Guest } from '../model/types';
import { hasChange, LINUX, runningName, since } from '../model/versions';
import { DEFAULT_ADDRESS_WIDTH } from './builtins';
import { HITS_NAMED, type AttachRefusal, type Container, type MapRefusal } from './container';
import { deviceRelated, describeRegions, regionRelated } from './explain';
import { appliesTo, groupLabel, groupNumberText, type GroupRegions, type IommuGroup, type PlatformRegions } from './platformRegions';
import { kernelIdentityMessage, qemuDevice, qemuGroupError, qemuIommufdAttachError, qemuMapError, type GuestRamRange } from './qemu';
import type { MergedRegion } from './regions';

/** Where a device comes into a guest. */
export interface Site {
  uri: string;
  span: Span;
  /** What related locations call the site: "assigned here", "hot-added here". */
  verb: string;
  /**
   * Timeline steps: every finding goes on the step, the guest's own lines become related.
   * Guest declarations: a RAM conflict goes on the RAM line.
   */
  onStep: boolean;
  /** The steps that set the guest up (start, migrate), as related locations. */
  context: Related[];
  /** Opens every message, e.g. "hot-adding vf1 to vm-db on armsrv-1: ". */
  prefix: string;
}

/** Who holds a device or a group: one container per group (one open of `/dev/vfio/N`). */
export interface Claim {
  guest: Guest;
  site: Site;
  device: Device;
}

/**
 * Who holds what: each device, each group (the claim that took it), and each group's
 * claimed devices in the order they came (who holds the group when its holder leaves).
 */
export interface Claims {
  devices: Map<Device, Claim>;
  groups: Map<IommuGroup, Claim>;
  members: Map<IommuGroup, Set<Device>>;
}

export function newClaims(): Claims {
  return { devices: new Map(), groups: new Map(), members: new Map() };
}

/** Claims a device and its group for a guest; reports and returns false if another holds them. */
export function claim(g: Guest, site: Site, dev: Device, group: IommuGroup, claims: Claims, out: Finding[]): boolean {
  const prior = claims.devices.get(dev);
  if (prior) {
    const where = prior.guest === g ? 'in this guest' : `to guest ${prior.guest.sym.name}`;
    out.push(
      finding(
        'device-assigned-twice',
        site,
        `${site.prefix}device ${dev.sym.name} is already assigned ${where}: a device can be realized ` +
          `once; QEMU fails with "vfio ${qemuDevice(dev)}: device is already attached"`,
        { related: [{ uri: prior.site.uri, span: prior.site.span, message: `${dev.sym.name} ${prior.site.verb}` }, ...site.context] },
      ),
    );
    return false;
  }
  const owner = claims.groups.get(group);
  if (owner && owner.guest !== g) {
    out.push(
      finding(
        'group-split',
        site,
        `${site.prefix}device ${dev.sym.name} is in ${groupLabel(group)}, which guest ${owner.guest.sym.name} ` +
          `already holds (${owner.device.sym.name}): a group belongs to one container, so QEMU fails with "vfio: ` +
          `error opening /dev/vfio/${groupNumberText(group)}: Device or resource busy"`,
        {
          related: [
            {
              uri: owner.site.uri,
              span: owner.site.span,
              message: `guest ${owner.guest.sym.name} takes ${groupLabel(group)}: ${owner.site.verb}`,
            },
            deviceRelated(dev, groupLabel(group)),
            ...site.context,
          ],
        },
      ),
    );
    return false;
  }
  claims.devices.set(dev, { guest: g, site, device: dev });
  if (!owner) claims.groups.set(group, { guest: g, site, device: dev });
  const members = claims.members.get(group);
  if (members) members.add(dev);
  else claims.members.set(group, new Set([dev]));
  return true;
}

/**
 * Lets a device go; its group too once no device of it is held. O(1): a guest holding a
 * group of thousands of devices released each by scanning the group (16,000: 70 s).
 */
export function release(dev: Device, group: IommuGroup, claims: Claims): void {
  claims.devices.delete(dev);
  const members = claims.members.get(group);
  members?.delete(dev);
  const next = members?.values().next().value;
  if (next) claims.groups.set(group, claims.devices.get(next)!);
  else {
    claims.groups.delete(group);
    claims.members.delete(group);
  }
}

export interface Realizing {
  guest: Guest;
  ram: readonly GuestRamRange[];
  container: Container<GuestRamRange>;
  pr: PlatformRegions;
  site: Site;
  /** RAM ranges not to map (already reported as overlapping one another). */
  skip?: ReadonlySet<GuestRamRange>;
  /**
   * A hot-add: if mapping the RAM fails, QEMU fails the device and the group leaves the
   * container again. (A starting guest fails as a whole; its later devices are still checked.)
   */
  atomic?: boolean;
}

/**
 * Attaches the device's group and, if it is the container's first, maps the guest RAM.
 * Returns the group's regions if the group is in the container afterwards.
 */
export function realize(r: Realizing, dev: Device, out: Finding[]): GroupRegions | undefined {
  const { site } = r;
  if (!dev.iommu) {
    out.push(
      finding(
        'no-iommu',
        site,
        `${site.prefix}device ${dev.sym.name} has no IOMMU in the description, so it has no IOMMU group and VFIO cannot ` +
          `take it: QEMU fails with "vfio ${qemuDevice(dev)}: no iommu_group found: No such file or directory"`,
        { related: [deviceRelated(dev, 'declared without `iommu`'), ...site.context] },
      ),
    );
    return undefined;
  }
  const group = r.pr.groupOf(dev);
  if (!group) return undefined;
  const gr = attachUnit(r, dev, group);
  if (r.container.attached(gr)) return gr;
  const first = r.container.groups.length === 0;
  const refusals = r.container.attach(gr);
  for (const x of refusals) reportAttach(r, dev, gr, x, out);
  if (refusals.length) return undefined;
  if (!first) return gr;
  let failed = false;
  for (const ram of r.ram) {
    if (r.skip?.has(ram)) continue;
    const refusal = r.container.map(ram.range, ram);
    if (refusal) reportMap(r, dev, gr, ram, refusal, out);
    failed ||= !!refusal;
  }
  if (failed && r.atomic) {
    r.container.detach(gr);
    return undefined;
  }
  return gr;
}

/**
 * What joins the container: the device's group under type1 and under iommufd before Linux
 * 6.6, the device alone under iommufd since (RULES §2, iommufd; versions.ts LINUX.iommufdPerDevice).
 */
function attachUnit(r: Realizing, dev: Device, group: IommuGroup): GroupRegions {
  const perDevice = r.container.flavor === 'iommufd' && hasChange(r.pr.platform.kernel, LINUX.iommufdPerDevice);
  return (perDevice ? r.pr.deviceRegions(dev) : undefined) ?? r.pr.regions(group);
}

/**
 * When every region hit is another device's of the group, the verdict depends on the
 * container and the kernel (RULES §2, iommufd): say so.
 */
function mateNote(r: Realizing, dev: Device, gr: GroupRegions, regions: readonly MergedRegion[]): string {
  const mates = regions.every((m) => m.sources.every((x) => x.kind === 'declared' && !appliesTo(x.region.targets, dev)));
  if (!regions.length || !mates || gr.whole) return '';
  const group = groupLabel(gr.group);
  if (r.container.flavor === 'type1')
    return (
      ` (the region is another device's of ${group}: type1 reserves the group's whole list; ` +
      `iommufd ${since('linux', LINUX.iommufdPerDevice.release)} would reserve only ${dev.sym.name}'s own)`
    );
  return (
    ` (the region is another device's of ${group}: iommufd before Linux ${LINUX.iommufdPerDevice.release} ` +
    `reserves the group's whole list, and this platform runs ${runningName('linux', r.pr.platform.kernel)}; ` +
    `since ${LINUX.iommufdPerDevice.release} only ${dev.sym.name}'s own count)`
  );
}

/** The ioctl a container maps with, for messages. */
function mapIoctl(r: Realizing): string {
  return r.container.flavor === 'iommufd' ? 'IOMMU_IOAS_MAP' : 'VFIO_IOMMU_MAP_DMA';
}

function siteRelated(r: Realizing, dev: Device, gr: GroupRegions): Related[] {
  return [{ uri: r.site.uri, span: r.site.span, message: `${dev.sym.name} (${groupLabel(gr.group)}) ${r.site.verb}` }];
}

function ramRelated(ram: GuestRamRange, why: string): Related {
  return { uri: ram.uri, span: ram.span, message: `guest RAM ${ram.name} ${formatInterval(ram.range)}: ${why}` };
}

/** Where a RAM finding goes and what it relates to. */
function ramSite(r: Realizing, dev: Device, gr: GroupRegions, ram: GuestRamRange): { at: Location; related: Related[] } {
  if (r.site.onStep)
    return { at: r.site, related: [ramRelated(ram, `laid out when guest ${r.guest.sym.name} started`), ...r.site.context] };
  return { at: { uri: ram.uri, span: ram.span }, related: siteRelated(r, dev, gr) };
}

/** The platform's `dma-entry-limit` line, or the platform, as a related location. */
function platformRelated(r: Realizing, what: string): Related[] {
  const p = r.pr.platform;
  const at = p.dmaEntryLimit?.span;
  return [
    {
      uri: p.sym.uri,
      span: at ?? p.sym.nameSpan,
      message: at ? `platform ${p.sym.name}: ${what}` : `platform ${p.sym.name}: ${what} (the default)`,
    },
  ];
}

function iommuRelated(gr: GroupRegions): Related[] {
  return gr.iommus.map((i) => ({
    uri: i.sym.uri,
    span: i.sym.nameSpan,
    message: `IOMMU ${i.sym.name}: address width ${i.addressWidth ?? `${DEFAULT_ADDRESS_WIDTH} (assumed)`}`,
  }));
}

function reportMap(
  r: Realizing,
  dev: Device,
  gr: GroupRegions,
  ram: GuestRamRange,
  refusal: MapRefusal<GuestRamRange>,
  out: Finding[],
): void {
  const { at, related } = ramSite(r, dev, gr, ram);
  const what = `${r.site.prefix}guest RAM ${ram.name} ${formatInterval(ram.range)}`;
  const qemu = `QEMU fails: ${qemuMapError(dev, groupNumberText(gr.group), ram, refusal.errno)}`;
  switch (refusal.kind) {
    case 'misaligned':
      out.push(
        finding(
          'ram-misaligned',
          at,
          `${what} is not aligned to ${formatSize(refusal.pageSize)}, the smallest page ` +
            `the IOMMU maps: ${mapIoctl(r)} fails with -EINVAL. ${qemu}`,
          { related },
        ),
      );
      return;
    case 'aperture':
      out.push(
        finding(
          'ram-beyond-aperture',
          at,
          `${what} reaches beyond the IOMMU aperture ${formatInterval(refusal.aperture)} ` +
            `(${gr.iommus.map((i) => i.sym.name).join(', ')}): it is not inside one usable IOVA range, so ${mapIoctl(r)} fails ` +
            `with -EINVAL. ${qemu}`,
          { related: [...related, ...iommuRelated(gr)] },
        ),
      );
      return;
    case 'overlap':
      return; // ram-overlap, reported before mapping
    case 'entries':
      out.push(
        finding(
          'dma-entry-limit',
          at,
          `${what} would be mapping number ${refusal.limit + 1} of the container, past vfio_iommu_type1's ` +
            `dma_entry_limit ${refusal.limit}: VFIO_IOMMU_MAP_DMA fails with -ENOSPC ` +
            `(${since('linux', LINUX.dmaEntryLimit.release)}). ${qemu}`,
          { related: [...related, ...platformRelated(r, `dma-entry-limit ${refusal.limit}`)] },
        ),
      );
      return;
    case 'reserved':
      reportOverlap(
        at,
        what,
        refusal.regions,
        `it is not inside one usable IOVA range, so ${mapIoctl(r)} fails with ` +
          `-EINVAL${r.container.flavor === 'iommufd' ? ' (iopt_check_iova checks reservations before existing mappings)' : ''}` +
          `${mateNote(r, dev, gr, refusal.regions)}. ${qemu}`,
        related,
        out,
        refusal.total,
      );
  }
}

/**
 * RAM over regions: one finding for doorbells (msi, sw-msi), one for the rest. `total`:
 * how many regions overlap when `regions` holds only the first few (doorbells are few, so
 * the count beyond them goes to the rest).
 */
export function reportOverlap(
  at: Location,
  ram: string,
  regions: readonly MergedRegion[],
  consequence: string,
  related: Related[],
  out: Finding[],
  total = regions.length,
): void {
  const doorbells = regions.filter((m) => m.type === 'msi' || m.type === 'sw-msi');
  const others = regions.filter((m) => m.type !== 'msi' && m.type !== 'sw-msi');
  if (doorbells.length) {
    out.push(
      finding('ram-over-doorbell', at, `${ram} overlaps an MSI doorbell window, ${describeRegions(doorbells)}: ${consequence}`, {
        related: [...regionRelated(doorbells), ...related],
      }),
    );
  }
  if (others.length) {
    out.push(
      finding('ram-over-reserved', at, `${ram} overlaps ${describeRegions(others, total - doorbells.length)}: ${consequence}`, {
        related: [...regionRelated(others), ...related],
      }),
    );
  }
}

function reportAttach(r: Realizing, dev: Device, gr: GroupRegions, x: AttachRefusal<GuestRamRange>, out: Finding[]): void {
  const a: AttachReport = { r, dev, gr, out, group: groupLabel(gr.group), n: groupNumberText(gr.group), errno: `-${x.errno}` };
  switch (x.kind) {
    case 'identity':
      identityRequired(a, x);
      break;
    case 'msi-conflict':
      msiConflict(a, x);
      break;
    case 'empty':
      emptyIovaList(a, x);
      break;
    case 'aperture':
      beyondAperture(a, x);
      break;
    case 'reserved':
      overReserved(a, x);
  }
}

/** A refused attach, what its report says it with: the group's label and number, the errno as the kernel returns it. */
interface AttachReport {
  r: Realizing;
  dev: Device;
  gr: GroupRegions;
  out: Finding[];
  group: string;
  n: string;
  errno: string;
}

/** The refusals of one kind. */
type Refusal<K extends AttachRefusal<GuestRamRange>['kind']> = Extract<AttachRefusal<GuestRamRange>, { kind: K }>;

/** A direct region: VFIO refuses the group; and the guest RAM over the region could never be mapped for the device either. */
function identityRequired(a: AttachReport, x: Refusal<'identity'>): void {
  const { r, dev, gr, out, group, n, errno } = a;
  const { site } = r;
  const context = site.context;
  out.push(
    finding(
      'identity-map-required',
      site,
      `${site.prefix}device ${x.device.sym.name} has ${describeRegions(x.regions, x.total)}, a direct region: ` +
        `it needs a 1:1 mapping, so VFIO refuses to take ${group} with ${errno}. The kernel logs ` +
        `"${kernelIdentityMessage(x.device)}" and QEMU fails: ${qemuGroupError(x.device, n, x.errno)}`,
      { related: [...regionRelated(x.regions), deviceRelated(x.device, group), ...context] },
    ),
  );
  // The guest RAM over the identity-mapped range could never be mapped either.
  for (const ram of r.ram) {
    const near = gr.hits(ram.range, ['direct'], HITS_NAMED);
    const hit = near.regions.filter((m) => m.sources.some((s) => s.kind !== 'declared' || appliesTo(s.region.targets, x.device)));
    if (!hit.length) continue;
    const { at, related } = ramSite(r, dev, gr, ram);
    // Past the first few the count is of every direct region there, whoever it applies to.
    reportOverlap(
      at,
      `${site.prefix}guest RAM ${ram.name} ${formatInterval(ram.range)}`,
      hit,
      `the device must keep IOVA = PA there, so that guest RAM could not be mapped for it even with a 1:1 domain`,
      related,
      out,
      near.total > near.regions.length ? hit.length + near.total - near.regions.length : hit.length,
    );
  }
}

/** iommufd: a sw-msi window with a hardware msi region, or two sw-msi windows. */
function msiConflict(a: AttachReport, x: Refusal<'msi-conflict'>): void {
  const { out, group, errno } = a;
  const { site } = a.r;
  const context = site.context;
  out.push(
    finding(
      'iommufd-msi-conflict',
      site,
      `${site.prefix}device ${x.device.sym.name} has ${
        x.regions.filter((m) => m.type === 'sw-msi').length > 1 ? 'two sw-msi windows' : 'a sw-msi window and a hardware msi region'
      } (${describeRegions(x.regions)}): iommufd refuses to attach it with ${errno}. ` +
        `QEMU fails: ${qemuIommufdAttachError(x.device, x.errno)}`,
      { related: [...regionRelated(x.regions), deviceRelated(x.device, group), ...context] },
    ),
  );
}

/** The group's regions cover its whole aperture: no usable IOVA is left. */
function emptyIovaList(a: AttachReport, x: Refusal<'empty'>): void {
  const { dev, out, group, n, errno } = a;
  const { site } = a.r;
  const context = site.context;
  out.push(
    finding(
      'empty-iova-list',
      site,
      `${site.prefix}attaching ${group} (${dev.sym.name}) leaves no usable IOVA: its regions cover the whole ` +
        `aperture ${formatInterval(x.aperture)}, so VFIO fails with ${errno}. QEMU fails: ${qemuGroupError(dev, n, x.errno)}`,
      { related: [deviceRelated(dev, group), ...context] },
    ),
  );
}

/** The group's aperture misses the container's usable IOVA, or leaves out guest RAM already mapped. */
function beyondAperture(a: AttachReport, x: Refusal<'aperture'>): void {
  const { r, dev, gr, out, group, n, errno } = a;
  const { site } = r;
  const context = site.context;
  const qemu = `QEMU fails: ${qemuMapError(dev, n, x.mapping?.site ?? r.ram[0]!, x.errno)}`;
  if (!x.mapping) {
    out.push(
      finding(
        'ram-beyond-aperture',
        site,
        `${site.prefix}the aperture ${formatInterval(x.aperture)} of ${group} (${dev.sym.name}) misses every usable ` +
          `IOVA range of guest ${r.guest.sym.name}'s container: attaching it fails with ${errno}. ${qemu}`,
        { related: context },
      ),
    );
    return;
  }
  const m = x.mapping.site;
  const { at, related } = ramSite(r, dev, gr, m);
  out.push(
    finding(
      'ram-beyond-aperture',
      at,
      `${site.prefix}guest RAM ${m.name} ${formatInterval(m.range)} is mapped, and ${group} (${dev.sym.name}) has the ` +
        `narrower aperture ${formatInterval(x.aperture)}: joining the guest's container fails with ${errno} (aperture ` +
        `conflict); QEMU then tries a new container, where mapping this RAM beyond the aperture fails with -EINVAL. ${qemu}`,
      { related: [...related, ...iommuRelated(gr)] },
    ),
  );
}

/** A region of the group over guest RAM already mapped: QEMU's retry in a new container or IOAS fails to map that RAM. */
function overReserved(a: AttachReport, x: Refusal<'reserved'>): void {
  const { r, dev, gr, out, group, n, errno } = a;
  const { site } = r;
  const m = x.mapping.site;
  // QEMU tries a new container / IOAS when joining the guest's existing one fails
  // (vfio_connect_container, iommufd_cdev_attach), so what it reports is mapping the RAM
  // there: the reservation is in place before any mapping, so the map is refused (RULES §2.9).
  const refused =
    x.errno === 'EADDRINUSE'
      ? `joining the guest's IOAS fails with ${errno} (iopt_reserve_iova over a mapped range); QEMU then puts ${dev.sym.name} ` +
        'in a new IOAS, where IOMMU_IOAS_MAP of this RAM fails with -EINVAL (the range is reserved there)'
      : `joining the guest's container fails with ${errno} (reserved conflict); QEMU then puts ${group} in a new ` +
        'container, where VFIO_IOMMU_MAP_DMA of this RAM fails with -EINVAL (outside the usable IOVA ranges)';
  const { at, related } = ramSite(r, dev, gr, m);
  reportOverlap(
    at,
    `${site.prefix}guest RAM ${m.name} ${formatInterval(m.range)}, already mapped,`,
    x.regions,
    `${gr.whole ? dev.sym.name : `${group} (${dev.sym.name})`} reserves it, ` +
      `so ${refused}${mateNote(r, dev, gr, x.regions)}. QEMU fails: ${qemuMapError(dev, n, m, 'EINVAL')}`,
    related,
    out,
    x.total,
  );
}

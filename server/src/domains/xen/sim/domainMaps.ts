/**
 * The IOMMU maps Xen builds for each domain (RULES §8, xen/drivers/passthrough/x86/iommu.c),
 * named in the terms of seed 003:
 * - an *identity MFN map* (BFN == MFN) or an *identity GFN map* (BFN == GFN);
 * - *maintained* when Xen keeps it in sync with the P2M (`need_sync`), or only
 *   programmed once: the *host map* of a non-strict dom0 and the *guest map* of a domain;
 * - driven by the domain itself (PV-IOMMU, virtual VT-d) or by Xen alone.
 *
 * dom0's boot map follows `arch_iommu_hwdom_init()`: E820 RAM unless strict, E820
 * reserved memory if map-reserved, minus Xen's own ranges and everything outside dom0's
 * iomem permissions (the interrupt range, IO-APIC pages, MMCFG, beyond the address width).
 * Each domain's RMRR identity mappings are reference counted (identityMaps.ts).
 */
import type { Span } from '@iommu-lens/grammar';
import type { Location } from '../../../model/findings';
import type { Interval } from '../../../model/interval';
import type { Device, Platform, ReservedRegion } from '../../../model/types';
import type { Xen, XenDomain, XenDomainMode, XenQuarantine } from '../model/types';
import { addressWidthOf, X86_MSI_RANGE } from '../../../sim/builtins';
import type { PlatformRegions } from '../../../sim/platformRegions';
import { IdentityMaps } from './identityMaps';
import { RangeSet } from '../../../sim/rangeset';
import type { Resv } from '../../../sim/regions';

export type MapTerm = 'identity MFN map' | 'identity GFN map' | 'host map' | 'guest map' | 'no IOMMU map' | 'no translation';

/** A range Xen left out of dom0's boot map, and why. */
export interface LeftOut {
  range: Interval;
  why: string;
  at?: Location;
}

export interface DomainMap {
  domain: XenDomain;
  /** The domain type in force (`pv` when the block does not say). */
  mode: XenDomainMode;
  /** BFN == GFN (PVH, HVM: the map is the P2M's) rather than BFN == MFN (PV). */
  translated: boolean;
  term: MapTerm;
  /** Xen keeps the map in sync with the P2M. */
  maintained: boolean;
  /** The domain changes its own mappings (PV-IOMMU hypercalls or an emulated VT-d). */
  drivenByDomain: boolean;
  /** dom0: `dom0-iommu=strict` in force (forced for PVH) / passthrough. */
  strict: boolean;
  passthrough: boolean;
  quarantine: XenQuarantine;
  /** The devices the domain holds: dom0 keeps every device not passed to a domain. */
  devices: Device[];
  /** The RMRR / unity-map identity mappings, with their references. */
  identity: IdentityMaps<Device>;
  /** dom0: what Xen identity-mapped at boot and what it left out. */
  boot?: { mapped: RangeSet; leftOut: LeftOut[] };
  /** The RMRRs of passed devices already reported over the domain's RAM (`rdm strategy host` skips them). */
  rdmConflicts: Set<ReservedRegion>;
  /** The memory the domain owns (dom0: the host's RAM minus Xen's; a domain: its `ram`), when known. */
  memory?: RangeSet;
}

/** Effective dom0-iommu options: `strict` / `relaxed` (the last one written wins) and `passthrough`. */
export function dom0Options(d: XenDomain): { strict: boolean; passthrough: boolean } {
  let strict = false;
  for (const o of d.dom0Iommu) if (o === 'strict' || o === 'relaxed') strict = o === 'strict';
  return { strict, passthrough: d.dom0Iommu.includes('passthrough') };
}

/** Builds every domain's map of one Xen host; dom0 holds every device not passed to a domain. */
export function buildMaps(x: Xen, regions: PlatformRegions | undefined): Map<XenDomain, DomainMap> {
  const out = new Map<XenDomain, DomainMap>();
  const platform = x.platform;
  const passedTo = new Map<Device, XenDomain>();
  for (const d of x.domains.values()) for (const p of d.passed) if (!passedTo.has(p.device)) passedTo.set(p.device, d);
  for (const d of x.domains.values()) {
    const mode = d.mode ?? 'pv';
    const translated = mode !== 'pv';
    const devices = d.isDom0
      ? [...(platform?.devices.values() ?? [])].filter((dev) => !passedTo.has(dev))
      : [...new Set(d.passed.map((p) => p.device))];
    const m: DomainMap = {
      domain: d,
      mode,
      translated,
      devices,
      term: 'no IOMMU map',
      maintained: false,
      drivenByDomain: false,
      strict: false,
      passthrough: false,
      quarantine: x.quarantine?.mode ?? d.quarantine ?? 'basic',
      identity: new IdentityMaps(),
      rdmConflicts: new Set(),
    };
    if (d.isDom0) dom0Map(m, x, regions);
    else domainMap(m);
    out.set(d, m);
  }
  return out;
}

function dom0Map(m: DomainMap, x: Xen, regions: PlatformRegions | undefined): void {
  const d = m.domain;
  const opts = dom0Options(d);
  // A PVH dom0 is strict whatever was asked (check_hwdom_reqs); the finding says so. Strict
  // beats passthrough whatever the order they are written in (iommu_setup).
  m.strict = opts.strict || m.translated;
  m.passthrough = opts.passthrough && !m.strict;
  m.drivenByDomain = d.iommuMap === 'pv-iommu';
  if (m.passthrough) {
    m.term = 'no translation';
    return;
  }
  m.maintained = m.strict;
  m.term = m.strict ? (m.translated ? 'identity GFN map' : 'identity MFN map') : 'host map';
  const platform = x.platform;
  if (!platform) return;
  const memory = RangeSet.of(platform.ram.flatMap((r) => (r.range ? [r.range] : [])));
  for (const r of x.ranges) memory.remove(r.range);
  m.memory = memory;
  m.boot = hostBootMap(m, x, platform, regions);
}

/** `arch_iommu_hwdom_init()`: the ranges, then what dom0 may not reach taken out, each with its reason. */
function hostBootMap(
  m: DomainMap,
  x: Xen,
  platform: Platform,
  regions: PlatformRegions | undefined,
): { mapped: RangeSet; leftOut: LeftOut[] } {
  // Built from one sorted list, so a platform with thousands of regions is not re-spliced per region.
  const e820 = [
    ...(m.strict ? [] : platform.ram.flatMap((r) => (r.range ? [r.range] : []))),
    ...(m.domain.mapReserved === false
      ? []
      : platform.reserved
          .filter((r) => (r.type === 'reserved' || r.type === 'direct' || r.type === 'direct-relaxable') && rdmRegion(r))
          .flatMap((r) => (r.range ? [r.range] : []))),
  ];
  const mapped = RangeSet.of(e820);
  const leftOut: LeftOut[] = [];
  const take = (range: Interval, why: string, at?: { uri: string; span: Span }) => {
    for (const piece of mapped.remove(range)) leftOut.push({ range: piece, why, at });
  };
  for (const r of x.ranges) take(r.range, "Xen's own memory (remove_xen_ranges)", { uri: x.sym.uri, span: r.stmt.span });
  take(X86_MSI_RANGE, 'the interrupt range 0xfee00-0xfeeff (PFNs): MSI writes, never DMA');
  for (const a of platform.ioapics) take(a.range, 'an IO-APIC page', { uri: platform.sym.uri, span: a.stmt.span });
  for (const c of platform.mmcfg) take(c.range, 'MMCFG (PCIe ECAM), which Xen traps', { uri: platform.sym.uri, span: c.stmt.span });
  const iommus = regions?.iommusInUse() ?? [...platform.iommus.values()];
  if (iommus.length) {
    const width = Math.min(...iommus.map(addressWidthOf));
    take({ start: 1n << BigInt(width), end: (1n << 64n) - 1n }, `beyond the ${width}-bit IOMMU address width`);
  }
  return { mapped, leftOut };
}

function domainMap(m: DomainMap): void {
  const how = m.domain.iommuMap;
  const hasDevices = m.devices.length > 0;
  m.drivenByDomain = how === 'pv-iommu' || how === 'virtual-vtd';
  m.memory = RangeSet.of(m.domain.ram.flatMap((r) => (r.range ? [r.range] : [])));
  if (!hasDevices) return; // no passed-through device: no IOMMU map at all (seed 003)
  // An HVM domain's GFN map is Xen's (shared with or synced to the P2M) whatever the domain asks.
  m.maintained = how === 'maintained' || how === undefined || (how === 'pv-iommu' && m.translated);
  m.term = m.maintained ? (m.translated ? 'identity GFN map' : 'identity MFN map') : m.translated ? 'guest map' : 'identity MFN map';
}

/**
 * A region of reserved device memory (Xen's RDM): Xen reads the firmware's tables (ACPI
 * RMRRs, IVMDs, the E820 map), not what Linux adds on its own: the ISA bridge's 16 MiB
 * quirk (`from linux-quirk`) and IORT RMRs (`from iort-rmr`).
 */
export function rdmRegion(r: ReservedRegion): boolean {
  const origin = r.decl.origin?.text;
  return origin !== 'linux-quirk' && origin !== 'iort-rmr';
}

/**
 * The devices a declared region applies to: more than one is a shared RMRR (VT-d refuses to
 * pass it alone). The lists of the platform, an IOMMU or a group number are shared, not
 * copied: thousands of devices under thousands of platform-wide RMRRs cost one list.
 */
export function rmrrScope(r: Resv, regions: PlatformRegions): readonly Device[] {
  if (r.source.kind !== 'declared') return [];
  const targets = r.source.region.targets;
  if (targets.length === 0) return regions.devicesFor({ kind: 'all' });
  if (targets.length === 1) return regions.devicesFor(targets[0]!);
  const out = new Set<Device>();
  for (const t of targets) for (const d of regions.devicesFor(t)) out.add(d);
  return [...out];
}

/** What the seed-003 thread would call the map, in one line. */
export function describeMap(m: DomainMap): string {
  const bfn = m.translated ? 'BFN == GFN' : 'BFN == MFN';
  switch (m.term) {
    case 'no translation':
      return "no IOMMU translation: `dom0-iommu=passthrough` lets dom0's devices DMA to any machine address";
    case 'no IOMMU map':
      return 'no IOMMU map: no device is passed through, so Xen builds none';
    case 'host map':
      return `a **host map** (${bfn} for all of the host's RAM), programmed once at boot and never kept in sync with the P2M`;
    case 'guest map':
      return `a **guest map** (${bfn}), programmed when the domain is created and then left to the domain`;
    default:
      return m.maintained
        ? `an **${m.term}** (${bfn}) that Xen **maintains**: every P2M change is applied to the IOMMU too (\`need_sync\`)`
        : `an **${m.term}** (${bfn}) programmed once for the domain's own pages, **not maintained** by Xen`;
  }
}

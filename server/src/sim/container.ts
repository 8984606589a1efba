/**
 * A VFIO container as the kernel runs it: VFIO type1 (`drivers/vfio/vfio_iommu_type1.c`,
 * RULES §2) or an iommufd IOAS (`drivers/iommu/iommufd/io_pagetable.c`). Groups attach in
 * order, guest RAM is mapped, and every refusal comes back as the kernel decides it, with
 * its errno. The container knows nothing about guests or findings: guests.ts (and later
 * the timeline runner) turn its refusals into findings.
 */
import { ALL_ADDRESSES, firstEndingFrom, intersect, U64_MAX, type Interval } from '../model/interval';
import { partitionPoint } from '../model/search';
import type { Device, RegionTarget, RegionType } from '../model/types';
import type { GroupRegions } from './groups';
import { overlaps, usableRanges, type MergedRegion } from './regions';

export type Flavor = 'type1' | 'iommufd';
export type Errno = 'EINVAL' | 'EEXIST' | 'EADDRINUSE';

export const ERRNO: Record<Errno, { value: number; text: string }> = {
  EINVAL: { value: 22, text: 'Invalid argument' },
  EEXIST: { value: 17, text: 'File exists' },
  EADDRINUSE: { value: 98, text: 'Address already in use' },
};

/** Every type except `direct-relaxable` is cut out of the usable list (RULES §2.2b-c). */
export const CUT_TYPES: readonly RegionType[] = ['direct', 'reserved', 'msi', 'sw-msi'];

/** A DMA mapping the container holds, with whatever the caller wants to know it by. */
export interface Mapping<S> { range: Interval; site: S }

export type AttachRefusal<S> =
  /** A `direct` region: the device needs a 1:1 mapping (RULES §1.6). */
  | { kind: 'identity'; errno: Errno; device: Device; regions: MergedRegion[] }
  /** iommufd: a sw-msi window with a hardware msi, or two sw-msi windows (RULES §2, iommufd). */
  | { kind: 'msi-conflict'; errno: Errno; device: Device; regions: MergedRegion[] }
  /** The new aperture leaves out an existing mapping, or misses the usable list entirely (RULES §2.2a). */
  | { kind: 'aperture'; errno: Errno; aperture: Interval; mapping?: Mapping<S> }
  /** A region of the group overlaps an existing mapping (RULES §2.2b). */
  | { kind: 'reserved'; errno: Errno; mapping: Mapping<S>; regions: MergedRegion[] }
  /** Nothing of the aperture is left once the regions are cut out (RULES §2.2c). */
  | { kind: 'empty'; errno: Errno; aperture: Interval };

export type MapRefusal<S> =
  | { kind: 'misaligned'; errno: Errno; pageSize: bigint }
  | { kind: 'overlap'; errno: Errno; mapping: Mapping<S> }
  | { kind: 'aperture'; errno: Errno; aperture: Interval }
  | { kind: 'reserved'; errno: Errno; regions: MergedRegion[] };

/** VFIO's smallest page when the IOMMU lists no `page-sizes`: every supported IOMMU does 4 KiB. */
export const DEFAULT_PAGE_SIZE = 0x1000n;
/** The page-size bitmap of an IOMMU that lists none: 4 KiB and every larger power of two. */
const ANY_PAGE_FROM_4K = U64_MAX ^ (DEFAULT_PAGE_SIZE - 1n);

export class Container<S> {
  readonly groups: GroupRegions[] = [];
  /** Sorted by start; mappings never overlap (an overlapping map is refused). */
  readonly mappings: Mapping<S>[] = [];
  private aperture?: Interval;
  /** The usable list of the groups attached now; kept, because an attach only cuts more out of it. */
  private usableNow?: readonly Interval[];

  /**
   * `doorbell`: the guest's `msi-window`. It takes the place of the groups' sw-msi
   * windows (seed 002: the doorbell is mapped where the VMM asks), so those are ignored.
   */
  constructor(readonly flavor: Flavor, private readonly doorbell?: MergedRegion) {}

  attached(g: GroupRegions): boolean {
    return this.groups.includes(g);
  }

  /** A copy that later attaches, maps and detaches leave alone (timeline snapshots). */
  clone(): Container<S> {
    const c = new Container<S>(this.flavor, this.doorbell);
    c.groups.push(...this.groups);
    c.mappings.push(...this.mappings);
    c.aperture = this.aperture;
    c.usableNow = this.usableNow;
    return c;
  }

  /**
   * A group leaves (its last device unplugged). The aperture widens back to what the
   * other groups allow; when the last group leaves, QEMU drops the container and every
   * mapping goes with it, so the next group starts afresh.
   */
  detach(g: GroupRegions): void {
    const i = this.groups.indexOf(g);
    if (i < 0) return;
    this.groups.splice(i, 1);
    this.aperture = this.groups.reduce<Interval | undefined>((a, x) => narrowed(a, x.aperture) ?? a, undefined);
    this.usableNow = undefined;
    if (!this.groups.length) this.mappings.length = 0;
  }

  /** Attaches a group; on refusal nothing changes (the kernel undoes the attach). */
  attach(g: GroupRegions): AttachRefusal<S>[] {
    // The first device a direct region applies to refuses the attach (RULES §1.6).
    const allDirect = g.has('direct') ? g.overlapping(ALL_ADDRESSES, ['direct']) : [];
    for (const dev of allDirect.length ? g.group.devices : []) {
      const direct = allDirect.filter((m) => m.sources.some((s) => s.kind !== 'declared' || appliesTo(s.region.targets, dev)));
      if (direct.length) return [{ kind: 'identity', errno: 'EINVAL', device: dev, regions: direct }];
    }
    const refusals: AttachRefusal<S>[] = [];
    if (this.flavor === 'iommufd') {
      const msi = g.overlapping(ALL_ADDRESSES, ['msi', 'sw-msi']);
      const sw = msi.filter((m) => m.type === 'sw-msi');
      const hw = msi.filter((m) => m.type === 'msi');
      // The same window declared twice (platform-wide and per group) is still one window.
      const windows = new Set(sw.map((m) => `${m.range.start}-${m.range.end}`)).size;
      if (windows > 1 || (windows && hw.length)) {
        return [{ kind: 'msi-conflict', errno: 'EINVAL', device: g.group.devices[0]!, regions: [...hw, ...sw] }];
      }
    }
    const aperture = narrowed(this.aperture, g.aperture);
    if (!aperture) return [{ kind: 'aperture', errno: 'EINVAL', aperture: g.aperture }];
    for (const m of this.mappings) {
      if (m.range.start < aperture.start || m.range.end > aperture.end) {
        refusals.push({ kind: 'aperture', errno: 'EINVAL', aperture: g.aperture, mapping: m });
        continue;
      }
      const hit = this.cutBy([g], m.range);
      if (hit.length) refusals.push({ kind: 'reserved', errno: this.flavor === 'iommufd' ? 'EADDRINUSE' : 'EINVAL', mapping: m, regions: hit });
    }
    if (refusals.length) return refusals;
    const usable = this.usableWith(g, aperture);
    if (!usable.length) return [{ kind: 'empty', errno: 'EINVAL', aperture }];
    this.aperture = aperture;
    this.groups.push(g);
    this.usableNow = usable;
    return [];
  }

  /** `VFIO_IOMMU_MAP_DMA` / `IOMMU_IOAS_MAP` of one range (RULES §2.5). */
  map(range: Interval, site: S): MapRefusal<S> | undefined {
    const pageSize = this.minPageSize();
    if (((range.start % pageSize) !== 0n || ((range.end + 1n) % pageSize) !== 0n)) {
      return { kind: 'misaligned', errno: 'EINVAL', pageSize };
    }
    // Sorted and disjoint: the first mapping ending at or after the start is the only candidate.
    const next = this.mappings[firstEndingFrom(this.mappings, range.start, (m) => m.range)];
    const other = next && next.range.start <= range.end ? next : undefined;
    if (other) return { kind: 'overlap', errno: 'EEXIST', mapping: other };
    if (this.aperture && (range.start < this.aperture.start || range.end > this.aperture.end)) {
      return { kind: 'aperture', errno: 'EINVAL', aperture: this.aperture };
    }
    const hit = this.cutBy(this.groups, range);
    if (hit.length) return { kind: 'reserved', errno: 'EINVAL', regions: hit };
    const at = partitionPoint(this.mappings.length, (i) => this.mappings[i]!.range.start <= range.start);
    this.mappings.splice(at, 0, { range, site });
    return undefined;
  }

  /** What `VFIO_IOMMU_GET_INFO` reports (RULES §2.6); the full aperture before any attach. */
  usable(): Interval[] {
    return this.aperture ? [...this.currentUsable(this.aperture)] : [];
  }

  private currentUsable(aperture: Interval): readonly Interval[] {
    return (this.usableNow ??= usableRanges(aperture, this.regions(this.groups)));
  }

  /**
   * The usable list once `g` joins with the narrowed `aperture`: what is usable now, and
   * what g alone leaves of the aperture. The same as building it from every group, without
   * visiting them all (a guest receiving n devices on a timeline cost n² before); each list
   * is walked once, so many platform-wide regions cost one sort per attach.
   */
  private usableWith(g: GroupRegions, aperture: Interval): Interval[] {
    const own = usableRanges(aperture, this.regions([g]));
    return this.aperture ? intersectSorted(this.currentUsable(this.aperture), own) : own;
  }

  /** The regions of these groups that are cut out, overlapping `range`. */
  private cutBy(groups: readonly GroupRegions[], range: Interval): MergedRegion[] {
    const types = this.doorbell ? CUT_TYPES.filter((t) => t !== 'sw-msi') : CUT_TYPES;
    const hit = groups.flatMap((g) => g.overlapping(range, types));
    if (this.doorbell && overlaps(this.doorbell.range, range)) hit.push(this.doorbell);
    return hit;
  }

  /** Every region of these groups, the doorbell in place of their sw-msi windows. */
  private regions(groups: readonly GroupRegions[]): MergedRegion[] {
    const all = groups.flatMap((g) => g.list());
    return this.doorbell ? [...all.filter((r) => r.type !== 'sw-msi'), this.doorbell] : all;
  }

  /** The smallest page of the intersection of every domain's page-size bitmap (`vfio_pgsize_bitmap`). */
  private minPageSize(): bigint {
    let bitmap = ANY_PAGE_FROM_4K;
    for (const g of this.groups) {
      for (const i of g.iommus) bitmap &= i.pageSizes.length ? i.pageSizes.reduce((a, p) => a | p, 0n) : ANY_PAGE_FROM_4K;
    }
    return bitmap === 0n ? DEFAULT_PAGE_SIZE : bitmap & -bitmap;
  }
}

/** The addresses in both lists (each sorted and disjoint), in one pass over the two. */
function intersectSorted(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    const x = intersect(a[i]!, b[j]!);
    if (x) out.push(x);
    if (a[i]!.end < b[j]!.end) i++; else j++;
  }
  return out;
}

/** `b` within `a`; no `a` yet (no group attached) means all of `b`. */
function narrowed(a: Interval | undefined, b: Interval): Interval | undefined {
  return a ? intersect(a, b) : b;
}

function appliesTo(targets: readonly RegionTarget[], dev: Device): boolean {
  return targets.length === 0 || targets.some((t) =>
    (t.kind === 'device' && t.device === dev) || (t.kind === 'iommu' && t.iommu === dev.iommu) || (t.kind === 'group' && t.group === dev.group));
}

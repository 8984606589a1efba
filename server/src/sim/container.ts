/**
 * A VFIO container as the kernel runs it: VFIO type1 (`drivers/vfio/vfio_iommu_type1.c`,
 * RULES §2) or an iommufd IOAS (`drivers/iommu/iommufd/io_pagetable.c`). Groups attach in
 * order, guest RAM is mapped, and every refusal comes back as the kernel decides it, with
 * its errno. The container knows nothing about guests or findings: guests.ts (and later
 * the timeline runner) turn its refusals into findings.
 */
import { ALL_ADDRESSES, firstEndingFrom, intersect, U64_MAX, type Interval } from '../model/interval';
import { partitionPoint } from '../model/search';
import type { Device, RegionType } from '../model/types';
import type { GroupRegions, GroupShape } from './platformRegions';
import { usableRanges, type Hits, type MergedRegion } from './regions';

export type Flavor = 'type1' | 'iommufd';
export type Errno = 'EINVAL' | 'EEXIST' | 'EADDRINUSE' | 'ENOSPC';

export const ERRNO: Record<Errno, { value: number; text: string }> = {
  EINVAL: { value: 22, text: 'Invalid argument' },
  EEXIST: { value: 17, text: 'File exists' },
  EADDRINUSE: { value: 98, text: 'Address already in use' },
  ENOSPC: { value: 28, text: 'No space left on device' },
};

/**
 * `vfio_iommu_type1.dma_entry_limit`: the mappings one type1 container may hold (module
 * parameter, default U16_MAX; `vfio_dma_do_map` answers -ENOSPC past it). iommufd has no such limit.
 */
export const DMA_ENTRY_LIMIT_DEFAULT = 65535;

/** Every type except `direct-relaxable` is cut out of the usable list (RULES §2.2b-c). */
export const CUT_TYPES: readonly RegionType[] = ['direct', 'reserved', 'msi', 'sw-msi'];

/** A DMA mapping the container holds, with whatever the caller wants to know it by. */
export interface Mapping<S> {
  range: Interval;
  site: S;
}

export type AttachRefusal<S> =
  /** A `direct` region: the device needs a 1:1 mapping (RULES §1.6). */
  | { kind: 'identity'; errno: Errno; device: Device; regions: MergedRegion[]; total: number }
  /** iommufd: a sw-msi window with a hardware msi, or two sw-msi windows (RULES §2, iommufd). */
  | { kind: 'msi-conflict'; errno: Errno; device: Device; regions: MergedRegion[] }
  /** The new aperture leaves out an existing mapping, or misses the usable list entirely (RULES §2.2a). */
  | { kind: 'aperture'; errno: Errno; aperture: Interval; mapping?: Mapping<S> }
  /** A region of the group overlaps an existing mapping (RULES §2.2b); `regions` names the first few of `total`. */
  | { kind: 'reserved'; errno: Errno; mapping: Mapping<S>; regions: MergedRegion[]; total: number }
  /** Nothing of the aperture is left once the regions are cut out (RULES §2.2c). */
  | { kind: 'empty'; errno: Errno; aperture: Interval };

export type MapRefusal<S> =
  | { kind: 'misaligned'; errno: Errno; pageSize: bigint }
  | { kind: 'overlap'; errno: Errno; mapping: Mapping<S> }
  /** type1: the container holds `limit` mappings already (RULES §2.7). */
  | { kind: 'entries'; errno: Errno; limit: number }
  | { kind: 'aperture'; errno: Errno; aperture: Interval }
  | { kind: 'reserved'; errno: Errno; regions: MergedRegion[]; total: number };

/**
 * Regions a refusal names, of each type and source list: a RAM range over thousands of
 * regions is reported with the first few and a count, not a list of them all.
 */
export const HITS_NAMED = 8;

/** VFIO's smallest page when the IOMMU lists no `page-sizes`: every supported IOMMU does 4 KiB. */
export const DEFAULT_PAGE_SIZE = 0x1000n;
/** The page-size bitmap of an IOMMU that lists none: 4 KiB and every larger power of two. */
const ANY_PAGE_FROM_4K = U64_MAX ^ (DEFAULT_PAGE_SIZE - 1n);

export class Container<S> {
  /** In attach order. */
  readonly groups: GroupRegions[] = [];
  /**
   * The attached groups by shape: groups of one shape cut the same regions from the same
   * aperture. Made from `groups` when first needed: a clone (a timeline keeps one per
   * step) copies only the lists.
   */
  private byShape?: Map<GroupShape, Set<GroupRegions>>;
  /** Sorted by start; mappings never overlap (an overlapping map is refused). */
  readonly mappings: Mapping<S>[] = [];
  private aperture?: Interval;
  /** The usable list of the groups attached now; kept, because an attach only cuts more out of it. */
  private usableNow?: readonly Interval[];

  /** `entryLimit`: type1's dma_entry_limit (ignored for iommufd). */
  constructor(
    readonly flavor: Flavor,
    readonly entryLimit: number = DMA_ENTRY_LIMIT_DEFAULT,
  ) {}

  attached(g: GroupRegions): boolean {
    return this.shapes.get(g.shape)?.has(g) ?? false;
  }

  private get shapes(): Map<GroupShape, Set<GroupRegions>> {
    if (this.byShape) return this.byShape;
    this.byShape = new Map();
    for (const g of this.groups) {
      const same = this.byShape.get(g.shape);
      if (same) same.add(g);
      else this.byShape.set(g.shape, new Set([g]));
    }
    return this.byShape;
  }

  /** A copy that later attaches, maps and detaches leave alone (timeline snapshots). */
  clone(): Container<S> {
    const c = new Container<S>(this.flavor, this.entryLimit);
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
    const same = this.shapes.get(g.shape);
    if (!same?.delete(g)) return;
    this.groups.splice(this.groups.indexOf(g), 1);
    // Another group of its shape still cuts the same regions from the same aperture.
    if (same.size) return;
    this.shapes.delete(g.shape);
    this.aperture = this.representatives().reduce<Interval | undefined>((a, x) => narrowed(a, x.aperture) ?? a, undefined);
    this.usableNow = undefined;
    if (!this.groups.length) this.mappings.length = 0;
  }

  /** Attaches a group; on refusal nothing changes (the kernel undoes the attach). */
  attach(g: GroupRegions): AttachRefusal<S>[] {
    // The first device a direct region applies to refuses the attach (RULES §1.6): the domain
    // is set on the whole group, so every member counts, even when only one device attaches.
    const whole = g.whole ?? g;
    for (const dev of whole.has('direct') ? whole.group.devices : []) {
      const direct = whole.directFor(dev, HITS_NAMED);
      if (direct.total) return [{ kind: 'identity', errno: 'EINVAL', device: dev, regions: direct.regions, total: direct.total }];
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
    const same = this.shapes.get(g.shape);
    if (same) {
      // Its shape is attached: the same aperture and regions, which every mapping already passed.
      same.add(g);
      this.groups.push(g);
      return [];
    }
    const aperture = narrowed(this.aperture, g.aperture);
    if (!aperture) return [{ kind: 'aperture', errno: 'EINVAL', aperture: g.aperture }];
    for (const m of this.mappings) {
      if (m.range.start < aperture.start || m.range.end > aperture.end) {
        refusals.push({ kind: 'aperture', errno: 'EINVAL', aperture: g.aperture, mapping: m });
        continue;
      }
      const hit = this.cutBy([g], m.range);
      const errno = this.flavor === 'iommufd' ? 'EADDRINUSE' : 'EINVAL';
      if (hit.total) refusals.push({ kind: 'reserved', errno, mapping: m, regions: hit.regions, total: hit.total });
    }
    if (refusals.length) return refusals;
    if (!this.joinUsable(g, aperture)) return [{ kind: 'empty', errno: 'EINVAL', aperture }];
    this.aperture = aperture;
    this.groups.push(g);
    this.shapes.set(g.shape, new Set([g]));
    return [];
  }

  /**
   * `VFIO_IOMMU_MAP_DMA` / `IOMMU_IOAS_MAP` of one range (RULES §2.5, §2.7). The checks run in
   * each kernel's order: type1 (`vfio_dma_do_map`) refuses an existing mapping (-EEXIST), then
   * a full container (-ENOSPC), then an IOVA outside the usable list (-EINVAL); iommufd
   * (`iopt_check_iova`) refuses a reserved IOVA (-EINVAL) before an existing mapping (-EEXIST).
   */
  map(range: Interval, site: S): MapRefusal<S> | undefined {
    const pageSize = this.minPageSize();
    if (range.start % pageSize !== 0n || (range.end + 1n) % pageSize !== 0n) {
      return { kind: 'misaligned', errno: 'EINVAL', pageSize };
    }
    // Sorted and disjoint: the first mapping ending at or after the start is the only candidate.
    const next = this.mappings[firstEndingFrom(this.mappings, range.start, (m) => m.range)];
    const other = next && next.range.start <= range.end ? next : undefined;
    const iommufd = this.flavor === 'iommufd';
    if (other && !iommufd) return { kind: 'overlap', errno: 'EEXIST', mapping: other };
    if (!iommufd && this.mappings.length >= this.entryLimit) return { kind: 'entries', errno: 'ENOSPC', limit: this.entryLimit };
    if (this.aperture && (range.start < this.aperture.start || range.end > this.aperture.end)) {
      return { kind: 'aperture', errno: 'EINVAL', aperture: this.aperture };
    }
    const hit = this.cutBy(this.representatives(), range);
    if (hit.total) return { kind: 'reserved', errno: 'EINVAL', regions: hit.regions, total: hit.total };
    if (other) return { kind: 'overlap', errno: 'EEXIST', mapping: other };
    const at = partitionPoint(this.mappings.length, (i) => this.mappings[i]!.range.start <= range.start);
    this.mappings.splice(at, 0, { range, site });
    return undefined;
  }

  /** What `VFIO_IOMMU_GET_INFO` reports (RULES §2.6); the full aperture before any attach. */
  usable(): Interval[] {
    return this.aperture ? [...this.currentUsable(this.aperture)] : [];
  }

  /** One attached group of each shape: what every list and query needs. */
  private representatives(): GroupRegions[] {
    return [...this.shapes.values()].map((set) => set.values().next().value!);
  }

  private currentUsable(aperture: Interval): readonly Interval[] {
    return (this.usableNow ??= usableRanges(aperture, this.regions(this.representatives())));
  }

  /**
   * Makes the usable list the one once `g` joins with the narrowed `aperture`; false if
   * nothing would be left. What is usable now intersected with what `g` alone leaves: the
   * same as building it from every group, without visiting them all (a guest receiving n
   * devices on a timeline cost n² before). A first group shares its shape's list.
   */
  private joinUsable(g: GroupRegions, aperture: Interval): boolean {
    const own = g.sharedUsable();
    if (!this.aperture) {
      if (!own.length) return false;
      this.usableNow = own; // the aperture is g's own: its shape's list as it is
      return true;
    }
    const next = intersectSorted(this.currentUsable(this.aperture), intersectSorted(own, [aperture]));
    if (!next.length) return false;
    this.usableNow = next;
    return true;
  }

  /** The regions of these groups that are cut out, overlapping `range`: the first few of each type, and how many. */
  private cutBy(groups: readonly GroupRegions[], range: Interval): Hits {
    const hit: Hits = { regions: [], total: 0 };
    for (const g of groups) {
      const h = g.hits(range, CUT_TYPES, HITS_NAMED);
      hit.regions.push(...h.regions);
      hit.total += h.total;
    }
    return hit;
  }

  /** Every region of these groups. */
  private regions(groups: readonly GroupRegions[]): MergedRegion[] {
    return groups.flatMap((g) => g.list());
  }

  /** The smallest page of the intersection of every domain's page-size bitmap (`vfio_pgsize_bitmap`). */
  private minPageSize(): bigint {
    let bitmap = ANY_PAGE_FROM_4K;
    for (const g of this.representatives()) {
      for (const i of g.iommus) bitmap &= i.pageSizes.length ? i.pageSizes.reduce((a, p) => a | p, 0n) : ANY_PAGE_FROM_4K;
    }
    return bitmap === 0n ? DEFAULT_PAGE_SIZE : bitmap & -bitmap;
  }
}

/** The addresses in both lists (each sorted and disjoint), in one pass over the two. */
function intersectSorted(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const x = intersect(a[i]!, b[j]!);
    if (x) out.push(x);
    if (a[i]!.end < b[j]!.end) i++;
    else j++;
  }
  return out;
}

/** `b` within `a`; no `a` yet (no group attached) means all of `b`. */
function narrowed(a: Interval | undefined, b: Interval): Interval | undefined {
  return a ? intersect(a, b) : b;
}

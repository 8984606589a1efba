/**
 * Xen's reference-counted identity mappings of one domain (RULES §8.3): what
 * `iommu_identity_mapping()` in xen/drivers/passthrough/x86/iommu.c keeps in
 * `hd->arch.identity_maps` for the RMRRs (VT-d) and unity maps (AMD-Vi) of the domain's
 * devices. Asking again for the same range with the same access takes a reference; any
 * other overlap is -EADDRINUSE; removing a range that is not there is -ENOENT.
 *
 * Entries never overlap (an overlap is refused), so they are kept sorted and found by
 * binary search.
 */
import { firstEndingFrom, type Interval } from '../../../model/interval';

/** The p2m access an identity mapping is made with; RMRRs are always read-write. */
export type P2mAccess = 'rw' | 'r' | 'w';

export interface IdentityMap<T> {
  range: Interval;
  access: P2mAccess;
  /**
   * The references: one per holder (device) that asked for it. Never changed in place (a
   * new list replaces it), so one list can stand for thousands of devices in many entries.
   */
  holders: readonly T[];
}

export type IdentityResult<T> =
  | { ok: true; entry: IdentityMap<T>; shared: boolean }
  | { ok: true; removed: true }
  | { ok: false; errno: 'EADDRINUSE'; conflict: IdentityMap<T> }
  | { ok: false; errno: 'ENOENT' };

export class IdentityMaps<T> {
  private readonly list: IdentityMap<T>[] = [];

  private firstEndingFrom(at: bigint): number {
    return firstEndingFrom(this.list, at, (e) => e.range);
  }

  /** The entry overlapping `range`, if any (at most one can be exact). */
  private overlap(range: Interval): { index: number; entry?: IdentityMap<T> } {
    const index = this.firstEndingFrom(range.start);
    const e = this.list[index];
    return { index, entry: e && e.range.start <= range.end ? e : undefined };
  }

  /** `iommu_identity_mapping(d, access, base, end)`. */
  map(range: Interval, access: P2mAccess, holder: T): IdentityResult<T> {
    return this.mapFor(range, access, [holder]);
  }

  /** The same for every holder of `holders` in turn (they all succeed or all fail): one reference each. */
  mapFor(range: Interval, access: P2mAccess, holders: readonly T[]): IdentityResult<T> {
    const { index, entry } = this.overlap(range);
    if (entry) {
      const exact = entry.range.start === range.start && entry.range.end === range.end;
      if (!exact || entry.access !== access) return { ok: false, errno: 'EADDRINUSE', conflict: entry };
      entry.holders = [...entry.holders, ...holders];
      return { ok: true, entry, shared: true };
    }
    const created: IdentityMap<T> = { range, access, holders };
    this.list.splice(index, 0, created);
    return { ok: true, entry: created, shared: false };
  }

  /** `iommu_identity_mapping(d, p2m_access_x, base, end)`: drop one reference. */
  unmap(range: Interval, holder: T): IdentityResult<T> {
    const { index, entry } = this.overlap(range);
    if (!entry) return { ok: false, errno: 'ENOENT' };
    if (entry.range.start !== range.start || entry.range.end !== range.end) return { ok: false, errno: 'EADDRINUSE', conflict: entry };
    const at = entry.holders.indexOf(holder);
    entry.holders = entry.holders.filter((_, i) => i !== (at >= 0 ? at : entry.holders.length - 1));
    if (entry.holders.length) return { ok: true, entry, shared: true };
    this.list.splice(index, 1);
    return { ok: true, removed: true };
  }

  entries(): readonly IdentityMap<T>[] {
    return this.list;
  }
}

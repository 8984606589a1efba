/**
 * Read-only lookups for hovers: the regions one address falls in, by binary search.
 * A group's regions are kept in several indexes (platform-wide, per IOMMU, its own), each
 * merged on its own; the kernel merges across all of them, so the merged region sysfs
 * prints is found by widening a hit until nothing of its type overlaps or touches it.
 */
import type { Interval } from '../model/interval';
import type { RegionType } from '../model/types';
import { CUT_TYPES } from './container';
import type { GroupRegions } from './platformRegions';
import { REGION_TYPES, TYPE_ORDER, type MergedRegion } from './regions';
import { partitionPoint } from '../model/search';

/**
 * The region of `type` in the group's sysfs list (after the kernel's merge) that overlaps
 * `range`, or undefined. `range` should not span two merged regions of that type; a
 * single address never does.
 */
export function mergedAround(gr: GroupRegions, type: RegionType, range: Interval): MergedRegion | undefined {
  let hits = gr.overlapping(range, [type]);
  if (!hits.length) return undefined;
  let cur = extent(hits);
  for (;;) {
    // Same-type regions that overlap or touch merge (`next.start <= cur.end + 1`).
    hits = gr.overlapping({ start: cur.start > 0n ? cur.start - 1n : 0n, end: cur.end + 1n }, [type]);
    const next = extent(hits);
    if (next.start === cur.start && next.end === cur.end) break;
    cur = next;
  }
  const sources = [...new Set(hits.flatMap((h) => h.sources))];
  return { type, range: cur, sources };
}

/** Every region of the group's sysfs list holding `address`, in sysfs order (start, then type). */
export function regionsAt(gr: GroupRegions, address: bigint): MergedRegion[] {
  const at = { start: address, end: address };
  return REGION_TYPES.flatMap((t) => {
    const m = mergedAround(gr, t, at);
    return m ? [m] : [];
  }).sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : TYPE_ORDER[a.type] - TYPE_ORDER[b.type]));
}

/** Whether VFIO's usable IOVA list of the group holds `address`: in the aperture and in no cut region. */
export function usableAt(gr: GroupRegions, address: bigint, regions: readonly MergedRegion[] = regionsAt(gr, address)): boolean {
  return address <= gr.aperture.end && !regions.some((r) => CUT_TYPES.includes(r.type));
}

function extent(list: readonly MergedRegion[]): Interval {
  let start = list[0]!.range.start;
  let end = list[0]!.range.end;
  for (const m of list) {
    if (m.range.start < start) start = m.range.start;
    if (m.range.end > end) end = m.range.end;
  }
  return { start, end };
}

/**
 * Ranges that may overlap one another (RAM lines as written, ECAM windows), sorted once:
 * "which hold this address" is a binary search and a walk back over the candidates.
 */
export class StabIndex<T> {
  private readonly items: T[];
  /** The highest end among items[0..i]: how far back a query has to look. */
  private readonly reach: bigint[] = [];

  constructor(
    items: readonly T[],
    private readonly rangeOf: (x: T) => Interval,
  ) {
    this.items = [...items].sort((a, b) => {
      const x = rangeOf(a).start;
      const y = rangeOf(b).start;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    let max = -1n;
    for (const x of this.items) {
      const e = rangeOf(x).end;
      if (e > max) max = e;
      this.reach.push(max);
    }
  }

  /** Every item whose range holds `address`, by start. */
  at(address: bigint): T[] {
    const lo = partitionPoint(this.items.length, (i) => this.rangeOf(this.items[i]!).start <= address);
    const out: T[] = [];
    for (let i = lo - 1; i >= 0 && this.reach[i]! >= address; i--) {
      if (this.rangeOf(this.items[i]!).end >= address) out.push(this.items[i]!);
    }
    return out.reverse();
  }
}

/**
 * Reserved regions as Linux keeps them (RULES §1, `drivers/iommu/iommu.c`): the five
 * types in `enum iommu_resv_type` order, the kernel's merge (same type only, overlap or
 * touch), the sysfs line format, and an index that answers "which regions overlap this
 * range" by binary search, so no check ever compares all regions pairwise.
 */
import { byStart, firstEndingFrom, type Interval } from '../model/interval';
import { partitionPoint } from '../model/search';
import type { Iommu, RegionType, ReservedRegion } from '../model/types';

/** `enum iommu_resv_type` order: equal starts sort by it. */
export const TYPE_ORDER: Record<RegionType, number> = { direct: 0, 'direct-relaxable': 1, reserved: 2, msi: 3, 'sw-msi': 4 };
export const REGION_TYPES = Object.keys(TYPE_ORDER) as RegionType[];

/** The word `iommu_group_show_resv_regions` prints: msi and sw-msi both print `msi`. */
export function sysfsWord(t: RegionType): string {
  return t === 'sw-msi' ? 'msi' : t;
}

/** Where a region comes from: a `reserved` line or the IOMMU driver itself. */
export type RegionSource = { kind: 'declared'; region: ReservedRegion } | { kind: 'builtin'; iommu: Iommu; label: string; why: string };

export interface Resv {
  type: RegionType;
  range: Interval;
  source: RegionSource;
}

/** A region after the kernel's merge, with every region that went into it. */
export interface MergedRegion {
  type: RegionType;
  range: Interval;
  sources: RegionSource[];
}

/**
 * What an overlap query found when only the first few are wanted: `regions` (a few of each
 * type and source list) and `total`, how many overlap in all (a region declared twice, in
 * two source lists, counts twice).
 */
export interface Hits {
  regions: MergedRegion[];
  total: number;
}

function byStartThenType(a: { type: RegionType; range: Interval }, b: { type: RegionType; range: Interval }): number {
  return a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : TYPE_ORDER[a.type] - TYPE_ORDER[b.type];
}

/**
 * `iommu_insert_resv_region` applied to every region: regions of one type merge when
 * they overlap or touch (`next.start <= cur.end + 1`); different types never merge.
 * Result sorted by start, then type. One sort and one sweep.
 */
export function mergeRegions(regions: readonly Resv[]): MergedRegion[] {
  const sorted = [...regions].sort(byStartThenType);
  const open = new Map<RegionType, MergedRegion>();
  const out: MergedRegion[] = [];
  for (const r of sorted) {
    const cur = open.get(r.type);
    if (cur && r.range.start <= cur.range.end + 1n) {
      if (r.range.end > cur.range.end) cur.range = { start: cur.range.start, end: r.range.end };
      cur.sources.push(r.source);
      continue;
    }
    const m: MergedRegion = { type: r.type, range: { ...r.range }, sources: [r.source] };
    open.set(r.type, m);
    out.push(m);
  }
  return out;
}

/** One line of `/sys/kernel/iommu_groups/N/reserved_regions`: `0x%016llx 0x%016llx %s`. */
export function sysfsLine(r: { type: RegionType; range: Interval }): string {
  const h = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;
  return `${h(r.range.start)} ${h(r.range.end)} ${sysfsWord(r.type)}`;
}

/** Regions kept per type, each type merged (so disjoint and sorted): overlap queries are binary searches. */
export class RegionIndex {
  private readonly byType = new Map<RegionType, MergedRegion[]>();

  constructor(regions: readonly Resv[]) {
    for (const m of mergeRegions(regions)) {
      const list = this.byType.get(m.type) ?? [];
      list.push(m);
      this.byType.set(m.type, list);
    }
  }

  has(type: RegionType): boolean {
    return this.byType.has(type);
  }

  /** Every merged region overlapping `range`, of the given types (all types by default). */
  overlapping(range: Interval, types: readonly RegionType[] = REGION_TYPES): MergedRegion[] {
    const out: MergedRegion[] = [];
    for (const t of types) {
      const list = this.byType.get(t);
      if (!list) continue;
      for (let i = firstEndingFrom(list, range.start, (m) => m.range); i < list.length && list[i]!.range.start <= range.end; i++)
        out.push(list[i]!);
    }
    return out;
  }

  /**
   * Adds to `out` at most `cap` merged regions of each type overlapping `range`, and counts
   * them all (a binary search per type: a RAM range over thousands of regions costs `cap`).
   */
  hits(range: Interval, types: readonly RegionType[], cap: number, out: Hits): void {
    for (const t of types) {
      const list = this.byType.get(t);
      if (!list) continue;
      const from = firstEndingFrom(list, range.start, (m) => m.range);
      const to = partitionPoint(list.length, (i) => list[i]!.range.start <= range.end);
      for (let i = from; i < to && i < from + cap; i++) out.regions.push(list[i]!);
      if (to > from) out.total += to - from;
    }
  }

  all(): MergedRegion[] {
    return [...this.byType.values()].flat();
  }
}

/**
 * The usable IOVA list VFIO builds (RULES §2.1–2.2c): the aperture, with every region
 * except `direct-relaxable` cut out. Sort and sweep.
 */
export function usableRanges(aperture: Interval, regions: readonly { type: RegionType; range: Interval }[]): Interval[] {
  const cuts = regions
    .filter((r) => r.type !== 'direct-relaxable')
    .map((r) => r.range)
    .sort(byStart);
  const out: Interval[] = [];
  let next = aperture.start; // lowest address not yet cut or emitted
  let done = false;
  for (const c of cuts) {
    if (done || c.start > aperture.end) break;
    if (c.end < next) continue;
    if (c.start > next) out.push({ start: next, end: c.start - 1n });
    if (c.end >= aperture.end) {
      done = true;
      break;
    }
    next = c.end + 1n;
  }
  if (!done && next <= aperture.end) out.push({ start: next, end: aperture.end });
  return out;
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/**
 * An address range with an inclusive end, as sysfs and VFIO print them. `bigint`
 * throughout: 0xffff_ffff_ffff_ffff is a valid end and must survive exactly.
 */
import { partitionPoint } from './search';

export interface Interval {
  start: bigint;
  end: bigint;
}

export const U64_MAX = (1n << 64n) - 1n;
/** Every 64-bit address: for "all regions of this type" queries. */
export const ALL_ADDRESSES: Interval = { start: 0n, end: U64_MAX };
export const FOUR_GIB = 1n << 32n;

/** `0x%x`, lower case, as the kernel and VFIO_IOMMU_GET_INFO users print. */
export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

export function formatInterval(i: Interval): string {
  return `${hex(i.start)}..${hex(i.end)}`;
}

/** `0xstart-0xend`, the way VFIO_IOMMU_GET_INFO users print a usable range. */
export function formatIovaRange(i: Interval): string {
  return `${hex(i.start)}-${hex(i.end)}`;
}

/** Orders intervals by start: for sort-and-sweep. */
export function byStart(a: Interval, b: Interval): number {
  return a.start < b.start ? -1 : a.start > b.start ? 1 : 0;
}

/** `v` rounded up to a multiple of `a`. */
export function alignUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}

export function intervalSize(i: Interval): bigint {
  return i.end - i.start + 1n;
}

const UNITS: [string, bigint][] = [
  ['P', 1n << 50n],
  ['T', 1n << 40n],
  ['G', 1n << 30n],
  ['M', 1n << 20n],
  ['K', 1n << 10n],
];

/** A size as a user writes it: `1M`, `92K`, else hex. */
export function formatSize(v: bigint): string {
  for (const [unit, n] of UNITS) if (v >= n && v % n === 0n) return `${v / n}${unit}`;
  return hex(v);
}

/**
 * In a list of disjoint intervals sorted by start (so ends are sorted too), the index of
 * the first whose end is at or above `at`: where an overlap query starts.
 */
export function firstEndingFrom<T>(list: readonly T[], at: bigint, rangeOf: (x: T) => Interval): number {
  return partitionPoint(list.length, (i) => rangeOf(list[i]!).end < at);
}

/** The addresses two intervals share, if any. */
export function intersect(a: Interval, b: Interval): Interval | undefined {
  const start = a.start > b.start ? a.start : b.start;
  const end = a.end < b.end ? a.end : b.end;
  return start <= end ? { start, end } : undefined;
}

/**
 * An address range with an inclusive end, as sysfs and VFIO print them. `bigint`
 * throughout: 0xffff_ffff_ffff_ffff is a valid end and must survive exactly.
 */
export interface Interval { start: bigint; end: bigint }

export const U64_MAX = (1n << 64n) - 1n;

/** `0x%x`, lower case, as the kernel and VFIO_IOMMU_GET_INFO users print. */
export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

export function formatInterval(i: Interval): string {
  return `${hex(i.start)}..${hex(i.end)}`;
}

export function intervalSize(i: Interval): bigint {
  return i.end - i.start + 1n;
}

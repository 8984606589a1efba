/**
 * Where to put a guest's MSI doorbell window (seed 002, RULES §4): prefer 0xfee00000,
 * as x86 does; if that is taken, the lowest window below 4 GiB, aligned to its size,
 * that avoids every reserved region and the guest's RAM. Deterministic, one sort and
 * one sweep.
 */
import { alignUp, byStart, FOUR_GIB, type Interval } from '../model/interval';
import type { RegionType } from '../model/types';

export const PREFERRED_DOORBELL = 0xfee0_0000n;
export const DEFAULT_DOORBELL_SIZE = 0x10_0000n;
/** What a guest's doorbell window may not overlap: everything but the sw-msi windows it replaces. */
export const DOORBELL_BLOCKERS: readonly RegionType[] = ['direct', 'direct-relaxable', 'reserved', 'msi'];

export function placeDoorbell(size: bigint, avoid: readonly Interval[]): Interval | undefined {
  const sorted = [...avoid].sort(byStart);
  const preferred = { start: PREFERRED_DOORBELL, end: PREFERRED_DOORBELL + size - 1n };
  if (preferred.end < FOUR_GIB && !hits(sorted, preferred)) return preferred;
  const align = alignmentFor(size);
  let start = 0n;
  for (const r of sorted) {
    if (r.start > start + size - 1n) break;
    if (r.end >= start) start = alignUp(r.end + 1n, align);
  }
  return start + size - 1n < FOUR_GIB ? { start, end: start + size - 1n } : undefined;
}

/** The window's own size rounded up to a power of two: a doorbell page never straddles. */
function alignmentFor(size: bigint): bigint {
  let a = 1n;
  while (a < size) a <<= 1n;
  return a;
}

function hits(sorted: readonly Interval[], w: Interval): boolean {
  for (const r of sorted) {
    if (r.start > w.end) return false;
    if (r.end >= w.start) return true;
  }
  return false;
}

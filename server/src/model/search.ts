/**
 * Binary search over anything sorted: the one lower bound every index, line table and
 * sorted list uses, so no module writes its own.
 */

/**
 * The first index in `0..length` at which `before(i)` is false, given that `before` holds
 * for a prefix of the indices and fails for the rest (Rust's `partition_point`).
 */
export function partitionPoint(length: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

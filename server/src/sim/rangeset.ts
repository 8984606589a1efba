/**
 * A set of addresses kept as sorted, disjoint, non-adjacent inclusive intervals, like
 * Xen's `struct rangeset`: adds merge, removes split, and every query is a binary search
 * plus the pieces it returns, never a scan of the whole set. Shared: Xen's maps and the pools' probes.
 */
import { byStart, firstEndingFrom, intersect, intervalSize, type Interval } from '../model/interval';

export class RangeSet {
  private list: Interval[] = [];

  static of(ranges: Iterable<Interval>): RangeSet {
    const s = new RangeSet();
    for (const r of [...ranges].sort(byStart)) s.add(r);
    return s;
  }

  private firstEndingFrom(at: bigint): number {
    return firstEndingFrom(this.list, at, (x) => x);
  }

  add(r: Interval): void {
    // Merge with every interval that overlaps or touches r.
    const from = this.firstEndingFrom(r.start === 0n ? 0n : r.start - 1n);
    let to = from;
    let start = r.start;
    let end = r.end;
    while (to < this.list.length && this.list[to]!.start <= end + 1n) {
      const x = this.list[to]!;
      if (x.start < start) start = x.start;
      if (x.end > end) end = x.end;
      to++;
    }
    this.list.splice(from, to - from, { start, end });
  }

  /** Removes `r`; returns the pieces that were in the set. */
  remove(r: Interval): Interval[] {
    const from = this.firstEndingFrom(r.start);
    let to = from;
    const removed: Interval[] = [];
    const kept: Interval[] = [];
    while (to < this.list.length && this.list[to]!.start <= r.end) {
      const x = this.list[to]!;
      removed.push(intersect(x, r)!);
      if (x.start < r.start) kept.push({ start: x.start, end: r.start - 1n });
      if (x.end > r.end) kept.push({ start: r.end + 1n, end: x.end });
      to++;
    }
    this.list.splice(from, to - from, ...kept);
    return removed;
  }

  /** The parts of `r` in the set. */
  overlapping(r: Interval): Interval[] {
    const out: Interval[] = [];
    for (let i = this.firstEndingFrom(r.start); i < this.list.length && this.list[i]!.start <= r.end; i++) {
      const x = this.list[i]!;
      out.push(intersect(x, r)!);
    }
    return out;
  }

  /** Whether any address of `r` is in the set: one binary search. */
  intersects(r: Interval): boolean {
    const x = this.list[this.firstEndingFrom(r.start)];
    return !!x && x.start <= r.end;
  }

  /** The parts of `r` not in the set. */
  missing(r: Interval): Interval[] {
    const out: Interval[] = [];
    let next = r.start;
    for (const piece of this.overlapping(r)) {
      if (piece.start > next) out.push({ start: next, end: piece.start - 1n });
      next = piece.end + 1n;
    }
    if (next <= r.end) out.push({ start: next, end: r.end });
    return out;
  }

  ranges(): readonly Interval[] {
    return this.list;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** How many addresses the set holds. */
  size(): bigint {
    return this.list.reduce((n, r) => n + intervalSize(r), 0n);
  }
}

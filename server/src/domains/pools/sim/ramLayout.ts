/**
 * A guest memory map that is safe on every host of a pool (RULES §4): the same total RAM,
 * laid out where the machine type puts RAM (q35 and i440fx: below the PCI hole from 0, then
 * from 4 GiB; virt: from 1 GiB), around the union of the hosts' reserved regions and below
 * the narrowest IOMMU aperture. One sort and one sweep over the regions.
 */
import { alignUp, byStart, FOUR_GIB, formatSize, hex, U64_MAX, type Interval } from '../../../model/interval';
import { lowMemory, VIRT_RAM_BASE } from '../../../sim/qemu';

export type MachineType = 'q35' | 'i440fx' | 'virt';

export interface LayoutRequest {
  total: bigint;
  machine: MachineType;
  /** Ranges guest RAM must not touch, in any order. */
  avoid: readonly Interval[];
  /** The highest address RAM may use (the narrowest aperture's end). */
  limit: bigint;
  /** Every range starts on this boundary and (but the last) is a multiple of it. */
  align: bigint;
}

/** Where the machine type puts RAM, in the order QEMU fills it. */
export function ramWindows(machine: MachineType, total: bigint): Interval[] {
  if (machine === 'virt') return [{ start: VIRT_RAM_BASE, end: U64_MAX }];
  return [
    { start: 0n, end: lowMemory(machine, total) - 1n },
    { start: FOUR_GIB, end: U64_MAX },
  ];
}

/** The safe ranges, or undefined if the RAM does not fit below the limit. */
export function safeLayout(req: LayoutRequest): Interval[] | undefined {
  const avoid = [...req.avoid].sort(byStart);
  const pieces: Interval[] = [];
  let left = req.total;
  const take = (start: bigint, end: bigint) => {
    if (left === 0n || end < start) return;
    const room = ((end - start + 1n) / req.align) * req.align;
    const n = room < left ? room : left;
    if (n === 0n) return;
    const last = pieces[pieces.length - 1];
    if (last && last.end + 1n === start) last.end += n;
    else pieces.push({ start, end: start + n - 1n });
    left -= n;
  };
  let i = 0;
  for (const w of ramWindows(req.machine, req.total)) {
    const end = w.end < req.limit ? w.end : req.limit;
    let pos = alignUp(w.start, req.align);
    while (i < avoid.length && avoid[i]!.end < pos) i++;
    for (let j = i; j < avoid.length && pos <= end && left > 0n; j++) {
      const r = avoid[j]!;
      if (r.start > end) break;
      if (r.end < pos) continue;
      take(pos, r.start - 1n);
      pos = alignUp(r.end + 1n, req.align); // bigint: past 2^64 - 1 simply ends the window
    }
    if (pos <= end) take(pos, end);
    if (left === 0n) return pieces;
  }
  return undefined;
}

/** The layout as `.iommu` RAM lines (`ram NAME START size SIZE`). */
export function ramLines(pieces: readonly Interval[], names: readonly string[] = []): string[] {
  const used = new Set<string>();
  return pieces.map((p, k) => {
    let name = names[k] ?? `ram${k}`;
    for (let n = k; used.has(name); n++) name = `ram${n}`;
    used.add(name);
    return `ram ${name} ${hex(p.start)} size ${formatSize(p.end - p.start + 1n)}`;
  });
}

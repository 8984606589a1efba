/**
 * A guest memory map that is safe on every host of a pool (RULES §3.9, §4), as QEMU can
 * produce it: a `machine` line. QEMU places guest RAM itself; the knobs it offers are the size
 * (`-m`) and, on q35 / i440fx, `max-ram-below-4g`, which moves the split below 4 GiB down
 * (hw/i386/pc_q35.c pc_q35_init: min(QEMU's split, the option); hw/i386/pc_piix.c pc_init1);
 * above-4G RAM starts at 4 GiB, or at 1 TiB for an AMD vCPU on machine types after 7.0 when it
 * would reach the HyperTransport hole (hw/i386/pc.c pc_memory_init). virt has one block at
 * 1 GiB sized by `-m` (hw/arm/virt.c, [VIRT_MEM] and virt_set_memmap). Every candidate is laid
 * out by `realize`, the simulator's own `machine` layout (sim/qemu.ts), and checked against the
 * pool: a layout returned is one the VFIO check accepts on every host.
 */
import { firstEndingFrom, FOUR_GIB, type Interval } from '../../../model/interval';
import {
  alignsLowRamToGigabyte,
  AMD_HT_START,
  enforcesAmd1TbHole,
  lowMemory,
  type MachineLayout,
  PCI_HOLE64_DEFAULT,
  physBitsError,
  physBitsOf,
} from '../../../sim/qemu';

export type MachineType = 'q35' | 'i440fx' | 'virt';

/** The settings of a `machine` line a layout is made of. */
export interface MachineKnobs {
  type: MachineType;
  memory: bigint;
  maxRamBelow4g?: bigint;
  cpu?: 'amd' | 'intel';
  version?: { major: number; minor: number };
  pciHole64Size?: bigint;
  physBits?: number;
  /** `cpu-model` and `accel`: with no `phys-bits` they decide the default (RULES §3.7). */
  cpuModel?: string;
  accel?: 'kvm' | 'tcg';
}

/** What guest RAM must respect on every host of a pool. */
export interface PoolBounds {
  /** Ranges guest RAM must not touch, sorted and disjoint. */
  readonly avoid: readonly Interval[];
  /** The highest address RAM may use (the narrowest aperture's end). */
  limit: bigint;
  /** `max-ram-below-4g` is a multiple of this (the largest smallest IOMMU page, at least 2 MiB). */
  align: bigint;
}

/** QEMU's layout for the knobs: `machineLayout` of a guest with that `machine` line. */
export type Realize = (k: MachineKnobs) => MachineLayout | undefined;

/** Why a layout is not safe: the pool range its RAM hits, the aperture, or phys-bits. */
export type Blocker = { kind: 'region'; range: Interval } | { kind: 'limit'; top: bigint } | { kind: 'phys-bits' };

export interface Laid {
  knobs: MachineKnobs;
  layout: MachineLayout;
}

export type LayoutSearch = { ok: true; laid: Laid } | { ok: false; blocker: Blocker; largest?: Laid; largestBlocker?: Blocker };

const GIB = 1n << 30n;

const alignDown = (v: bigint, a: bigint) => (v / a) * a;

/** Whether a laid-out machine keeps clear of the pool, or what stops it. */
export function blockerOf(bounds: PoolBounds, knobs: MachineKnobs, layout: MachineLayout): Blocker | undefined {
  const avoid = bounds.avoid;
  for (const { range } of layout.ram) {
    const next = avoid[firstEndingFrom(avoid, range.start, (x) => x)];
    if (next && next.start <= range.end) return { kind: 'region', range: next };
    if (range.end > bounds.limit) return { kind: 'limit', top: range.end };
  }
  // QEMU exits when the highest address used exceeds phys-bits (pc_memory_init), relocation included;
  // without `phys-bits` the CPU model's default (40 but for host/max under KVM) is what QEMU checks.
  const bits = knobs.type === 'virt' ? undefined : physBitsOf(knobs)?.bits;
  if (bits !== undefined && physBitsError(layout, bits)) return { kind: 'phys-bits' };
  return undefined;
}

/**
 * The `max-ram-below-4g` values worth trying, best first (undefined: leave QEMU's split).
 * Lowering the split moves RAM above 4 GiB, so only two values can help: the largest that
 * keeps low RAM below the pool's first range, and (AMD vCPU) the largest that makes QEMU
 * relocate above-4G RAM to 1 TiB, past a conflict below it.
 */
function splits(bounds: PoolBounds, want: MachineKnobs): (bigint | undefined)[] {
  if (want.type === 'virt') return [undefined];
  const type = want.type;
  const split = lowMemory(type, want.memory, want.maxRamBelow4g, alignsLowRamToGigabyte(want.version));
  const out: (bigint | undefined)[] = [want.maxRamBelow4g];
  const first = bounds.avoid[0]?.start;
  const lows: bigint[] = [];
  if (first !== undefined && first < split) lows.push(first);
  if (want.cpu === 'amd' && enforcesAmd1TbHole(want.version)) {
    // pc_max_used_gpa: alignUp(4 GiB + above, 1 GiB) + hole64 - 1 >= AMD_HT_START moves it.
    const hole64 = want.pciHole64Size ?? PCI_HOLE64_DEFAULT[type];
    const need = AMD_HT_START - hole64 + 1n; // alignUp(end of above-4G RAM, 1 GiB) must reach this
    const end = need <= 0n ? 0n : ((need + GIB - 1n) / GIB - 1n) * GIB + 1n; // the smallest end that does
    const low = FOUR_GIB + want.memory - end;
    if (low > 0n && low < (lows[0] ?? split)) lows.push(low);
  }
  for (const low of lows) {
    const fine = alignDown(low, bounds.align);
    // QEMU warns of poor performance when the split is not a multiple of 1 GiB and more RAM lies above it
    // (pc_q35_init) or RAM reaches it (pc_init1): a 1 GiB multiple first when there is one.
    const quiet = alignDown(low, GIB);
    const warns = fine % GIB !== 0n && (type === 'q35' ? want.memory - fine > fine : want.memory >= fine);
    if (warns && quiet > 0n) out.push(quiet);
    // max-ram-below-4g=0 means "not set" to QEMU.
    if (fine > 0n) out.push(fine);
  }
  return out;
}

/** The first candidate for `want` that QEMU lays out clear of the pool, or what blocks the natural one. */
function attempt(bounds: PoolBounds, want: MachineKnobs, realize: Realize): { laid: Laid } | { blocker: Blocker } {
  let blocker: Blocker | undefined;
  for (const maxRamBelow4g of splits(bounds, want)) {
    const knobs: MachineKnobs = { ...want, maxRamBelow4g };
    const layout = realize(knobs);
    if (!layout) continue;
    const b = blockerOf(bounds, knobs, layout);
    if (!b) return { laid: { knobs, layout } };
    blocker ??= b;
  }
  return { blocker: blocker ?? { kind: 'limit', top: want.memory } };
}

/**
 * A layout of `want.memory` bytes QEMU can produce that is safe on every host, keeping the
 * other knobs of `want`. When there is none: what blocks it, the largest size that has one
 * (a binary search over sizes, in steps of the pool's alignment) and what blocks more.
 */
export function searchLayout(bounds: PoolBounds, want: MachineKnobs, realize: Realize): LayoutSearch {
  const full = attempt(bounds, want, realize);
  if ('laid' in full) return { ok: true, laid: full.laid };
  let lo = 0n; // a size known to fit (0: none yet)
  let hi = (want.memory - 1n) / bounds.align; // in steps
  let largest: Laid | undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1n) / 2n;
    const r = attempt(bounds, { ...want, memory: mid * bounds.align }, realize);
    if ('laid' in r) {
      lo = mid;
      largest = r.laid;
    } else hi = mid - 1n;
  }
  if (!largest) return { ok: false, blocker: full.blocker };
  // What stops the largest layout from growing: its own split, one step more RAM.
  const knobs = { ...largest.knobs, memory: largest.knobs.memory + bounds.align };
  const grown = realize(knobs);
  const largestBlocker = (grown && blockerOf(bounds, knobs, grown)) || full.blocker;
  return { ok: false, blocker: full.blocker, largest, largestBlocker };
}

/** The `machine` statement for the knobs, in the language's words. */
export function machineLine(k: MachineKnobs, size: (v: bigint) => string): string {
  const parts = ['machine', k.type, 'memory', size(k.memory)];
  if (k.maxRamBelow4g !== undefined) parts.push('max-ram-below-4g', size(k.maxRamBelow4g));
  if (k.cpu) parts.push('cpu', k.cpu);
  if (k.cpuModel) parts.push('cpu-model', k.cpuModel);
  if (k.accel) parts.push('accel', k.accel);
  if (k.version) parts.push('version', `${k.version.major}.${k.version.minor}`);
  if (k.pciHole64Size !== undefined) parts.push('pci-hole64-size', size(k.pciHole64Size));
  if (k.physBits !== undefined) parts.push('phys-bits', String(k.physBits));
  return parts.join(' ');
}

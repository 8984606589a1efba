/**
 * QEMU's side (RULES §3): the guest RAM ranges a VM maps for DMA, computed from
 * `machine` the way `hw/i386/pc*.c` and `hw/arm/virt.c` lay them out or taken from
 * explicit `ram` lines, and the error lines QEMU prints when VFIO refuses.
 */
import type { Span } from '@iommu-lens/grammar';
import { alignUp, FOUR_GIB, hex, intervalSize, type Interval } from '../model/interval';
import { formatBdf } from '../model/numbers';
import type { Device, Guest, Machine, Sym } from '../model/types';
import { ERRNO, type Errno } from './container';

/** One guest RAM range and the line that makes it: a `ram` line or the `machine` statement. */
export interface GuestRamRange {
  name: string;
  range: Interval;
  uri: string;
  span: Span;
  sym?: Sym;
}

/** `AMD_HT_START` / `AMD_ABOVE_1TB_START` in `hw/i386/pc.c`. */
export const AMD_HT_START = 0xfd_0000_0000n;
export const AMD_ABOVE_1TB_START = 1n << 40n;
/** `hw/arm/virt.c`: `[VIRT_MEM] = { GiB, ... }`. */
export const VIRT_RAM_BASE = 0x4000_0000n;
const GIB = 1n << 30n;
/** `Q35_PCI_HOST_HOLE64_SIZE_DEFAULT` (32 GiB) and `I440FX_PCI_HOST_HOLE64_SIZE_DEFAULT` (2 GiB). */
export const PCI_HOLE64_DEFAULT = { q35: 1n << 35n, i440fx: 1n << 31n } as const;

/** What QEMU lays out for a `machine` statement (RULES §3.1–3.4). */
export interface MachineLayout {
  ram: GuestRamRange[];
  /** x86: the 64-bit PCI hole above RAM (`pc_pci_hole64_start`), MMIO that counts towards phys-bits. */
  pciHole64?: Interval;
  /** AMD vCPU: above-4G RAM moved to 1 TiB (RULES §3.3). */
  relocated: boolean;
  /** Why it was or was not moved, for hovers. */
  relocation?: string;
  /** x86: `pc_max_used_gpa`, the highest guest-physical address QEMU uses. */
  maxUsedGpa?: bigint;
  /** `maxmem` above `memory`: the device-memory region for DIMMs (`pc_get_device_memory_range`, `virt_set_memmap`). */
  deviceMemory?: Interval;
  /** virt: the end of RAM and device memory (`memtop` in `virt_set_memmap`), exclusive. */
  memTop?: bigint;
}

/**
 * The device-memory region QEMU reserves above RAM ending at `ramEnd` when `maxmem` exceeds
 * `memory`: it starts at the next GiB and holds the difference plus 1 GiB per slot
 * (hw/i386/pc.c `pc_get_device_memory_range`; hw/arm/virt.c `virt_set_memmap`).
 */
export function deviceMemoryRegion(m: Machine, ramEnd: bigint): Interval | undefined {
  if (m.maxmem === undefined || m.memory === undefined || m.maxmem <= m.memory) return undefined;
  const start = alignUp(ramEnd, GIB);
  return { start, end: start + m.maxmem - m.memory + (m.slots ?? 0n) * GIB - 1n };
}

/** `TCG_PHYS_ADDR_BITS`: what a vCPU gets when nothing sets phys-bits (target/i386/cpu.c, x86_cpu_realizefn). */
export const DEFAULT_PHYS_BITS = 40;

type MachineVersion = { major: number; minor: number } | undefined;

/** pc-i440fx-1.7 and older keep their low RAM unaligned (pc_compat_1_7: gigabyte_align off). */
export function alignsLowRamToGigabyte(v: MachineVersion): boolean {
  return !(v && v.major < 2);
}

/** Machine types after 7.0 move an AMD guest's above-4G RAM to 1 TiB (enforce_amd_1tb_hole). */
export function enforcesAmd1TbHole(v: MachineVersion): boolean {
  return !(v && (v.major < 7 || (v.major === 7 && v.minor === 0)));
}

/**
 * The guest's phys-bits and why (RULES §3.7): as given; else 40 for a named model or under
 * TCG (x86_cpu_realizefn); undefined for `-cpu host` / `max` under KVM, which take the
 * host's (host_cpu_max_instance_init sets host-phys-bits), not known here.
 */
export function physBitsOf(
  m: Pick<Machine, 'physBits' | 'cpuModel' | 'accel' | 'hostPhysBits'>,
): { bits: number; why?: string } | undefined {
  if (m.physBits !== undefined) return { bits: m.physBits };
  // host-phys-bits=on under KVM: the host's, which a description does not give (host_cpu_adjust_phys_bits).
  if (m.hostPhysBits && m.accel !== 'tcg') return undefined;
  const model = m.cpuModel ?? 'qemu64';
  if (m.accel === 'tcg')
    return { bits: DEFAULT_PHYS_BITS, why: `no phys-bits given: under TCG every CPU model has ${DEFAULT_PHYS_BITS} (TCG_PHYS_ADDR_BITS)` };
  if (model === 'host' || model === 'max') return undefined;
  const named = m.cpuModel ? `the named CPU model ${model}` : 'qemu64, the default CPU model (no cpu-model given)';
  return {
    bits: DEFAULT_PHYS_BITS,
    why:
      `no phys-bits given: ${named} has ${DEFAULT_PHYS_BITS} (TCG_PHYS_ADDR_BITS) ` +
      "under KVM too; only -cpu host or max under KVM take the host's",
  };
}

/** Every RAM range of a guest, in the order QEMU's memory listener maps them. */
export function guestRam(g: Guest): GuestRamRange[] {
  const out: GuestRamRange[] = [];
  for (const r of g.ram) if (r.range) out.push({ name: r.sym.name, range: r.range, uri: r.sym.uri, span: r.decl.span, sym: r.sym });
  const layout = machineLayout(g);
  if (layout) out.push(...layout.ram);
  return out;
}

/** QEMU's layout for the guest's `machine` statement; undefined without machine type or memory. */
export function machineLayout(g: Guest): MachineLayout | undefined {
  const m = g.machine;
  if (m?.memory === undefined || m.memory === 0n || !m.type) return undefined;
  const ram: GuestRamRange[] = [];
  const at = (name: string, start: bigint, size: bigint) => {
    if (size > 0n) ram.push({ name, range: { start, end: start + size - 1n }, uri: g.sym.uri, span: m.stmt.span });
  };
  if (m.type === 'virt') {
    at('mach-virt.ram', VIRT_RAM_BASE, m.memory);
    const ramEnd = VIRT_RAM_BASE + m.memory;
    const dev = deviceMemoryRegion(m, ramEnd);
    return { ram, relocated: false, deviceMemory: dev, memTop: dev ? alignUp(dev.end + 1n, GIB) : alignUp(ramEnd, GIB) };
  }
  const below = lowMemory(m.type, m.memory, m.maxRamBelow4g, alignsLowRamToGigabyte(m.version));
  const above = m.memory - below;
  const hole64 = m.pciHole64Size ?? PCI_HOLE64_DEFAULT[m.type];
  // `pc_max_used_gpa` (64-bit CPU): the 64-bit PCI hole starts at the end of above-4G RAM, or
  // of the device-memory region when maxmem gives one (`pc_pci_hole64_start`), rounded up to 1 GiB.
  const holeBase = (aboveStart: bigint) => {
    const dev = deviceMemoryRegion(m, aboveStart + above);
    return dev ? dev.end + 1n : aboveStart + above;
  };
  const maxUsed = (aboveStart: bigint) => alignUp(holeBase(aboveStart), GIB) + hole64 - 1n;
  let aboveStart = FOUR_GIB;
  let relocation: string | undefined;
  if (m.cpu === 'amd') {
    const before = maxUsed(FOUR_GIB);
    if (m.version && !enforcesAmd1TbHole(m.version)) {
      relocation = `machine version ${m.version.major}.${m.version.minor} predates the relocation (enforce_amd_1tb_hole is off up to 7.0)`;
    } else if (before >= AMD_HT_START) {
      aboveStart = AMD_ABOVE_1TB_START;
      relocation =
        `the highest address used (RAM and the 64-bit PCI hole, ${hex(before)}) would reach the ` +
        `HyperTransport hole at ${hex(AMD_HT_START)}, so above-4G RAM starts at 1 TiB`;
    } else {
      relocation = `the highest address used, ${hex(before)}, stays below the HyperTransport hole at ${hex(AMD_HT_START)}`;
    }
  }
  at('ram-below-4g', 0n, below);
  at('ram-above-4g', aboveStart, above);
  const top = maxUsed(aboveStart);
  const holeStart = top - hole64 + 1n;
  return {
    ram,
    relocated: aboveStart !== FOUR_GIB,
    relocation,
    maxUsedGpa: top,
    pciHole64: hole64 > 0n ? { start: holeStart, end: top } : undefined,
    deviceMemory: deviceMemoryRegion(m, aboveStart + above),
  };
}

/** QEMU's refusal to start a PC machine whose addresses exceed phys-bits (`pc_memory_init`, QEMU 7.1+). */
export function physBitsError(layout: MachineLayout, physBits: number): string | undefined {
  if (layout.maxUsedGpa === undefined) return undefined;
  const limit = (1n << BigInt(physBits)) - 1n;
  if (limit >= layout.maxUsedGpa) return undefined;
  return `Address space limit ${hex(limit)} < ${hex(layout.maxUsedGpa)} phys-bits too low (${physBits})`;
}

/** virt with `highmem off` ends RAM and device memory at 4 GiB or exits (`virt_set_memmap`: pa_bits = 32). */
export function highmemError(layout: MachineLayout): string | undefined {
  if (layout.memTop === undefined || layout.memTop <= FOUR_GIB) return undefined;
  return `Addressing limited to 32 bits, but memory exceeds it by ${layout.memTop - FOUR_GIB} bytes`;
}

/** The fewest phys-bits that reach `address`. */
export function bitsFor(address: bigint): number {
  return address.toString(2).length;
}

/**
 * RAM below 4 GiB (RULES §3.1–3.2). q35 (`pc_q35_init`): 2 GiB or 2.75 GiB, lowered by
 * `max-ram-below-4g`. i440fx (`pc_init1`): `max-ram-below-4g` (default 0xe0000000) itself,
 * capped at 3 GiB only when the RAM reaches it on a machine type that aligns to a gigabyte
 * (`gigabyteAlign`: pc-i440fx-2.0 and later), so `max-ram-below-4g=4G -m 3968M` is all low.
 */
export function lowMemory(type: 'q35' | 'i440fx', memory: bigint, maxRamBelow4g?: bigint, gigabyteAlign = true): bigint {
  let lowmem: bigint;
  if (type === 'q35') {
    lowmem = memory >= 0xb000_0000n ? 0x8000_0000n : 0xb000_0000n;
    if (maxRamBelow4g !== undefined && lowmem > maxRamBelow4g) lowmem = maxRamBelow4g;
  } else {
    lowmem = maxRamBelow4g ?? 0xe000_0000n;
    if (memory >= lowmem && gigabyteAlign && lowmem > 0xc000_0000n) lowmem = 0xc000_0000n;
  }
  return memory < lowmem ? memory : lowmem;
}

/** How QEMU names a device: its host BDF (`0000:41:00.0`), else the description's name. */
export function qemuDevice(d: Device): string {
  return d.bdf ? formatBdf(d.bdf) : d.sym.name;
}

function errnoText(e: Errno): string {
  return `-${ERRNO[e].value} (${ERRNO[e].text})`;
}

/** A DMA map refused while QEMU sets up the container (RULES §3.5). */
export function qemuMapError(d: Device, group: string, ram: GuestRamRange, errno: Errno): string {
  return (
    `vfio ${qemuDevice(d)}: failed to setup container for group ${group}: memory listener initialization failed: ` +
    (`Region ${ram.name}: vfio_container_dma_map(<container>, ${hex(ram.range.start)}, ` +
      `${hex(intervalSize(ram.range))}, <vaddr>) = ${errnoText(errno)}`)
  );
}

/** `VFIO_GROUP_SET_CONTAINER` refused (the fixture README's report). */
export function qemuGroupError(d: Device, group: string, errno: Errno): string {
  return `vfio ${qemuDevice(d)}: failed to setup container for group ${group}: Failed to set group container: ${ERRNO[errno].text}`;
}

/** iommufd: attaching the device to the IOAS refused. */
export function qemuIommufdAttachError(d: Device, errno: Errno): string {
  return `vfio ${qemuDevice(d)}: error attach ${qemuDevice(d)} to the IOAS: ${ERRNO[errno].text}`;
}

/** The kernel's 1:1 refusal (RULES §1.6). */
export function kernelIdentityMessage(d: Device): string {
  return (
    `vfio-pci ${qemuDevice(d)}: Firmware has requested this device have a 1:1 IOMMU mapping, ` +
    'rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.'
  );
}

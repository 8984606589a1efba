/**
 * QEMU's side (RULES §3): the guest RAM ranges a VM maps for DMA, computed from
 * `machine` the way `hw/i386/pc*.c` and `hw/arm/virt.c` lay them out or taken from
 * explicit `ram` lines, and the error lines QEMU prints when VFIO refuses.
 */
import type { Span } from '@iommu-lens/grammar';
import { FOUR_GIB, hex, intervalSize, type Interval } from '../model/interval';
import { formatBdf } from '../model/numbers';
import type { Device, Guest, Sym } from '../model/types';
import { ERRNO, type Errno } from './container';

/** One guest RAM range and the line that makes it: a `ram` line or the `machine` statement. */
export interface GuestRamRange { name: string; range: Interval; uri: string; span: Span; sym?: Sym }

/** `AMD_HT_START` / `AMD_ABOVE_1TB_START` in `hw/i386/pc.c`. */
export const AMD_HT_START = 0xfd_0000_0000n;
export const AMD_ABOVE_1TB_START = 1n << 40n;
/** `hw/arm/virt.c`: `[VIRT_MEM] = { GiB, ... }`. */
export const VIRT_RAM_BASE = 0x4000_0000n;

/** Every RAM range of a guest, in the order QEMU's memory listener maps them. */
export function guestRam(g: Guest): GuestRamRange[] {
  const out: GuestRamRange[] = [];
  for (const r of g.ram) if (r.range) out.push({ name: r.sym.name, range: r.range, uri: r.sym.uri, span: r.decl.span, sym: r.sym });
  const m = g.machine;
  if (m?.memory === undefined || m.memory === 0n || !m.type) return out;
  const at = (name: string, start: bigint, size: bigint) => {
    if (size > 0n) out.push({ name, range: { start, end: start + size - 1n }, uri: g.sym.uri, span: m.stmt.span });
  };
  if (m.type === 'virt') {
    at('mach-virt.ram', VIRT_RAM_BASE, m.memory);
    return out;
  }
  const below = lowMemory(m.type, m.memory, m.maxRamBelow4g);
  at('ram-below-4g', 0n, below);
  const above = m.memory - below;
  let aboveStart = FOUR_GIB;
  // RULES §3.3: an AMD guest whose RAM would reach the HyperTransport hole starts above-4G RAM at 1 TiB.
  if (m.cpu === 'amd' && above > 0n && aboveStart + above - 1n >= AMD_HT_START) aboveStart = AMD_ABOVE_1TB_START;
  at('ram-above-4g', aboveStart, above);
  return out;
}

/** RAM below 4 GiB: `pc_q35_init` / `pc_init1` (RULES §3.1–3.2, gigabyte alignment on). */
export function lowMemory(type: 'q35' | 'i440fx', memory: bigint, maxRamBelow4g?: bigint): bigint {
  let lowmem = type === 'q35'
    ? (memory >= 0xb000_0000n ? 0x8000_0000n : 0xb000_0000n)
    : (memory >= 0xe000_0000n ? 0xc000_0000n : 0xe000_0000n);
  if (maxRamBelow4g !== undefined && lowmem > maxRamBelow4g) lowmem = maxRamBelow4g;
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
  return `vfio ${qemuDevice(d)}: failed to setup container for group ${group}: memory listener initialization failed: `
    + `Region ${ram.name}: vfio_container_dma_map(<container>, ${hex(ram.range.start)}, ${hex(intervalSize(ram.range))}, <vaddr>) = ${errnoText(errno)}`;
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
  return `vfio-pci ${qemuDevice(d)}: Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.`;
}

/**
 * A running host (or a copy of its /sys and /proc) as a platform description. sysfs is the
 * truth for what the kernel did: the groups, their reserved regions (already merged, RMRRs
 * already relaxed or not), the devices and their classes, which IOMMU unit each device is
 * behind. The ACPI tables and the kernel command line explain it, in comments. The regions
 * each IOMMU driver adds by itself are left to the simulator (RULES §1.5), so a group's list
 * is written without them. Pure: the CLI reads the files and hands their contents here.
 */
import { hex, type Interval } from '../model/interval';
import type { AcpiTable } from './acpi';
import { decodeTables, type Decoded } from './acpiPlatform';
import type { Dmar } from './dmar';
import type { Ivrs } from './ivrs';
import { PlatformOut, type IommuKind, type IommuOut, type RegionKind } from './describe';
import { deviceNameOf } from './names';
import { classWord, parseBdf, type PciInventory } from './pci';

export interface HostGroup {
  number: bigint;
  regions: { range: Interval; type: 'direct' | 'direct-relaxable' | 'reserved' | 'msi' }[];
  devices: string[];
}

/** One entry of /sys/class/iommu: its name, and for VT-d its capability register (intel-iommu/cap). */
export interface HostIommu {
  name: string;
  cap?: bigint;
}

export interface HostInput {
  groups: HostGroup[];
  pci?: PciInventory;
  /** /sys/class/iommu, and the unit each PCI device's `iommu` link names. */
  iommus: HostIommu[];
  deviceIommu: Map<string, string>;
  tables: AcpiTable[];
  cmdline?: string;
  osrelease?: string;
  /** /proc/sys/kernel/arch: the architecture when no IOMMU unit shows it. */
  arch?: string;
  /** What could not be read, said in the output. */
  unread: string[];
}

const X86_MSI: Interval = { start: 0xfee0_0000n, end: 0xfeef_ffffn };
const HT_HOLE: Interval = { start: 0xfd_0000_0000n, end: 0xff_ffff_ffffn };
const SW_MSI: Interval = { start: 0x800_0000n, end: 0x80f_ffffn };
const same = (a: Interval, b: Interval) => a.start === b.start && a.end === b.end;

/** The kind of an IOMMU unit by its sysfs name: dmarN (VT-d), ivhdN (AMD-Vi), smmu3.0x... (SMMUv3). */
export function kindOfUnit(name: string): IommuKind | undefined {
  if (/^dmar\d+$/.test(name)) return 'vt-d';
  if (/^ivhd\d+$/.test(name)) return 'amd-vi';
  if (/^smmu3\./.test(name)) return 'smmuv3';
  return undefined;
}

/** Whether the driver of `kind` adds this region by itself (so the simulator does; not written). */
function builtin(kind: IommuKind | undefined, type: string, range: Interval): boolean {
  if ((kind === 'vt-d' || kind === 'amd-vi') && type === 'msi' && same(range, X86_MSI)) return true;
  if (kind === 'amd-vi' && type === 'reserved' && same(range, HT_HOLE)) return true;
  return kind === 'smmuv3' && type === 'msi' && same(range, SW_MSI);
}

/** What each IOMMU option of the kernel command line means here, one comment each. */
export function cmdlineNotes(cmdline: string): string[] {
  const out: string[] = [];
  for (const word of cmdline.trim().split(/\s+/)) {
    if (word === '--') break; // the rest goes to init
    const [key, value = ''] = word.split(/=(.*)/s) as [string, string?];
    const values = value.split(',');
    if (key === 'intel_iommu') {
      if (values.includes('off')) out.push(`${word}: VT-d is off: no groups, no translation, nothing can be assigned with VFIO`);
      else if (values.includes('on')) out.push(`${word}: VT-d is on (kernels built without CONFIG_INTEL_IOMMU_DEFAULT_ON need it)`);
      if (values.includes('igfx_off')) out.push(`${word}: the integrated GPU is left untranslated (igfx_off)`);
      if (values.includes('sm_on')) out.push(`${word}: scalable mode on`);
    } else if (key === 'amd_iommu') {
      if (values.includes('off')) out.push(`${word}: AMD-Vi is off: no groups, nothing can be assigned with VFIO`);
      else out.push(`${word}: AMD-Vi options (${values.join(', ')}); they do not change the reserved regions`);
    } else if (key === 'iommu') {
      if (values.includes('pt'))
        out.push(
          `${word}: host DMA goes untranslated (identity default domains); ` +
            'VFIO still translates the devices it takes, so the reserved regions still apply to them',
        );
      else if (values.includes('nopt')) out.push(`${word}: host DMA is translated (DMA default domains)`);
      else if (values.includes('off')) out.push(`${word}: no IOMMU (x86): nothing can be assigned with VFIO`);
      else out.push(`${word}: IOMMU option (${values.join(', ')})`);
    } else if (key === 'iommu.passthrough') {
      const untranslated = ['1', 'y', 'on'].includes(value);
      out.push(
        `${word}: ${untranslated ? 'host DMA untranslated (identity default domains), as iommu=pt' : 'host DMA translated'}; ` +
          'VFIO translates the devices it takes either way',
      );
    } else if (key === 'iommu.strict') {
      out.push(`${word}: ${value === '0' ? 'lazy' : 'strict'} IOTLB invalidation; no effect on reserved regions`);
    } else if (key === 'pcie_acs_override') {
      out.push(
        `${word}: a patch not in mainline Linux that splits IOMMU groups the hardware's ACS does not isolate: ` +
          'the groups below are what this kernel made',
      );
    } else if (key === 'vfio-pci.ids') {
      out.push(`${word}: vfio-pci claims these vendor:device IDs at boot`);
    }
  }
  return out;
}

/** `groups 1, 2, 3 and 7 more`: a few of a list and a count of the rest. */
const groupList = (groups: readonly bigint[]) =>
  `group${groups.length === 1 ? '' : 's'} ${groups.slice(0, 8).join(', ')}${groups.length > 8 ? ` and ${groups.length - 8} more` : ''}`;

/** The address width a unit's capability register gives: MGAW (bits 21:16) plus one. */
export function vtdWidth(cap: bigint): number {
  return Number((cap >> 16n) & 0x3fn) + 1;
}

export function renderHost(name: string, input: HostInput, source: string): string {
  const out = new PlatformOut(name);
  out.header.push(`Imported by iommu-lens from the host at ${source}.`);
  noteKernel(out, input);
  const decoded = readTables(out, input.tables);
  const dmar = decoded.find((d) => d.kind === 'DMAR');
  const ivrs = decoded.find((d) => d.kind === 'IVRS');
  const tables = { dmar: dmar?.kind === 'DMAR' ? dmar.dmar : undefined, ivrs: ivrs?.kind === 'IVRS' ? ivrs.ivrs : undefined };
  const units = addUnits(out, input.iommus, tables);
  const arch = input.arch?.trim();
  if (out.iommus.length) out.arch = out.iommus.some((i) => i.kind === 'smmuv3') ? 'arm64' : 'x86_64';
  else if (arch === 'x86_64' || arch === 'aarch64') out.arch = arch === 'x86_64' ? 'x86_64' : 'arm64';
  addDevices(out, input, units);
  addRegions(out, input.groups, tables);
  return out.render();
}

/** The host's DMAR and IVRS, decoded: what explains its units' widths and its groups' regions. */
interface HostTables {
  dmar?: Dmar;
  ivrs?: Ivrs;
}

/** The header's account of the kernel: its release, its command line's IOMMU options, what was not read, no groups. */
function noteKernel(out: PlatformOut, input: HostInput): void {
  if (input.osrelease !== undefined) {
    // `6.8.0-45-generic`: the upstream release leads; the rest is the distribution's build.
    const osrelease = input.osrelease.trim();
    out.kernel = /^(\d+\.\d+(?:\.\d+)?)/.exec(osrelease)?.[1];
    out.header.push(
      out.kernel
        ? `kernel ${osrelease}: the rules of upstream Linux ${out.kernel} apply (a distribution kernel may carry backports)`
        : `kernel ${osrelease}: not an upstream release number, so the rules of the current stable kernels apply`,
    );
  }
  if (input.cmdline !== undefined) {
    const notes = cmdlineNotes(input.cmdline);
    out.header.push(notes.length ? 'kernel command line:' : 'kernel command line: no IOMMU option');
    for (const n of notes) out.header.push(`  ${n}`);
  }
  for (const u of input.unread) out.header.push(`not read: ${u}`);
  if (input.groups.length === 0) out.header.push('no IOMMU groups: the IOMMU is absent or off, so no device can be assigned with VFIO');
}

/** The ACPI tables decoded, each named in the header; tables that cannot be decoded are only noted (sysfs is the truth). */
function readTables(out: PlatformOut, tables: AcpiTable[]): Decoded[] {
  let decoded: Decoded[] = [];
  try {
    decoded = decodeTables(tables).decoded;
  } catch (e) {
    out.header.push(`ACPI tables not used: ${(e as Error).message}`);
  }
  for (const d of decoded)
    out.header.push(
      `ACPI ${d.table.signature} read: ` +
        (d.kind === 'DMAR'
          ? `${d.dmar.drhds.length} DRHD, ${d.dmar.rmrrs.length} RMRR`
          : d.kind === 'IVRS'
            ? `${d.ivrs.ivhds.length} IVHD, ${d.ivrs.ivmds.length} IVMD`
            : `${d.iort.nodes.length} nodes`),
    );
  return decoded;
}

/** The IOMMU units /sys/class/iommu names, by name, in name order (a unit of a kind not known is noted, not added). */
function addUnits(out: PlatformOut, iommus: readonly HostIommu[], tables: HostTables): Map<string, IommuOut> {
  const units = new Map<string, IommuOut>();
  for (const u of [...iommus].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    const kind = kindOfUnit(u.name);
    if (!kind) {
      out.header.push(`IOMMU unit ${u.name}: a kind this importer does not know; its devices are left without an IOMMU`);
      continue;
    }
    const { width, why } = unitWidth(u, kind, tables);
    units.set(u.name, out.iommu(u.name.replace(/[^A-Za-z0-9_-]+/g, '-'), kind, width, [`${u.name} in /sys/class/iommu; ${why}`]));
  }
  return units;
}

/** A unit's address width and where it comes from: VT-d's capability register, else the ACPI tables, else assumed. */
function unitWidth(u: HostIommu, kind: IommuKind, { dmar, ivrs }: HostTables): { width?: number; why: string } {
  if (u.cap !== undefined) return { width: vtdWidth(u.cap), why: `address width from its capability register (MGAW), cap ${hex(u.cap)}` };
  if (kind === 'vt-d' && dmar)
    return { width: dmar.haw, why: 'address width from the DMAR host address width (no capability register read)' };
  if (kind === 'amd-vi' && ivrs && ivrs.info.vaSize > 0)
    return { width: Math.min(ivrs.info.vaSize, 64), why: "address width from IVinfo's virtual address size" };
  return { why: 'address width not known here: 48 bits assumed' };
}

/** Devices: every PCI function (class from sysfs), and every member of a group, with its group and IOMMU unit. */
function addDevices(out: PlatformOut, input: HostInput, units: ReadonlyMap<string, IommuOut>): void {
  const groupOf = new Map<string, bigint>();
  for (const g of input.groups) for (const d of g.devices) groupOf.set(d.toLowerCase(), g.number);
  const keys = new Set<string>([...(input.pci?.devices.keys() ?? []), ...groupOf.keys()]);
  for (const key of [...keys].sort()) {
    const pci = parseBdf(key) !== undefined;
    const d = out.device(key, deviceNameOf(key), pci ? key : undefined);
    d.group = groupOf.get(key);
    d.classWord = classWord(input.pci?.devices.get(key)?.classCode);
    const unit = input.deviceIommu.get(key);
    d.iommu = unit ? units.get(unit) : units.size === 1 ? [...units.values()][0] : undefined;
    if (!pci) d.comment = `not a PCI device: '${key}'`;
    else if (d.group === undefined) d.comment = 'in no IOMMU group: not translated, cannot be assigned';
  }
}

/** A reserved region and the groups that list it, in group order. */
interface HeldRegion {
  type: string;
  range: Interval;
  groups: bigint[];
}

/**
 * Regions: each group's list without what its IOMMU's driver adds; a region every group has is
 * written once, and one an RMRR or IVMD explains says so.
 */
function addRegions(out: PlatformOut, groups: readonly HostGroup[], { dmar, ivrs }: HostTables): void {
  const sorted = [...groups].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  const holders = regionHolders(out, sorted);
  const rmrrAt = new Map((dmar?.rmrrs ?? []).map((r) => [`${r.base} ${r.limit}`, r]));
  const ivmdAt = new Map((ivrs?.ivmds ?? []).map((m) => [`${m.start} ${m.start + m.length - 1n}`, m]));
  for (const h of [...holders.values()].sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0))) {
    const rmrr = rmrrAt.get(`${h.range.start} ${h.range.end}`);
    const ivmd = ivmdAt.get(`${h.range.start} ${h.range.end}`);
    const why = rmrr ? `the RMRR at byte ${rmrr.offset} of DMAR` : ivmd ? `the IVMD at byte ${ivmd.offset} of IVRS` : undefined;
    const all = h.groups.length === sorted.length && sorted.length > 1;
    const base = rmrr ? 'rmrr' : ivmd ? 'ivmd' : `${h.type}-${h.range.start.toString(16)}`;
    out.region(
      base,
      h.type as RegionKind,
      h.range,
      all ? [] : h.groups.map((g) => ({ group: g })),
      `${h.type} in the reserved_regions of ${all ? 'every group' : groupList(h.groups)}${why ? `: ${why}` : ''}`,
    );
  }
}

/** The groups' regions by type and range, each with the groups listing it, less those the group's IOMMU driver adds itself. */
function regionHolders(out: PlatformOut, sorted: readonly HostGroup[]): Map<string, HeldRegion> {
  // A group's IOMMU kind is that of its devices' unit (the driver that adds the built-in regions).
  const kindOfGroup = new Map<bigint, IommuKind | undefined>();
  for (const d of out.devices.values()) if (d.group !== undefined && d.iommu) kindOfGroup.set(d.group, d.iommu.kind);
  const holders = new Map<string, HeldRegion>();
  for (const g of sorted) {
    for (const r of g.regions) {
      if (builtin(kindOfGroup.get(g.number), r.type, r.range)) continue;
      const key = `${r.type} ${r.range.start} ${r.range.end}`;
      const h = holders.get(key) ?? { type: r.type, range: r.range, groups: [] };
      if (h.groups.at(-1) !== g.number) h.groups.push(g.number);
      holders.set(key, h);
    }
  }
  return holders;
}

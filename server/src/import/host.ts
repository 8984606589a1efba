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
      out.push(
        `${word}: ${['1', 'y', 'on'].includes(value) ? 'host DMA untranslated (identity default domains), as iommu=pt' : 'host DMA translated'}; ` +
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
  let decoded: Decoded[] = [];
  try {
    decoded = decodeTables(input.tables).decoded;
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

  // The IOMMU units: /sys/class/iommu names them; their width from VT-d's capability register or the ACPI tables.
  const dmar = decoded.find((d) => d.kind === 'DMAR');
  const ivrs = decoded.find((d) => d.kind === 'IVRS');
  const units = new Map<string, IommuOut>();
  for (const u of [...input.iommus].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    const kind = kindOfUnit(u.name);
    if (!kind) {
      out.header.push(`IOMMU unit ${u.name}: a kind this importer does not know; its devices are left without an IOMMU`);
      continue;
    }
    let width: number | undefined;
    let why: string;
    if (u.cap !== undefined) {
      width = vtdWidth(u.cap);
      why = `address width from its capability register (MGAW), cap ${hex(u.cap)}`;
    } else if (kind === 'vt-d' && dmar?.kind === 'DMAR') {
      width = dmar.dmar.haw;
      why = 'address width from the DMAR host address width (no capability register read)';
    } else if (kind === 'amd-vi' && ivrs?.kind === 'IVRS' && ivrs.ivrs.info.vaSize > 0) {
      width = Math.min(ivrs.ivrs.info.vaSize, 64);
      why = "address width from IVinfo's virtual address size";
    } else why = 'address width not known here: 48 bits assumed';
    units.set(u.name, out.iommu(u.name.replace(/[^A-Za-z0-9_-]+/g, '-'), kind, width, [`${u.name} in /sys/class/iommu; ${why}`]));
  }
  const arch = input.arch?.trim();
  if (out.iommus.length) out.arch = out.iommus.some((i) => i.kind === 'smmuv3') ? 'arm64' : 'x86_64';
  else if (arch === 'x86_64' || arch === 'aarch64') out.arch = arch === 'x86_64' ? 'x86_64' : 'arm64';

  // Devices: every PCI function (class from sysfs), and every member of a group.
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

  // Regions: each group's list without what its IOMMU's driver adds; a region every group has is written once.
  const kindOfGroup = new Map<bigint, IommuKind | undefined>();
  for (const d of out.devices.values()) if (d.group !== undefined && d.iommu) kindOfGroup.set(d.group, d.iommu.kind);
  const holders = new Map<string, { type: string; range: Interval; groups: bigint[] }>();
  const sorted = [...input.groups].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  for (const g of sorted) {
    for (const r of g.regions) {
      if (builtin(kindOfGroup.get(g.number), r.type, r.range)) continue;
      const key = `${r.type} ${r.range.start} ${r.range.end}`;
      const h = holders.get(key) ?? { type: r.type, range: r.range, groups: [] };
      if (h.groups.at(-1) !== g.number) h.groups.push(g.number);
      holders.set(key, h);
    }
  }
  const rmrrs = dmar?.kind === 'DMAR' ? dmar.dmar.rmrrs : [];
  const ivmds = ivrs?.kind === 'IVRS' ? ivrs.ivrs.ivmds : [];
  const rmrrAt = new Map(rmrrs.map((r) => [`${r.base} ${r.limit}`, r]));
  const ivmdAt = new Map(ivmds.map((m) => [`${m.start} ${m.start + m.length - 1n}`, m]));
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
  return out.render();
}

/**
 * A guest's memory layout and devices handed back to QEMU (its options) or libvirt (a domain
 * XML fragment): what `layout` suggests becomes something to paste. Only layouts QEMU can
 * produce are written (RULES §3.9): for q35 and pc, RAM from 0 and the rest from 4 GiB, the
 * split set with max-ram-below-4g; for virt, one block at 1 GiB sized by -m; any further
 * piece as a DIMM pinned with addr= in the device-memory region above RAM. A layout QEMU
 * cannot produce is refused with the reason. Every layout is checked by laying out the
 * options again the way the simulator does.
 */
import { alignUp, formatSize, hex, type Interval } from '../model/interval';
import { formatBdf } from '../model/numbers';
import type { Guest } from '../model/types';
import { lowMemory, VIRT_RAM_BASE } from '../sim/qemu';

const GIB = 1n << 30n;
const MIB = 1n << 20n;
const FOUR_GIB = 1n << 32n;
const DIMM_ALIGN = 2n * MIB;

export interface ExportLayout {
  type: 'q35' | 'i440fx' | 'virt';
  version?: { major: number; minor: number };
  memory: bigint;
  maxRamBelow4g?: bigint;
  pciHole64?: bigint;
  dimms: { name: string; start: bigint; size: bigint }[];
  /** `maxmem` and `slots` for the DIMMs: the device-memory region must reach the last one. */
  maxmem?: bigint;
  slots?: number;
  physBits?: number;
  cpu?: 'amd' | 'intel';
  /** `-cpu MODEL` (none: the host's under KVM, as before), `-accel`, `host-phys-bits=on`, virt `highmem=off`. */
  cpuModel?: string;
  accel?: 'kvm' | 'tcg';
  hostPhysBits?: boolean;
  highmem?: boolean;
}

export interface ExportDevice {
  name: string;
  bdf?: string;
}

export interface ExportInput {
  layout: ExportLayout;
  devices: ExportDevice[];
  iommufd: boolean;
  viommu?: 'vt-d' | 'amd-vi' | 'smmuv3' | 'virtio-iommu';
  notes: string[];
}

/** Why a layout cannot be produced, for the user. */
export class LayoutError extends Error {}

const range = (r: Interval) => `${hex(r.start)}..${hex(r.end)}`;

/**
 * The QEMU layout that gives a guest's RAM: from its `machine` statement, or found from its
 * `ram` lines. `arch` (the platform's) picks the machine type when the guest has none.
 */
export function layoutOf(g: Guest, arch: 'x86_64' | 'arm64' | undefined): ExportLayout {
  const m = g.machine;
  const type = m?.type ?? (arch === 'arm64' ? 'virt' : 'q35');
  const pieces = g.ram
    .flatMap((r) => (r.range ? [{ name: r.sym.name, range: r.range }] : []))
    .sort((a, b) => (a.range.start < b.range.start ? -1 : 1));
  const base: ExportLayout = {
    type,
    version: m?.version,
    memory: 0n,
    maxRamBelow4g: m?.maxRamBelow4g,
    pciHole64: m?.pciHole64Size,
    dimms: [],
    physBits: m?.physBits,
    cpu: m?.cpu,
    cpuModel: m?.cpuModel,
    accel: m?.accel,
    hostPhysBits: m?.hostPhysBits,
    highmem: m?.highmem,
    maxmem: m?.maxmem,
    slots: m?.slots !== undefined ? Number(m.slots) : undefined,
  };
  let extra = pieces;
  if (m?.memory !== undefined && m.memory > 0n) {
    base.memory = m.memory;
  } else if (type === 'virt') {
    const main = pieces.find((p) => p.range.start === VIRT_RAM_BASE);
    if (!main) throw new LayoutError(`virt puts RAM at ${hex(VIRT_RAM_BASE)}, and no ram line of guest ${g.sym.name} starts there`);
    base.memory = main.range.end - main.range.start + 1n;
    extra = pieces.filter((p) => p !== main);
  } else {
    // x86: RAM from 0 below 4 GiB, and the rest from 4 GiB.
    const low = pieces.find((p) => p.range.start === 0n);
    if (!low) throw new LayoutError(`${type} puts RAM at 0, and no ram line of guest ${g.sym.name} starts there`);
    if (low.range.end >= FOUR_GIB)
      throw new LayoutError(`the ram line ${low.name} (${range(low.range)}) crosses 4 GiB: ${type} splits RAM there`);
    const high = pieces.find((p) => p.range.start === FOUR_GIB);
    const lowSize = low.range.end + 1n;
    const highSize = high ? high.range.end - high.range.start + 1n : 0n;
    base.memory = lowSize + highSize;
    extra = pieces.filter((p) => p !== low && p !== high);
    // QEMU's split, lowered by max-ram-below-4g: the only knob (it cannot raise it).
    if (lowMemory(type, base.memory) !== lowSize) {
      if (!high)
        throw new LayoutError(
          `${formatSize(lowSize)} all below 4 GiB is more than ${type} puts there for that size ` +
            `(${formatSize(lowMemory(type, base.memory))})`,
        );
      base.maxRamBelow4g = lowSize;
      if (lowMemory(type, base.memory, lowSize) !== lowSize)
        throw new LayoutError(
          `${type} cannot put ${formatSize(lowSize)} below 4 GiB for ${formatSize(base.memory)} of RAM: ` +
            `max-ram-below-4g only lowers its split (${formatSize(lowMemory(type, base.memory))})`,
        );
    }
  }
  // Further pieces are DIMMs: in the device-memory region, which starts at the end of RAM rounded up to 1 GiB.
  const end = type === 'virt' ? VIRT_RAM_BASE + base.memory : FOUR_GIB + base.memory - lowMemory(type, base.memory, base.maxRamBelow4g);
  const deviceBase = alignUp(end, GIB);
  for (const p of extra) {
    const size = p.range.end - p.range.start + 1n;
    if (p.range.start < deviceBase)
      throw new LayoutError(
        `the ram line ${p.name} (${range(p.range)}) lies below ${hex(deviceBase)}, ` +
          "where QEMU's device-memory region for DIMMs starts: not a layout QEMU can produce",
      );
    if (p.range.start % DIMM_ALIGN !== 0n || size % DIMM_ALIGN !== 0n)
      throw new LayoutError(`the ram line ${p.name} (${range(p.range)}) is not 2 MiB aligned, as a DIMM must be`);
    base.dimms.push({ name: p.name, start: p.range.start, size });
  }
  if (base.dimms.length) {
    const last = base.dimms.reduce((a, d) => (d.start + d.size > a ? d.start + d.size : a), deviceBase);
    // The guest's own maxmem and slots when they hold the DIMMs; else just enough for them.
    if (base.slots === undefined || base.slots < base.dimms.length) base.slots = base.dimms.length;
    // The region holds maxmem - memory (plus 1 GiB per slot, which QEMU adds for alignment): enough to reach the last DIMM.
    const need = base.memory + alignUp(last - deviceBase, GIB);
    if (base.maxmem === undefined || base.maxmem < need) base.maxmem = need;
  }
  return base;
}

/** The machine type as QEMU names it (`pc-q35-8.2`, `pc`, `virt-9.0`). */
export function machineName(l: ExportLayout): string {
  const v = l.version ? `-${l.version.major}.${l.version.minor}` : '';
  if (l.type === 'virt') return `virt${v}`;
  if (l.type === 'q35') return v ? `pc-q35${v}` : 'q35';
  return v ? `pc-i440fx${v}` : 'pc';
}

const size = (v: bigint) => {
  const s = formatSize(v);
  return s.startsWith('0x') ? `${v}` : s;
};

/** The QEMU options, one per line, ready to join into a command line; notes as `#` lines. */
export function exportQemu(x: ExportInput): string {
  const l = x.layout;
  const machine = [machineName(l)];
  if (l.maxRamBelow4g !== undefined) machine.push(`max-ram-below-4g=${size(l.maxRamBelow4g)}`);
  if (x.viommu === 'smmuv3') machine.push('iommu=smmuv3');
  if (l.type === 'virt' && l.highmem === false) machine.push('highmem=off');
  const lines = [`-machine ${machine.join(',')}`];
  const hotplug = `${l.slots !== undefined ? `,slots=${l.slots}` : ''}${l.maxmem !== undefined ? `,maxmem=${size(l.maxmem)}` : ''}`;
  lines.push(`-m size=${size(l.memory)}${hotplug}`);
  // A vendor or phys-bits needs a CPU: the guest's model, or the host's under KVM (which takes the host's vendor).
  if (l.physBits !== undefined || l.cpu || l.cpuModel || l.accel || l.hostPhysBits) {
    const cpu = [l.cpuModel ?? 'host'];
    if (l.physBits !== undefined) cpu.push(`phys-bits=${l.physBits}`);
    else if (l.hostPhysBits) cpu.push('host-phys-bits=on');
    lines.push(`-accel ${l.accel ?? 'kvm'}`, `-cpu ${cpu.join(',')}`);
  }
  if (l.pciHole64 !== undefined && l.type !== 'virt')
    lines.push(`-global ${l.type === 'q35' ? 'q35-pcihost' : 'i440FX-pcihost'}.pci-hole64-size=${size(l.pciHole64)}`);
  for (const d of l.dimms) {
    lines.push(`-object memory-backend-ram,id=mem-${d.name},size=${size(d.size)}`);
    lines.push(`-device pc-dimm,id=${d.name},memdev=mem-${d.name},addr=${hex(d.start)}`);
  }
  if (x.viommu === 'vt-d') lines.push('-device intel-iommu');
  if (x.viommu === 'amd-vi') lines.push('-device amd-iommu');
  if (x.viommu === 'virtio-iommu') lines.push('-device virtio-iommu-pci');
  if (x.iommufd) lines.push('-object iommufd,id=iommufd0');
  x.devices.forEach((d, i) => {
    if (d.bdf) lines.push(`-device vfio-pci,host=${d.bdf},id=hostdev${i}${x.iommufd ? ',iommufd=iommufd0' : ''}`);
  });
  return [...x.notes.map((n) => `# ${n}`), lines.join(' \\\n'), ''].join('\n');
}

const kib = (v: bigint) => `${v / 1024n}`;

/** The libvirt domain XML elements for the same. */
export function exportLibvirt(x: ExportInput): string {
  const l = x.layout;
  const out: string[] = [];
  const notes = [...x.notes];
  if (l.maxmem !== undefined) out.push(`<maxMemory slots='${l.slots ?? l.dimms.length}' unit='KiB'>${kib(l.maxmem)}</maxMemory>`);
  // TCG is the domain's type ('qemu'), an attribute of <domain> itself: said, not written.
  if (l.accel === 'tcg') notes.push("accel tcg: <domain type='qemu'>");
  out.push(`<memory unit='KiB'>${kib(l.memory + l.dimms.reduce((s, d) => s + d.size, 0n))}</memory>`);
  out.push('<os>', `  <type arch='${l.type === 'virt' ? 'aarch64' : 'x86_64'}' machine='${machineName(l)}'>hvm</type>`, '</os>');
  if (l.physBits !== undefined || l.cpu || l.dimms.length || l.cpuModel || l.hostPhysBits) {
    // libvirt's modes: host-passthrough is -cpu host, maximum is -cpu max, custom names a model.
    const model = l.cpuModel ?? 'host';
    if (model === 'host') out.push("<cpu mode='host-passthrough'>");
    else if (model === 'max') out.push("<cpu mode='maximum'>");
    else out.push("<cpu mode='custom' match='exact'>", `  <model fallback='forbid'>${model}</model>`);
    if (l.physBits !== undefined) out.push(`  <maxphysaddr mode='emulate' bits='${l.physBits}'/>`);
    else if (l.hostPhysBits) out.push("  <maxphysaddr mode='passthrough'/>");
    // libvirt wants a NUMA cell for memory hotplug: one cell with the initial RAM.
    if (l.dimms.length) out.push('  <numa>', `    <cell id='0' cpus='0' memory='${kib(l.memory)}' unit='KiB'/>`, '  </numa>');
    out.push('</cpu>');
  }
  const devicesAt = out.push('<devices>');
  x.devices.forEach((d) => {
    if (!d.bdf) return;
    const [seg, bus, rest] = d.bdf.split(':') as [string, string, string];
    const [slot, fn] = rest.split('.') as [string, string];
    out.push("  <hostdev mode='subsystem' type='pci' managed='yes'>");
    if (x.iommufd) out.push("    <driver iommufd='yes'/>");
    out.push(
      '    <source>',
      `      <address domain='0x${seg}' bus='0x${bus}' slot='0x${slot}' function='0x${fn}'/>`,
      '    </source>',
      '  </hostdev>',
    );
  });
  for (const d of l.dimms) {
    out.push(
      "  <memory model='dimm'>",
      '    <target>',
      `      <size unit='KiB'>${kib(d.size)}</size>`,
      '      <node>0</node>',
      '    </target>',
      `    <address type='dimm' base='${hex(d.start)}'/>`,
      '  </memory>',
    );
  }
  const models = { 'vt-d': 'intel', 'amd-vi': 'amd', smmuv3: 'smmuv3', 'virtio-iommu': 'virtio' } as const;
  if (x.viommu) out.push(`  <iommu model='${models[x.viommu]}'/>`);
  // The root controller's <pcihole64> (KiB) is libvirt's -global ...pcihost.pci-hole64-size.
  const hole = l.pciHole64 !== undefined && l.type !== 'virt' ? l.pciHole64 : undefined;
  if (hole !== undefined && hole % 1024n === 0n)
    out.push(
      `  <controller type='pci' index='0' model='${l.type === 'q35' ? 'pcie-root' : 'pci-root'}'>`,
      `    <pcihole64 unit='KiB'>${kib(hole)}</pcihole64>`,
      '  </controller>',
    );
  // A layout alone (iommu-lens layout) has no devices: no empty element.
  if (out.length === devicesAt) out.pop();
  else out.push('</devices>');
  // libvirt has no element for max-ram-below-4g (nor a hole64 that is not whole KiB): QEMU arguments, which need xmlns:qemu on <domain>.
  const extra: string[] = [];
  if (l.maxRamBelow4g !== undefined) extra.push('-machine', `max-ram-below-4g=${size(l.maxRamBelow4g)}`);
  if (l.type === 'virt' && l.highmem === false) extra.push('-machine', 'highmem=off');
  if (hole !== undefined && hole % 1024n !== 0n)
    extra.push('-global', `${l.type === 'q35' ? 'q35-pcihost' : 'i440FX-pcihost'}.pci-hole64-size=${size(hole)}`);
  if (extra.length) {
    notes.push("<qemu:commandline> needs xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' on <domain>");
    out.push('<qemu:commandline>', ...extra.map((a) => `  <qemu:arg value='${a}'/>`), '</qemu:commandline>');
  }
  return [...notes.map((n) => `<!-- ${n.replace(/--/g, '- -')} -->`), ...out, ''].join('\n');
}

/** Everything the exporters need from a modelled guest. */
export function exportInput(g: Guest): ExportInput {
  const arch = g.platform?.arch;
  const notes: string[] = [];
  const layout = layoutOf(g, arch === 'arm64' ? 'arm64' : arch === 'x86_64' ? 'x86_64' : undefined);
  if (layout.physBits !== undefined || layout.cpu) {
    const vendor = layout.cpu ? ` of the host's vendor (${layout.cpu === 'amd' ? 'AMD' : 'Intel'})` : '';
    notes.push(
      `the host's CPU under KVM stands for your CPU model${vendor}: ` +
        `keep yours${layout.physBits !== undefined ? `, with phys-bits=${layout.physBits}` : ''}`,
    );
  }
  const devices: ExportDevice[] = [];
  for (const a of g.assigns) {
    if (!a.device) continue;
    if (!a.device.bdf) notes.push(`device ${a.device.sym.name} has no bdf: not written`);
    devices.push({ name: a.device.sym.name, bdf: a.device.bdf ? formatBdf(a.device.bdf) : undefined });
  }
  const v = g.viommus[0]?.kind;
  if (g.viommus.length > 1) notes.push(`only the first of ${g.viommus.length} vIOMMUs is written`);
  return { layout, devices, iommufd: g.container === 'iommufd', viommu: v, notes };
}

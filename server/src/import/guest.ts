/**
 * A guest as QEMU runs it, read from libvirt's domain XML or from QEMU's command line: the
 * two importers fill the same structure, so their results can be compared (libvirt's own
 * test pairs are the oracle) and rendered the same way. Sizes and addresses are bigint.
 */
import { escapeText } from '../cli/escape';
import { alignUp, formatSize, hex } from '../model/interval';
import { lowMemory, VIRT_RAM_BASE } from '../sim/qemu';
import { ImportError } from './errors';
import { Names, safeName } from './names';

export type MachineFamily = 'q35' | 'i440fx' | 'virt';
export type ViommuKind = 'vt-d' | 'amd-vi' | 'smmuv3' | 'virtio-iommu';

export interface GuestDimm {
  id: string;
  size: bigint;
  /** `addr=` when given; else QEMU places it (first fit in the device-memory region). */
  addr?: bigint;
}

export interface GuestHostdev {
  /** The host function, `ssss:bb:dd.f`; absent when the device is passed by file descriptor. */
  bdf?: string;
  id?: string;
  /** The iommufd object the device uses (`-object iommufd`), or true when libvirt's XML just says iommufd. */
  iommufd?: string | true;
}

export interface ImportedGuest {
  name?: string;
  /** The raw machine type (`pc-q35-8.2`, `q35`, `virt-9.0`) and what it is. */
  machineType?: string;
  family?: MachineFamily;
  version?: { major: number; minor: number };
  maxRamBelow4g?: bigint;
  highmem?: boolean;
  pciHole64?: bigint;
  /** Initial RAM (`-m size`), bytes. */
  memory?: bigint;
  maxmem?: bigint;
  slots?: number;
  dimms: GuestDimm[];
  accel?: 'kvm' | 'tcg';
  cpuModel?: string;
  physBits?: number;
  hostPhysBits?: boolean;
  physBitsLimit?: number;
  hostdevs: GuestHostdev[];
  viommu?: ViommuKind;
  /** What was read but has no place in the description, or was assumed. */
  notes: string[];
}

export const emptyGuest = (): ImportedGuest => ({ dimms: [], hostdevs: [], notes: [] });

/** `pc`, `pc-i440fx-7.2`, `q35`, `pc-q35-8.2`, `virt`, `virt-9.0`: the family and version. */
export function machineOf(type: string): { family?: MachineFamily; version?: { major: number; minor: number } } {
  const v = /-(\d+)\.(\d+)(?:\.\d+)?$/.exec(type);
  const version = v ? { major: Number(v[1]), minor: Number(v[2]) } : undefined;
  if (type === 'q35' || type.startsWith('pc-q35-')) return { family: 'q35', version };
  if (type === 'pc' || type.startsWith('pc-i440fx-') || /^pc-\d/.test(type)) return { family: 'i440fx', version };
  if (type === 'virt' || type.startsWith('virt-')) return { family: 'virt', version };
  return {};
}

/** The CPU vendor QEMU gives a named model under TCG (under KVM the host's vendor is used). */
export function modelVendor(model: string): 'amd' | 'intel' | undefined {
  if (/^(qemu64|qemu32|phenom|athlon|Opteron|EPYC)/i.test(model)) return 'amd';
  if (
    new RegExp(
      `^(kvm64|kvm32|core|pentium|486|Conroe|Penryn|Nehalem|Westmere|SandyBridge|IvyBridge|Haswell|Broadwell|Skylake|` +
        'Cascadelake|Cooperlake|Icelake|SapphireRapids|GraniteRapids|SierraForest|Snowridge|Denverton|ClearwaterForest)',
      'i',
    ).test(model)
  )
    return 'intel';
  return undefined;
}

const GIB = 1n << 30n;
const DIMM_ALIGN = 2n << 20n;

/** QEMU refuses more memory slots than ACPI can describe (`ACPI_MAX_RAM_SLOTS`), so no guest has more DIMMs. */
export const MAX_DIMMS = 256;

/** The error for a guest with more DIMMs than QEMU starts with. */
export function checkDimmCount(g: ImportedGuest, where: string): void {
  if (g.dimms.length > MAX_DIMMS)
    throw new ImportError(`${escapeText(where)}: ${g.dimms.length} DIMMs: QEMU refuses more than ${MAX_DIMMS} memory slots`);
}

/**
 * Where QEMU puts the DIMMs without `addr=` (`memory_device_get_free_addr`): each in turn, in
 * the order they are given, at the first fit from the base of the device-memory region past
 * the DIMMs already plugged (pinned or placed), taken in address order; the region starts at
 * the end of RAM rounded up to 1 GiB (`pc_get_device_memory_range`, `virt_set_memmap`), each
 * DIMM aligned to 2 MiB (the backends' alignment on x86_64 and arm64). At most MAX_DIMMS, so
 * the scan over the plugged ones stays small.
 */
export function placeDimms(g: ImportedGuest, ramEnd: bigint): { id: string; start: bigint; size: bigint; placed: boolean }[] {
  const base = alignUp(alignUp(ramEnd, GIB), DIMM_ALIGN);
  const plugged: { start: bigint; end: bigint }[] = [];
  return g.dimms.map((d) => {
    let start = d.addr ?? base;
    if (d.addr === undefined) for (const p of plugged) if (p.start < start + d.size && start < p.end) start = alignUp(p.end, DIMM_ALIGN);
    const at = plugged.findIndex((p) => p.start > start);
    plugged.splice(at < 0 ? plugged.length : at, 0, { start, end: start + d.size });
    return { id: d.id, start, size: d.size, placed: d.addr === undefined };
  });
}

/**
 * The address after the guest's RAM as QEMU lays it out, where the device-memory region
 * starts (rounded up): x86 `pc_above_4g_end` (4 GiB plus the RAM above it; the AMD 1 TiB
 * relocation is not applied here), arm `virt` the end of its one RAM block.
 */
export function ramEnd(g: ImportedGuest): bigint | undefined {
  if (!g.family || g.memory === undefined) return undefined;
  if (g.family === 'virt') return VIRT_RAM_BASE + g.memory;
  return (1n << 32n) + g.memory - lowMemory(g.family, g.memory, g.maxRamBelow4g);
}

export interface RenderOptions {
  name: string;
  platform: string;
  /** The platform's device for a host BDF, when a platform was given. */
  deviceOf?: (bdf: string) => string | undefined;
  /** The host CPU vendor (from the platform) for KVM guests on named models. */
  hostVendor?: 'amd' | 'intel';
  source: string;
}

const c = (s: string) => `// ${escapeText(s)}`;

/** The guest description. */
export function renderGuest(g: ImportedGuest, o: RenderOptions): string {
  const head = [c(`Imported by iommu-lens from ${o.source}.`)];
  const body: string[] = [];
  const notes = [...g.notes];
  const vendor =
    g.accel === 'kvm' || g.cpuModel === 'host' || g.cpuModel === 'max' ? o.hostVendor : g.cpuModel ? modelVendor(g.cpuModel) : undefined;
  if (g.family && g.memory !== undefined) {
    const opts = [`machine ${g.family}`, `memory ${formatSize(g.memory)}`];
    if (vendor && g.family !== 'virt') opts.push(`cpu ${vendor}`);
    if (g.physBits !== undefined) opts.push(`phys-bits ${g.physBits}`);
    if (g.maxRamBelow4g !== undefined) opts.push(`max-ram-below-4g ${formatSize(g.maxRamBelow4g)}`);
    if (g.pciHole64 !== undefined) opts.push(`pci-hole64-size ${formatSize(g.pciHole64)}`);
    if (g.version) opts.push(`version ${g.version.major}.${g.version.minor}`);
    // What decides the default phys-bits (RULES §3.7): the model, the accelerator, host-phys-bits.
    if (g.family !== 'virt') {
      if (g.cpuModel && /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(g.cpuModel)) opts.push(`cpu-model ${g.cpuModel}`);
      else if (g.cpuModel) notes.push(`-cpu ${g.cpuModel.slice(0, 40)}: not a model name the language takes; cpu-model not written`);
      if (g.accel) opts.push(`accel ${g.accel}`);
      if (g.hostPhysBits && g.physBits === undefined) opts.push('host-phys-bits on');
    }
    if (g.maxmem !== undefined) opts.push(`maxmem ${formatSize(g.maxmem)}`);
    // ACPI_MAX_RAM_SLOTS: QEMU takes 0 to 256; anything else is a note, not a statement that would not parse.
    if (g.slots !== undefined && Number.isInteger(g.slots) && g.slots >= 0 && g.slots <= 256) opts.push(`slots ${g.slots}`);
    else if (g.slots !== undefined)
      notes.push(`slots=${String(g.slots).slice(0, 20)}: not a slot count QEMU takes (0 to 256); not written`);
    if (g.family === 'virt' && g.highmem === false) opts.push('highmem off');
    body.push(opts.join(' '));
    if (!vendor && g.family !== 'virt')
      notes.push(
        "the vCPU vendor is not known here (KVM takes the host's): cpu amd|intel not written, so the AMD 1 TiB relocation is not checked",
      );
  } else {
    notes.push(
      `machine ${g.machineType ?? 'not given'}${g.memory === undefined ? ', memory not given' : ''}: ` +
        'no machine statement (q35, pc and virt are modelled)',
    );
  }
  if (g.hostPhysBits && g.physBits === undefined)
    notes.push(
      `host-phys-bits: the vCPU takes the host's phys-bits${g.physBitsLimit ? `, at most ${g.physBitsLimit}` : ''}; ` +
        'not known here, so phys-bits is not written and not checked',
    );
  const end = ramEnd(g);
  // The guest's own names (RAM lines, the vIOMMU) share a namespace: made unique, from ids that may be anything.
  const names = new Names();
  const viommu = g.viommu && names.take('viommu0');
  if (g.dimms.length && end !== undefined) {
    for (const d of placeDimms(g, end)) {
      const what = d.placed ? `pc-dimm ${d.id}: no addr=, placed as QEMU's first fit does` : `pc-dimm ${d.id}`;
      body.push(`ram ${names.take(safeName(d.id, 'dimm'))} ${hex(d.start)} size ${formatSize(d.size)}   ${c(what)}`);
    }
  } else if (g.dimms.length) {
    notes.push(
      `${g.dimms.length} DIMM${g.dimms.length === 1 ? '' : 's'} (${g.dimms.map((d) => formatSize(d.size)).join(', ')}) ` +
        'not placed: the machine is not known',
    );
  }
  if (g.viommu) body.push(`viommu ${viommu} ${g.viommu}`);
  if (g.hostdevs.some((h) => h.iommufd !== undefined)) body.push('container iommufd');
  for (const h of g.hostdevs) {
    const host = h.bdf ? `host ${h.bdf}` : 'a device passed by file descriptor (no host address in the source)';
    const what = `${host}${h.id ? ` (${h.id})` : ''}`;
    const dev = h.bdf ? o.deviceOf?.(h.bdf) : undefined;
    if (dev) body.push(`assign ${dev}   ${c(what)}`);
    else
      body.push(
        c(
          `not assigned: ${what}: ` +
            (h.bdf && o.deviceOf
              ? `no device of platform ${o.platform} has this BDF`
              : "not resolved (give --platform NAME and the platform's .iommu files)"),
        ),
      );
  }
  return [...head, ...notes.map((n) => c(n)), `guest ${o.name} on ${o.platform} {`, ...body.map((l) => `  ${l}`), '}', ''].join('\n');
}

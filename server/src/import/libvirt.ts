/**
 * libvirt's domain XML (`virsh dumpxml`) as an ImportedGuest, the way libvirt's QEMU driver
 * turns it into a command line: initial memory from the NUMA cells or `<memory>` less the
 * memory devices, rounded up to 1 MiB, DIMMs to 2 MiB (`qemuDomainAlignMemorySizes`); the
 * machine type and its version; the CPU mode, model and `<maxphysaddr>`; `<hostdev>` PCI
 * sources and their iommufd driver; `<iommu>`; and `<qemu:commandline>` arguments, read as
 * QEMU would. Parsed with fast-xml-parser: nesting and entities are bounded by its limits,
 * and a DOCTYPE (which virsh never prints) is refused.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { escapeText } from '../cli/escape';
import { alignUp } from '../model/interval';
import { ImportError, lineError } from './errors';
import { checkDimmCount, emptyGuest, machineOf, type ImportedGuest, type ViommuKind } from './guest';
import { bdfKey } from './pci';
import { importQemu } from './qemuArgs';

type Node = { [k: string]: unknown };

const UNITS: Record<string, bigint> = {
  b: 1n,
  bytes: 1n,
  kb: 1000n,
  k: 1024n,
  kib: 1024n,
  mb: 1000n ** 2n,
  m: 1n << 20n,
  mib: 1n << 20n,
  gb: 1000n ** 3n,
  g: 1n << 30n,
  gib: 1n << 30n,
  tb: 1000n ** 4n,
  t: 1n << 40n,
  tib: 1n << 40n,
  pb: 1000n ** 5n,
  p: 1n << 50n,
  pib: 1n << 50n,
  eb: 1000n ** 6n,
  e: 1n << 60n,
  eib: 1n << 60n,
};
const KIB = 1024n;
const MIB = 1n << 20n;

const ARRAYS = new Set([
  'domain.devices.hostdev',
  'domain.devices.memory',
  'domain.cpu.numa.cell',
  'domain.qemu:commandline.qemu:arg',
  'domain.devices.iommu',
  'domain.devices.interface',
  'domain.devices.controller',
]);

const asNode = (v: unknown): Node | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Node) : undefined);
const list = (v: unknown): Node[] => (Array.isArray(v) ? v.map(asNode).filter((x): x is Node => !!x) : []);
const attr = (n: Node | undefined, name: string): string | undefined => {
  const v = n?.[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
};
/** An element's text (`<name>foo</name>` or `<memory unit='KiB'>1024</memory>`). */
const text = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  const n = asNode(v);
  return typeof n?.['#text'] === 'string' ? n['#text'] : undefined;
};

/** libvirt's domain XML (`virsh dumpxml`), read as libvirt's QEMU driver turns it into a command line. */
export function importLibvirt(xml: string, where: string): ImportedGuest {
  const d = parseDomain(xml, where);
  const r = reader(where);
  const g = emptyGuest();
  const { arch } = readMachine(d, g);
  const devices = asNode(d.devices);
  readMemory(d, devices, g, r);
  readCpu(d, g, r, arch);
  readDevices(devices, g, r);
  readPassthrough(d, g, where);
  return g;
}

/** The <domain> element of well-formed XML, or an ImportError that says what is wrong. */
function parseDomain(xml: string, where: string): Node {
  if (/<!DOCTYPE/i.test(xml)) throw new ImportError(`${escapeText(where)}: a DOCTYPE, which virsh dumpxml never prints: refused`);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw lineError(where, valid.err.line, `not well-formed XML: ${valid.err.msg.slice(0, 160)}`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: true,
    isArray: (_name, jpath) => ARRAYS.has(String(jpath)),
    maxNestedTags: 64,
  });
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch (e) {
    throw new ImportError(`${escapeText(where)}: not a domain XML libvirt reads: ${escapeText((e as Error).message.slice(0, 160))}`);
  }
  const d = asNode(doc.domain);
  if (!d) throw new ImportError(`${escapeText(where)}: no <domain> element: not the output of virsh dumpxml`);
  return d;
}

/** Errors naming the file, and sizes as libvirt writes them. */
interface Reader {
  where: string;
  bad(what: string): ImportError;
  bytes(value: string | undefined, unit: string | undefined, what: string): bigint | undefined;
  sizeOf(n: unknown, what: string): bigint | undefined;
}

function reader(where: string): Reader {
  const bad = (what: string) => new ImportError(`${escapeText(where)}: ${what}`);
  /** A size element or attribute pair in bytes: `<memory unit='KiB'>N</memory>`; KiB when no unit. */
  const bytes = (value: string | undefined, unit: string | undefined, what: string): bigint | undefined => {
    if (value === undefined) return undefined;
    const u = UNITS[(unit ?? 'KiB').toLowerCase()];
    if (!/^\d{1,20}$/.test(value.trim()) || u === undefined)
      throw bad(`${what}: '${escapeText(value.slice(0, 40))}' ${escapeText((unit ?? '').slice(0, 10))} is not a size`);
    return BigInt(value.trim()) * u;
  };
  const sizeOf = (n: unknown, what: string) => bytes(text(n), attr(asNode(n), 'unit'), what);
  return { where, bad, bytes, sizeOf };
}

/** The name, accelerator (the domain's type) and machine type; the architecture for what follows. */
function readMachine(d: Node, g: ImportedGuest): { arch: string | undefined } {
  g.name = text(d.name);
  const type = attr(d, 'type');
  if (type === 'kvm') g.accel = 'kvm';
  else if (type === 'qemu') g.accel = 'tcg';
  const os = asNode(asNode(d.os)?.type);
  const machine = attr(os, 'machine');
  if (machine) {
    g.machineType = machine;
    Object.assign(g, machineOf(machine));
  }
  return { arch: attr(os, 'arch') };
}

function readMemory(d: Node, devices: Node | undefined, g: ImportedGuest, r: Reader): void {
  const { bytes, sizeOf } = r;
  // Memory as libvirt's qemuDomainAlignMemorySizes leaves it.
  // Every memory device is aligned to 2 MiB (qemuDomainGetMemoryModuleSizeAlignment; 256 MiB on
  // ppc64, not modelled): an nvdimm of 511 MiB is given to QEMU as 512 MiB, like a DIMM.
  const modules = list(devices?.memory).map((m, i) => {
    const model = attr(m, 'model');
    const raw = sizeOf(asNode(m.target)?.size, `memory device ${i}`) ?? 0n;
    const aligned = alignUp(raw, 2n * MIB);
    const addr = asNode(m.address);
    const base = attr(addr, 'base');
    return { model, raw, aligned, base: base && /^0x[0-9a-f]{1,16}$/i.test(base) ? BigInt(base) : undefined, slot: attr(addr, 'slot') };
  });
  const cells = list(asNode(asNode(d.cpu)?.numa)?.cell);
  let initial: bigint | undefined;
  if (cells.length) {
    initial = 0n;
    for (const c of cells) initial += alignUp(bytes(attr(c, 'memory'), attr(c, 'unit'), 'a NUMA cell') ?? 0n, MIB);
  } else {
    const total = sizeOf(d.memory, '<memory>');
    if (total !== undefined) {
      const hot = modules.reduce((s, m) => s + m.raw, 0n);
      initial = alignUp(total > hot ? total - hot : 0n, MIB);
    }
  }
  g.memory = initial;
  const max = asNode(d.maxMemory);
  if (max) {
    g.maxmem = alignUp(sizeOf(max, '<maxMemory>') ?? 0n, MIB);
    const slots = attr(max, 'slots');
    if (slots !== undefined) g.slots = Number(slots);
  }
  modules.forEach((m, i) => {
    if (m.model === 'dimm' || m.model === 'nvdimm') g.dimms.push({ id: `dimm${i}`, size: m.aligned, addr: m.base });
    else g.notes.push(`memory device ${i} (${m.model ?? 'no model'}) is not modelled`);
  });
  checkDimmCount(g, r.where);
}

function readCpu(d: Node, g: ImportedGuest, r: Reader, arch: string | undefined): void {
  const { bad } = r;
  // CPU: libvirt's default model on x86 (i686 too: it runs qemu-system-x86_64) is qemu64;
  // host-passthrough and host-model take the host's CPU.
  const cpu = asNode(d.cpu);
  const mode = attr(cpu, 'mode') ?? 'custom';
  const x86 = arch === undefined || arch === 'x86_64' || arch === 'i686';
  if (mode === 'host-passthrough' || mode === 'host-model') g.cpuModel = 'host';
  else if (mode === 'maximum') g.cpuModel = 'max';
  else g.cpuModel = text(cpu?.model) ?? (x86 ? 'qemu64' : undefined);
  const phys = asNode(cpu?.maxphysaddr);
  if (phys) {
    const pmode = attr(phys, 'mode');
    const bits = attr(phys, 'bits');
    if (pmode === 'emulate' && bits !== undefined) {
      const n = Number(bits);
      if (!Number.isInteger(n) || n < 32 || n > 64) throw bad(`<maxphysaddr bits='${escapeText(bits.slice(0, 20))}'> is not 32 to 64`);
      g.physBits = n;
    } else if (pmode === 'passthrough') {
      g.hostPhysBits = true;
      const limit = attr(phys, 'limit');
      if (limit !== undefined) g.physBitsLimit = Number(limit);
    }
  }
}

/** Hostdevs (and hostdev interfaces), the vIOMMU and the root controller's 64-bit hole. */
function readDevices(devices: Node | undefined, g: ImportedGuest, r: Reader): void {
  const { bad, sizeOf } = r;
  // An <interface type='hostdev'> (an SR-IOV function given as a NIC) is a PCI hostdev too; libvirt
  // parses interfaces before hostdevs and gives QEMU its hostdevs in that order.
  const nics = list(devices?.interface).filter((n) => attr(n, 'type') === 'hostdev');
  [...nics.map((n): Node => ({ ...n, '@_type': 'pci' })), ...list(devices?.hostdev)].forEach((h, i) => {
    if (attr(h, 'type') !== 'pci') {
      g.notes.push(`hostdev ${i} of type ${attr(h, 'type') ?? 'none'} is not a PCI device: not modelled`);
      return;
    }
    const a = asNode(asNode(h.source)?.address);
    const field = (name: string, max: number) => {
      const v = attr(a, name) ?? (name === 'domain' ? '0' : undefined);
      const n = v !== undefined && /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
      if (!(n >= 0 && n <= max))
        throw bad(`hostdev ${i}: source address ${name} '${escapeText((v ?? '').slice(0, 20))}' is not 0 to ${max.toString(16)} (hex)`);
      return n;
    };
    const bdf = bdfKey(field('domain', 0xffff), field('bus', 0xff), field('slot', 0x1f), field('function', 7));
    const iommufd = attr(asNode(h.driver), 'iommufd') === 'yes' ? (true as const) : undefined;
    g.hostdevs.push({ bdf, id: attr(asNode(h.alias), 'name') ?? `hostdev${i}`, iommufd });
  });

  const models: Record<string, ViommuKind> = { intel: 'vt-d', amd: 'amd-vi', smmuv3: 'smmuv3', virtio: 'virtio-iommu' };
  const iommu = list(devices?.iommu)[0];
  if (iommu) {
    const model = attr(iommu, 'model') ?? '';
    if (models[model]) g.viommu = models[model];
    else g.notes.push(`<iommu model='${model}'> is not modelled`);
  }

  // The 64-bit PCI hole: <pcihole64> on the root controller, which libvirt passes as
  // -global q35-pcihost|i440FX-pcihost.pci-hole64-size=NK (tests/qemuxmlconfdata/pcihole64*.xml).
  for (const c of list(devices?.controller)) {
    const model = attr(c, 'model');
    if (attr(c, 'type') === 'pci' && (model === 'pci-root' || model === 'pcie-root') && c.pcihole64 !== undefined)
      g.pciHole64 = sizeOf(c.pcihole64, '<pcihole64>');
  }
}

function readPassthrough(d: Node, g: ImportedGuest, where: string): void {
  // Arguments passed through to QEMU: read as QEMU reads them, for what libvirt cannot say (max-ram-below-4g, ...).
  const extra = list(asNode(d['qemu:commandline'])?.['qemu:arg']).map((a) => attr(a, 'value') ?? '');
  if (extra.length) {
    const q = importQemu(
      extra.map((t) => ({ text: t, line: 0 })),
      `${where} <qemu:commandline>`,
    );
    if (q.maxRamBelow4g !== undefined) g.maxRamBelow4g = q.maxRamBelow4g;
    if (q.pciHole64 !== undefined) g.pciHole64 = q.pciHole64;
    if (q.highmem !== undefined) g.highmem = q.highmem;
    if (q.physBits !== undefined) g.physBits = q.physBits;
    if (q.machineType) {
      g.machineType = q.machineType;
      Object.assign(g, machineOf(q.machineType));
    }
  }
}

/** Bytes as libvirt writes them in KiB. */
export const kib = (v: bigint) => v / KIB;

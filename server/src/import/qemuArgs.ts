/**
 * A QEMU command line (a libvirt `.args` file, `ps` output, or the words after `--`) as an
 * ImportedGuest: `-machine` (type, version, max-ram-below-4g, highmem, accel, iommu),
 * `-m` with slots and maxmem, `-cpu` with phys-bits and host-phys-bits, `-accel`, `-device`
 * (vfio-pci, pc-dimm, the vIOMMUs) and `-object` (memory backends, iommufd) in both the
 * plain `key=value,...` and the JSON form libvirt emits. Options it does not need are skipped.
 */
import { escapeText } from '../cli/escape';
import { ImportError, lineError } from './errors';
import { checkDimmCount, emptyGuest, machineOf, type ImportedGuest } from './guest';
import { parseBdf, keyOf } from './pci';
import { shellWords, type Word } from './shellWords';

/** Options that take no argument (the rest take one: the next word). */
const FLAGS = new Set([
  '-S',
  '-s',
  '-no-user-config',
  '-nodefaults',
  '-no-shutdown',
  '-no-reboot',
  '-enable-kvm',
  '-nographic',
  '-no-hpet',
  '-daemonize',
  '-snapshot',
  '-no-acpi',
  '-full-screen',
  '-usb',
  '-no-fd-bootchk',
  '-no-frame',
  '-alt-grab',
  '-ctrl-grab',
  '-win2k-hack',
  '-rtc-td-hack',
  '-no-kvm',
  '-no-kvm-irqchip',
  '-no-kvm-pit',
  '-no-kvm-pit-reinjection',
  '-enable-fips',
  '-only-migratable',
  '-preconfig',
  '-semihosting',
  '-version',
  '-help',
  '-h',
]);

/** A value of QEMU's option syntax: a JSON object's member, or a `key=value` string. */
type Value = string | number | bigint | boolean | null | Value[] | { [k: string]: Value };

/** `a,b=c,,d,e=f` → positional `a`, {b: 'c,d', e: 'f'} (QEMU's keyval: `,,` is a comma). */
export function keyval(s: string): { first?: string; props: Map<string, string> } {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',' && s[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (s[i] === ',') {
      parts.push(cur);
      cur = '';
    } else cur += s[i];
  }
  parts.push(cur);
  const props = new Map<string, string>();
  let first: string | undefined;
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (i === 0) first = p;
      else props.set(p, 'on');
    } else props.set(p.slice(0, eq), p.slice(eq + 1));
  });
  return { first, props };
}

/**
 * JSON as QEMU reads it, with integers kept exact: JSON.parse would round sizes above 2^53,
 * so integer literals are read as bigint.
 */
export function exactJson(s: string): Value {
  const marked = s.replace(
    /("(?:[^"\\]|\\.)*")|(-?\d+)(?![.\deE])/g,
    (_m, str: string | undefined, num: string | undefined) => str ?? `"\\u0000${num}"`,
  );
  return JSON.parse(marked, (_k, v: unknown) => (typeof v === 'string' && v.startsWith('\u0000') ? BigInt(v.slice(1)) : v)) as Value;
}

/** A device or object's properties, plain or JSON, as strings (numbers in decimal). */
function properties(arg: string, where: string, w: Word, typeKey: string): { type?: string; props: Map<string, string> } {
  if (arg.trimStart().startsWith('{')) {
    let v: Value;
    try {
      v = exactJson(arg);
    } catch (e) {
      throw lineError(where, w.line, `not valid JSON: ${escapeText((e as Error).message.slice(0, 120))}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw lineError(where, w.line, 'the JSON must be an object');
    const props = new Map<string, string>();
    for (const [k, x] of Object.entries(v))
      props.set(
        k,
        typeof x === 'object' && x !== null ? JSON.stringify(x, (_k, y: unknown) => (typeof y === 'bigint' ? Number(y) : y)) : String(x),
      );
    return { type: props.get(typeKey), props };
  }
  const { first, props } = keyval(arg);
  return { type: props.get(typeKey) ?? first, props };
}

const UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n, p: 1n << 50n, e: 1n << 60n };

/** A QEMU size (`4G`, `219136k`, `1073741824`); `defaultUnit` for a bare number (`-m` takes MiB). */
export function qemuSize(s: string, defaultUnit = 1n): bigint | undefined {
  // qemu_strtosz takes hexadecimal too (addr=0x240000000), in bytes.
  if (/^0x[0-9a-fA-F]{1,16}$/.test(s.trim())) return BigInt(s.trim());
  const m = /^(\d+)(?:\.(\d+))?([bkmgtpeBKMGTPE]?)$/.exec(s.trim());
  if (!m) return undefined;
  const unit = m[3] ? UNITS[m[3].toLowerCase()]! : defaultUnit;
  if (!m[2]) return BigInt(m[1]!) * unit;
  // A fraction (`1.5G`): exact when it is a whole number of bytes.
  const scale = 10n ** BigInt(m[2].length);
  const v = BigInt(m[1]! + m[2]) * unit;
  return v % scale === 0n ? v / scale : undefined;
}

const onOff = (v: string | undefined) =>
  v === undefined ? undefined : ['on', 'true', 'yes', 'y'].includes(v) ? true : ['off', 'false', 'no', 'n'].includes(v) ? false : undefined;

/** The guest a QEMU command line starts. `where` names it in errors. */
export function importQemu(words: readonly Word[], where: string): ImportedGuest {
  const g = emptyGuest();
  const { arch, first } = readProgram(words, g);
  const size = (s: string | undefined, w: Word, what: string, unit = 1n) => {
    if (s === undefined) return undefined;
    const v = qemuSize(s, unit);
    if (v === undefined) throw lineError(where, w.line, `${what} '${escapeText(s.slice(0, 40))}' is not a size`);
    return v;
  };
  const q: Reading = { g, where, size, backends: new Map(), iommufds: new Set(), dimms: [] };
  for (let i = first; i < words.length; i++) {
    const w = words[i]!;
    const opt = w.text.replace(/^--/, '-');
    if (!opt.startsWith('-')) {
      g.notes.push(`a word that is not an option was skipped (line ${w.line}): '${w.text.slice(0, 40)}'`);
      continue;
    }
    if (FLAGS.has(opt)) {
      if (opt === '-enable-kvm') g.accel = 'kvm';
      continue;
    }
    const argWord = words[i + 1];
    if (!argWord) throw lineError(where, w.line, `${escapeText(opt.slice(0, 40))} needs an argument`);
    i++;
    option(q, opt, argWord);
  }
  // QEMU's default CPU model on x86 (libvirt writes it out).
  if (g.cpuModel === undefined && (arch === undefined || arch === 'x86_64')) g.cpuModel = 'qemu64';
  addDimms(q);
  checkDimmCount(g, where);
  return g;
}

/**
 * Past the environment assignments (`LC_ALL=C`) and the program, which come first: the index
 * of the first option, and the architecture the program's name gives (`qemu-system-x86_64`).
 */
function readProgram(words: readonly Word[], g: ImportedGuest): { arch: string | undefined; first: number } {
  let i = 0;
  let arch: string | undefined;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!.text)) i++;
  if (i < words.length && !words[i]!.text.startsWith('-')) {
    const prog = words[i]!.text;
    arch = /qemu-system-([a-z0-9_]+)$/.exec(prog)?.[1];
    if (!arch) g.notes.push(`the program is '${prog.slice(0, 80)}', not qemu-system-ARCH`);
    i++;
  }
  return { arch, first: i };
}

/** One option with its argument; the options that do not bear on the IOMMU picture are skipped. */
function option(q: Reading, opt: string, argWord: Word): void {
  const { g, size } = q;
  const arg = argWord.text;
  switch (opt) {
    case '-name': {
      const { first, props } = keyval(arg);
      g.name = props.get('guest') ?? first;
      break;
    }
    case '-machine':
    case '-M':
      machineOption(q, arg, argWord);
      break;
    case '-accel': {
      const { first, props } = keyval(arg);
      const a = props.get('accel') ?? first;
      if (a === 'kvm' || a === 'tcg') g.accel = a;
      break;
    }
    case '-m': {
      const { first, props } = keyval(arg);
      g.memory = size(props.get('size') ?? first, argWord, '-m size', 1n << 20n);
      g.maxmem = size(props.get('maxmem'), argWord, 'maxmem');
      if (props.has('slots')) g.slots = Number(props.get('slots'));
      break;
    }
    case '-cpu':
      cpuOption(q, arg, argWord);
      break;
    case '-global': {
      const m = /^(q35-pcihost|i440FX-pcihost)\.pci-hole64-size=(.*)$/.exec(arg);
      if (m) g.pciHole64 = size(m[2], argWord, 'pci-hole64-size');
      break;
    }
    case '-object':
      objectOption(q, arg, argWord);
      break;
    case '-device':
      device(q, arg, argWord);
      break;
    default:
  }
}

/** `-object`: the memory backends (their sizes, for the DIMMs that name them) and the iommufd objects. */
function objectOption(q: Reading, arg: string, argWord: Word): void {
  const { type, props } = properties(arg, q.where, argWord, 'qom-type');
  const id = props.get('id');
  if (type?.startsWith('memory-backend-') && id) {
    const s = q.size(props.get('size'), argWord, 'the backend size');
    if (s !== undefined) q.backends.set(id, s);
  } else if (type === 'iommufd' && id) q.iommufds.add(id);
}

/** The DIMMs, each the size of the backend it names: a backend may come after its DIMM on the command line. */
function addDimms(q: Reading): void {
  const { g, where } = q;
  for (const d of q.dimms) {
    const s = d.memdev ? q.backends.get(d.memdev) : undefined;
    if (s === undefined)
      throw new ImportError(
        `${escapeText(where)}:${d.line}: DIMM ${escapeText(d.id.slice(0, 40))} names memdev ` +
          `'${escapeText((d.memdev ?? '').slice(0, 40))}', which no memory backend declares`,
      );
    g.dimms.push({ id: d.id, size: s, addr: d.addr });
  }
}

/** What the options of one command line share while they are read. */
interface Reading {
  g: ImportedGuest;
  where: string;
  size(s: string | undefined, w: Word, what: string, unit?: bigint): bigint | undefined;
  backends: Map<string, bigint>;
  iommufds: Set<string>;
  dimms: { id: string; memdev?: string; addr?: bigint; line: number }[];
}

/** `-machine TYPE,max-ram-below-4g=,highmem=,accel=,iommu=`. */
function machineOption(q: Reading, arg: string, argWord: Word): void {
  const { g, size } = q;
  const { first, props } = keyval(arg);
  const type = props.get('type') ?? first;
  if (type) {
    g.machineType = type;
    Object.assign(g, machineOf(type));
  }
  g.maxRamBelow4g = size(props.get('max-ram-below-4g'), argWord, 'max-ram-below-4g') ?? g.maxRamBelow4g;
  const highmem = onOff(props.get('highmem'));
  if (highmem !== undefined) g.highmem = highmem;
  const accel = props.get('accel')?.split(':')[0];
  if (accel === 'kvm' || accel === 'tcg') g.accel = accel;
  if (props.get('iommu') === 'smmuv3') g.viommu = 'smmuv3';
}

/** `-cpu MODEL,phys-bits=,host-phys-bits=,host-phys-bits-limit=`. */
function cpuOption(q: Reading, arg: string, argWord: Word): void {
  const { g, where } = q;
  const { first, props } = keyval(arg);
  g.cpuModel = first;
  if (props.has('phys-bits')) {
    const n = Number(props.get('phys-bits'));
    if (!Number.isInteger(n) || n < 32 || n > 64)
      throw lineError(where, argWord.line, `phys-bits '${escapeText(props.get('phys-bits')!.slice(0, 20))}' is not 32 to 64`);
    g.physBits = n;
  }
  if (onOff(props.get('host-phys-bits'))) g.hostPhysBits = true;
  if (props.has('host-phys-bits-limit')) g.physBitsLimit = Number(props.get('host-phys-bits-limit'));
}

/** `-device`: vfio-pci functions, DIMMs, vIOMMUs; the rest is not part of the IOMMU picture. */
function device(q: Reading, arg: string, argWord: Word): void {
  const { g, where, size, iommufds, dimms } = q;
  const { type, props } = properties(arg, where, argWord, 'driver');
  if (type === 'vfio-pci' || type === 'vfio-pci-nohotplug' || type === 'vfio-pci-igb') {
    const sysfsdev = props.get('sysfsdev');
    const host = props.get('host') ?? /\/([0-9a-fA-F:.]+)\/?$/.exec(sysfsdev ?? '')?.[1];
    if (!host && sysfsdev !== undefined) {
      // A mediated device (/sys/bus/mdev/devices/UUID) has no PCI function of its own to assign.
      g.notes.push(
        `vfio-pci ${props.get('id') ?? ''}: sysfsdev ${sysfsdev.slice(0, 80)} is not a PCI function (a mediated device): not modelled`,
      );
      return;
    }
    const bdf = host ? parseBdf(host.toLowerCase()) : undefined;
    if (host && !bdf) throw lineError(where, argWord.line, `vfio-pci host '${escapeText(host.slice(0, 40))}' is not a PCI address`);
    const fd = props.get('iommufd');
    if (fd !== undefined && !iommufds.has(fd))
      g.notes.push(`vfio-pci ${props.get('id') ?? ''} names iommufd '${fd}', which no -object iommufd before it declares`);
    g.hostdevs.push({ bdf: bdf && keyOf(bdf), id: props.get('id'), iommufd: fd });
  } else if (type === 'pc-dimm' || type === 'nvdimm') {
    dimms.push({
      id: props.get('id') ?? `dimm${dimms.length}`,
      memdev: props.get('memdev'),
      addr: size(props.get('addr'), argWord, 'the DIMM address'),
      line: argWord.line,
    });
    if (type === 'nvdimm') g.notes.push(`nvdimm ${props.get('id') ?? ''} is placed like a DIMM; its label area is not modelled`);
  } else if (type === 'intel-iommu') g.viommu = 'vt-d';
  else if (type === 'amd-iommu') g.viommu = 'amd-vi';
  else if (type === 'virtio-iommu-pci' || type === 'virtio-iommu-device' || type === 'virtio-iommu') g.viommu = 'virtio-iommu';
  else if (type === 'arm-smmuv3') g.viommu = 'smmuv3';
  else if (type === 'virtio-mem-pci') g.notes.push(`virtio-mem ${props.get('id') ?? ''} is not modelled`);
}

export function importQemuText(text: string, where: string): ImportedGuest {
  return importQemu(shellWords(text, where), where);
}

/**
 * `iommu-lens import acpi|host|libvirt|qemu` and `iommu-lens export qemu|libvirt`: the I/O
 * around the import layer (server/src/import), which does the decoding and converting.
 * Every file is read through capture.ts (regular files inside the tree named, bounded); every
 * description printed is parsed and formatted first, so it is what `format --check` accepts.
 * Problems with the input are one line on stderr and exit 2, never a stack trace.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from '@iommu-lens/grammar';
import { formatDocument } from '../ide';
import { readTables, type AcpiTable } from '../import/acpi';
import { decodeTables, renderAcpiPlatform } from '../import/acpiPlatform';
import { ImportError } from '../import/errors';
import { type ExportInput, exportInput, exportLibvirt, exportQemu, LayoutError } from '../import/export';
import { renderGuest, type ImportedGuest, type RenderOptions } from '../import/guest';
import { renderHost, type HostInput, type HostIommu } from '../import/host';
import { importLibvirt } from '../import/libvirt';
import { importQemu, importQemuText } from '../import/qemuArgs';
import { formatBdf } from '../model';
import { safeName } from '../import/names';
import { parseLspci, sysfsDevice, keyOf, type PciDevice, type PciInventory } from '../import/pci';
import { at, CaptureReader, realDirectory, type Place } from './capture';
import { escapeText } from './escape';
import { InputError } from './files';
import { applyEdits, load, type Io } from './context';
import { SysfsError } from './sysfsImport';
import { options, UsageError } from './usage';

/** The importers this file runs (`import sysfs` and `reserved-regions` stay in main.ts). */
export const IMPORTERS: readonly string[] = ['acpi', 'host', 'libvirt', 'qemu'];

/** An ACPI table, or an acpidump of a large server, is well under this. */
export const MAX_TABLE_FILE = 16 << 20;
/** A sysfs attribute (class, cmdline, osrelease) is a page. */
const MAX_ATTRIBUTE = 64 << 10;

/** Runs `fn`, turning every problem with the input or the arguments into a message and exit 2. */
function guarded(io: Io, fn: () => number): number {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UsageError || e instanceof ImportError || e instanceof SysfsError || e instanceof InputError) {
      io.err(`iommu-lens: ${e.message}\n${e instanceof UsageError ? "run 'iommu-lens --help' for usage\n" : ''}`);
      return 2;
    }
    throw e;
  }
}

function nameOption(value: unknown, flag: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(value))
    throw new UsageError(`${flag} must be a name (letters, digits, '_' and '-', starting with a letter), not '${escapeText(value)}'`);
  return value;
}

/**
 * A generated description, parsed and formatted. A description the parser rejects would be
 * a bug of the importer: it is refused rather than printed.
 */
export function formatted(text: string): string {
  const parsed = parse(text);
  if (parsed.diagnostics.length) {
    const d = parsed.diagnostics[0]!;
    throw new Error(`internal error: the generated description does not parse (${d.message} at ${d.span.start})`);
  }
  return applyEdits(text, formatDocument(text, {}, parsed));
}

/** One file named on the command line, read safely: its directory is the tree links may stay in. */
export function readNamedFile(shown: string, io: Io, max: number, what: string): Buffer {
  const path = resolve(io.cwd, shown);
  const dir = realDirectory({ real: dirname(path), shown: dirname(shown) });
  const bytes = new CaptureReader(dir, undefined, 'its directory').bytes({ real: resolve(dir, basename(path)), shown }, max, what);
  if (!bytes) throw new InputError(`cannot read '${escapeText(shown)}': no such file or directory`);
  return bytes;
}

/** The ACPI tables of PATH: a binary table, an acpidump, or a directory like /sys/firmware/acpi/tables. */
function readAcpiPath(shown: string, io: Io): AcpiTable[] {
  const path = resolve(io.cwd, shown);
  const top: Place = { real: realDirectory({ real: path, shown }), shown };
  const reader = new CaptureReader(top.real);
  const st = reader.resolve(top);
  if (st?.st.isDirectory()) {
    const names = reader
      .list(top)!
      .names.filter((n) => /^(DMAR|IVRS|IORT)[0-9]*$/.test(n))
      .sort();
    if (names.length === 0)
      throw new InputError(`'${escapeText(shown)}' has no DMAR, IVRS or IORT table (expected files named as in /sys/firmware/acpi/tables)`);
    return names.flatMap((n) => {
      const p = at(top, n);
      return readTables(new Uint8Array(reader.bytes(p, MAX_TABLE_FILE, 'an ACPI table')!), p.shown);
    });
  }
  return readTables(new Uint8Array(readNamedFile(shown, io, MAX_TABLE_FILE, 'an ACPI table or acpidump output')), shown);
}

/**
 * The PCI devices of a copied `/sys/bus/pci/devices` (each entry a directory, or a link
 * whose target names the bridges above it). When DIR ends in `bus/pci/devices`, the tree
 * links may stay in is the sysfs root three levels up, where those links lead.
 */
export function readPciTree(reader: CaptureReader, dir: Place, notes?: string[]): PciInventory {
  const listed = reader.list(dir);
  if (!listed) throw new InputError(`cannot read '${escapeText(dir.shown)}': no such file or directory`);
  const devices = new Map<string, PciDevice>();
  let linked = 0;
  for (const name of listed.names.sort()) {
    const p = at(dir, name);
    const link = reader.linkText(p);
    let cls: string | undefined;
    try {
      // The entry itself resolved first (inside the tree), so no path below it passes through a link unchecked.
      const real = reader.resolve(p)?.real;
      if (real)
        cls = reader
          .bytes({ real: join(real, 'class'), shown: `${p.shown}/class` }, MAX_ATTRIBUTE, 'a sysfs class attribute')
          ?.toString('utf8');
    } catch (e) {
      if (!(e instanceof SysfsError) || !notes) throw e;
      notes.push(`${e.message}: its class is unknown`);
    }
    const d = sysfsDevice(name, cls, link);
    if (!d) continue;
    if (link) linked++;
    devices.set(keyOf(d), d);
  }
  return { devices, topology: linked > 0, source: dir.shown };
}

function readPci(shown: string, io: Io): PciInventory {
  const path = resolve(io.cwd, shown);
  const real = realDirectory({ real: path, shown });
  const probe = new CaptureReader(dirname(real), undefined, 'its directory');
  if (probe.resolve({ real, shown })?.st.isDirectory()) {
    const root = /[/\\]bus[/\\]pci[/\\]devices$/.test(real) ? resolve(real, '..', '..', '..') : real;
    return readPciTree(new CaptureReader(root), { real, shown });
  }
  const text = readNamedFile(shown, io, MAX_TABLE_FILE, 'the output of lspci -n').toString('utf8');
  return parseLspci(text, shown);
}

function importAcpi(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, { platform: { type: 'string' }, pci: { type: 'string' } }, 'import acpi');
  if (positionals.length === 0)
    throw new UsageError('import acpi needs at least one PATH (a table, a directory of tables, or acpidump output)');
  const name = nameOption(values.platform, '--platform') ?? safeName(basename(positionals[0]!).replace(/\.[^.]*$/, ''), 'host');
  const tables = positionals.flatMap((p) => readAcpiPath(p, io));
  const { decoded } = decodeTables(tables);
  if (decoded.length === 0)
    throw new InputError(`no DMAR, IVRS or IORT table in ${positionals.map((p) => `'${escapeText(p)}'`).join(', ')}`);
  const pci = typeof values.pci === 'string' ? readPci(values.pci, io) : undefined;
  io.out(formatted(renderAcpiPlatform(name, decoded, pci, positionals.map(escapeText))));
  return 0;
}

/**
 * Runs `read`; a problem reading that part of the host is noted (`what`: which part), not
 * fatal: a host import says what it could not read and goes on.
 */
function part<T>(unread: string[], read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof SysfsError || e instanceof InputError || e instanceof ImportError) {
      unread.push(e.message);
      return undefined;
    }
    throw e;
  }
}

/** Everything `import host` reads under ROOT (`/` for the running system). */
export function readHost(rootShown: string, io: Io): HostInput {
  const rootPath = resolve(io.cwd, rootShown);
  const top: Place = {
    real: realDirectory({ real: rootPath, shown: rootShown }),
    shown: rootShown === '/' ? '' : rootShown.replace(/\/+$/, ''),
  };
  const reader = new CaptureReader(top.real, undefined, 'the root');
  const under = (path: string): Place => path.split('/').reduce(at, top);
  /** A directory entry with its links resolved (inside the root), so paths below it pass through no link unchecked. */
  const entry = (p: Place): Place | undefined => {
    const r = reader.resolve(p);
    return r ? { real: r.real, shown: p.shown } : undefined;
  };
  const text = (p: Place) => reader.bytes(p, MAX_ATTRIBUTE, 'a sysfs or proc attribute')?.toString('utf8');
  const unread: string[] = [];
  const groupsDir = under('sys/kernel/iommu_groups');
  const groups =
    part(unread, () => {
      if (reader.resolve(groupsDir)) return reader.groups(groupsDir).map(({ number, dir }) => reader.group(number, dir));
      unread.push(`'${escapeText(groupsDir.shown)}': absent (no IOMMU, or it is off)`);
      return [];
    }) ?? [];
  const pciDir = under('sys/bus/pci/devices');
  const pci = part(unread, () => (reader.resolve(pciDir) ? readPciTree(reader, pciDir, unread) : undefined));
  const deviceIommu = new Map<string, string>();
  for (const key of pci?.devices.keys() ?? []) {
    part(unread, () => {
      const dev = entry(at(pciDir, key));
      const link = dev && reader.linkText(at(dev, 'iommu'));
      if (link) deviceIommu.set(key, basename(link));
    });
  }
  const iommus: HostIommu[] = [];
  const classDir = under('sys/class/iommu');
  part(unread, () => {
    for (const name of reader.resolve(classDir) ? reader.list(classDir)!.names.sort() : []) {
      const unit = entry(at(classDir, name));
      const cap = unit && name.startsWith('dmar') ? part(unread, () => text(at(at(unit, 'intel-iommu'), 'cap'))) : undefined;
      iommus.push({ name, cap: cap && /^\s*[0-9a-fA-F]{1,16}\s*$/.test(cap) ? BigInt(`0x${cap.trim()}`) : undefined });
    }
  });
  const tablesDir = under('sys/firmware/acpi/tables');
  const tables: AcpiTable[] = [];
  part(unread, () => {
    for (const name of reader.resolve(tablesDir)
      ? reader
          .list(tablesDir)!
          .names.filter((n) => /^(DMAR|IVRS|IORT)[0-9]*$/.test(n))
          .sort()
      : []) {
      const p = at(tablesDir, name);
      part(unread, () => tables.push(...readTables(new Uint8Array(reader.bytes(p, MAX_TABLE_FILE, 'an ACPI table')!), p.shown)));
    }
  });
  const cmdline = part(unread, () => text(under('proc/cmdline')));
  const osrelease = part(unread, () => text(under('proc/sys/kernel/osrelease')));
  const arch = part(unread, () => text(under('proc/sys/kernel/arch')));
  return { groups, pci, iommus, deviceIommu, tables, cmdline, osrelease, arch, unread };
}

function importHost(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, { root: { type: 'string' }, platform: { type: 'string' } }, 'import host');
  if (positionals.length) throw new UsageError('import host takes no PATH (use --root DIR for a copied tree)');
  const root = typeof values.root === 'string' ? values.root : '/';
  const input = readHost(root, io);
  const name = nameOption(values.platform, '--platform') ?? safeName(input.osrelease ? 'host' : basename(resolve(io.cwd, root)), 'host');
  io.out(formatted(renderHost(name, input, escapeText(root))));
  return 0;
}

/** Splits `ARGS... -- REST...` at the first `--` (REST: a command line given as words). */
function splitDashes(args: readonly string[]): { before: string[]; after?: string[] } {
  const at = args.indexOf('--');
  return at < 0 ? { before: [...args] } : { before: args.slice(0, at), after: args.slice(at + 1) };
}

/** The device names of platform NAME by BDF, and its CPU vendor, from the platform's description files. */
function platformLookup(name: string, paths: readonly string[], io: Io): Pick<RenderOptions, 'deviceOf' | 'hostVendor'> {
  const { analysis } = load(paths, io);
  const p = analysis.model.platforms.get(name);
  if (!p)
    throw new InputError(
      `no platform '${escapeText(name)}' in ${paths.map((x) => `'${escapeText(x)}'`).join(', ')} ` +
        `(platforms: ${[...analysis.model.platforms.keys()].sort().join(', ') || 'none'})`,
    );
  const byBdf = new Map<string, string>();
  for (const d of p.devices.values()) if (d.bdf) byBdf.set(formatBdf(d.bdf), d.sym.name);
  const kinds = new Set([...p.iommus.values()].map((i) => i.kind));
  return { deviceOf: (bdf) => byBdf.get(bdf), hostVendor: kinds.has('amd-vi') ? 'amd' : kinds.has('vt-d') ? 'intel' : undefined };
}

/** `import libvirt FILE [--platform NAME PATH...]` and `import qemu (FILE | -- ARGS...) [--platform NAME PATH...]`. */
function importGuest(kind: 'libvirt' | 'qemu', args: readonly string[], io: Io): number {
  const { before, after } = splitDashes(args);
  const { values, positionals } = options(before, { platform: { type: 'string' }, name: { type: 'string' } }, `import ${kind}`);
  if (after && kind === 'libvirt') throw new UsageError('import libvirt reads a FILE (virsh dumpxml), not words after --');
  const fromWords = kind === 'qemu' && after !== undefined;
  const file: string | undefined = fromWords ? undefined : positionals[0];
  const platformFiles = fromWords ? positionals : positionals.slice(1);
  if (!fromWords && file === undefined)
    throw new UsageError(`import ${kind} needs a FILE${kind === 'qemu' ? ' (or the command line after --)' : ''}`);
  const platform = nameOption(values.platform, '--platform');
  if (platformFiles.length && !platform)
    throw new UsageError(
      `the .iommu files after the ${kind === 'qemu' && fromWords ? 'options' : 'FILE'} need --platform NAME: ` +
        "the platform whose devices the guest's host addresses name",
    );
  let guest: ImportedGuest;
  let source: string;
  if (fromWords) {
    if (after!.length === 0) throw new UsageError('import qemu -- needs the command line after --');
    guest = importQemu(
      after!.map((text, i) => ({ text, line: i + 1 })),
      'the command line',
    );
    source = 'the command line';
  } else {
    const text = readNamedFile(file!, io, MAX_TABLE_FILE, kind === 'libvirt' ? 'a domain XML' : 'a QEMU command line').toString('utf8');
    guest = kind === 'libvirt' ? importLibvirt(text, file!) : importQemuText(text, file!);
    source = `${escapeText(file!)} (${kind === 'libvirt' ? 'libvirt domain XML' : 'QEMU command line'})`;
  }
  const lookup = platform && platformFiles.length ? platformLookup(platform, platformFiles, io) : {};
  const name =
    nameOption(values.name, '--name') ?? safeName(guest.name ?? (file ? basename(file).replace(/\.[^.]*$/, '') : 'guest'), 'guest');
  io.out(formatted(renderGuest(guest, { name, platform: platform ?? 'host', source, ...lookup })));
  return 0;
}

/** `import WHAT ...` for the importers of IMPORTERS. */
export function runImport(args: readonly string[], io: Io): number {
  return guarded(io, () => {
    const [what, ...rest] = args;
    if (what === 'acpi') return importAcpi(rest, io);
    if (what === 'host') return importHost(rest, io);
    if (what === 'libvirt' || what === 'qemu') return importGuest(what, rest, io);
    throw new UsageError(`import ${escapeText(what ?? '')} is not available yet`);
  });
}

/** `export qemu|libvirt --guest G PATH...`: exit 1 when the guest's layout is not one QEMU can produce. */
export function runExport(args: readonly string[], io: Io): number {
  return guarded(io, () => {
    const [format, ...rest] = args;
    if (format !== 'qemu' && format !== 'libvirt')
      throw new UsageError(`export needs 'qemu' or 'libvirt', not '${escapeText(format ?? '')}'`);
    const { values, positionals } = options(rest, { guest: { type: 'string' } }, `export ${format}`);
    if (typeof values.guest !== 'string') throw new UsageError(`export ${format} needs --guest G`);
    if (positionals.length === 0) throw new UsageError(`export ${format} needs at least one PATH`);
    const { analysis } = load(positionals, io);
    const g = analysis.model.guests.get(values.guest);
    if (!g)
      throw new InputError(
        `no guest '${escapeText(values.guest)}' (guests: ${[...analysis.model.guests.keys()].sort().join(', ') || 'none'})`,
      );
    let input: ExportInput;
    try {
      input = exportInput(g);
    } catch (e) {
      if (!(e instanceof LayoutError)) throw e;
      io.err(`iommu-lens: guest ${g.sym.name}: ${e.message}\n`);
      return 1;
    }
    io.out(format === 'qemu' ? exportQemu(input) : exportLibvirt(input));
    return 0;
  });
}

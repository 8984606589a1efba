/**
 * `iommu-lens`: the command-line front of the same engine the language server runs.
 * Exit status: 0 no errors, 1 errors found, 2 usage error, unreadable input or a file not written.
 */
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from '@iommu-lens/grammar';
import {
  addressMap,
  AnalysisHost,
  DEFAULT_OPTIONS,
  formatDocument,
  parseSeverityOverrides,
  renderSvg,
  type AnalysisOptions,
  type FormatEdit,
  type Stages,
} from '../ide';
import { evaluateNumber, formatInterval, formatIovaRange, formatSize, hex, intervalSize, type Interval } from '../model';
import { DEFAULT_DOORBELL_SIZE, placeDoorbell, poolSafeLayout, ramLines, type IommuGroup, type MachineType } from '../sim';
import { readSnapshot, writeAtomic, WriteError, type Snapshot, type WriteFs } from './atomicWrite';
import { readCaptureFile, readCaptureTree } from './capture';
import { escapeText } from './escape';
import { collectInputs, decodeUtf8, encodingFindings, InputError, type InputFile } from './files';
import { formatMapText } from './mapText';
import { formatJson, formatText, toOutput } from './report';
import { platformName, renderPlatform, SysfsError, type CapturedGroup } from './sysfsImport';
import { IMPORTERS, runExport, runImport } from './importCommands';

const VERSION = '0.1.0';

const USAGE = `usage: iommu-lens <command> [options]

commands:
  check PATH...     check .iommu files (directories are searched, except node_modules
                    and hidden ones; links, FIFOs and devices are skipped with a note)
      --format text|json   output format (default text)
      --max-file-size N    skip files over N characters (default ${DEFAULT_OPTIONS.maxFileSize})
      --severity CODE=LEVEL
                           report CODE as error, warning, information or hint, or
                           not at all (off); repeatable; the editor's setting
                           iommuLens.diagnostics.severity
  iova PATH... --guest G
  iova PATH... --platform P (--group N | --device D)
                    print the usable IOVA list as VFIO_IOMMU_GET_INFO reports it:
                    one inclusive 0xSTART-0xEND per line
  layout PATH... --pool P --memory SIZE [--machine q35|i440fx|virt] [--name NAME]
                    print guest RAM lines (.iommu) safe on every host of pool P: SIZE in
                    total (e.g. 16G), around the union of the hosts' reserved regions,
                    below the narrowest IOMMU aperture, where the machine type puts RAM
                    (default: virt for arm64 hosts, else q35); a virt guest also gets
                    an msi-window placed first (seed 002: 0xfee00000 if free)
  map PATH... (--guest G | --platform P) [--svg FILE]
                    the address map: every address space of a guest (guest physical,
                    its container's IOVA space, its host's physical space) or of a
                    platform (host physical, each IOMMU group's IOVA space), with
                    reserved regions, RAM and conflicts; as text, one line per range
                    (0xSTART-0xEND  kind  label), or with --svg as a picture written
                    to FILE ('-': standard output)
  format PATH... [--check | --write]
                    the formatter the editor uses (canonical spacing, aligned columns,
                    comments kept, meaning unchanged): prints the formatted text of
                    one file, or
                    with --check lists the files that are not formatted (exit 1 if
                    any), or with --write rewrites them (each through a temporary
                    file renamed over it); a file with syntax errors is left alone and
                    reported (exit 1); a file that changed since it was read or cannot
                    be written is left whole and named, and the others go on (exit 2)
  import sysfs DIR [--platform NAME]
                    print a platform description of a captured /sys/kernel/iommu_groups
                    tree (DIR/N/reserved_regions, DIR/N/devices/BDF); reads only
                    regular files of at most 1 MiB inside DIR (links only within it)
  import reserved-regions FILE [--group N] [--platform NAME]
                    the same for one group's reserved_regions file
  import acpi PATH... [--platform NAME] [--pci DIR|FILE]
                    a platform description from the host's ACPI tables: a DMAR, IVRS
                    or IORT file, a directory of them (/sys/firmware/acpi/tables), or
                    the text of acpidump; --pci gives the devices and their classes (a
                    copy of /sys/bus/pci/devices, or the output of lspci -n)
  import host [--root DIR] [--platform NAME]
                    the running host (or a copy of its /sys and /proc under DIR): IOMMU
                    groups and their regions, devices and classes, IOMMU units, ACPI
                    tables, the kernel command line; what cannot be read is noted
  import libvirt FILE [--name G] [--platform NAME PATH...]
  import qemu FILE [--name G] [--platform NAME PATH...]
  import qemu [--name G] [--platform NAME PATH...] -- ARGS...
                    a guest from virsh dumpxml, or from a QEMU command line (a file, or
                    the words after --); host devices are looked up by BDF on platform
                    NAME of the .iommu files PATH...
  export qemu|libvirt --guest G PATH...
                    the QEMU options or the libvirt XML for guest G's memory layout and
                    devices; exit 1 when its layout is not one QEMU can produce

options:
  -h, --help        show this help
  -V, --version     show the version

exit status: 0 no errors, 1 errors found, 2 usage error, unreadable path (or directory)
or a file not written`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
  /** The analysis stages, when not the real ones: tests break one to see a failure reported. */
  stages?: Stages;
  /** The file operations of the commands that write files, when not the real ones: tests make one fail midway. */
  fs?: WriteFs;
}

class UsageError extends Error {}

export function run(argv: readonly string[], io: Io): number {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      io.out(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '-V' || command === '--version') {
      io.out(`iommu-lens ${VERSION}\n`);
      return 0;
    }
    if (command === 'check') return check(rest, io);
    if (command === 'iova') return iova(rest, io);
    if (command === 'import' && IMPORTERS.includes(rest[0] ?? '')) return runImport(rest, io);
    if (command === 'import') return importCommand(rest, io);
    if (command === 'export') return runExport(rest, io);
    if (command === 'layout') return layout(rest, io);
    if (command === 'map') return map(rest, io);
    if (command === 'format') return format(rest, io);
    throw new UsageError(`unknown command '${command}'`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof InputError || e instanceof SysfsError) {
      io.err(`iommu-lens: ${e.message}\n${e instanceof UsageError ? "run 'iommu-lens --help' for usage\n" : ''}`);
      return 2;
    }
    throw e;
  }
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string; multiple?: boolean }>;
type OptionValue = string | boolean | string[] | undefined;

function options(args: readonly string[], spec: OptionSpec): { values: Record<string, OptionValue>; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...args], options: spec, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, OptionValue>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

function check(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, {
    format: { type: 'string', default: 'text' },
    'max-file-size': { type: 'string' },
    severity: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const format = values.format as string;
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not '${format}'`);
  let maxFileSize = DEFAULT_OPTIONS.maxFileSize;
  if (values['max-file-size'] !== undefined) {
    const n = Number(values['max-file-size'] as string);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--max-file-size must be a positive whole number`);
    maxFileSize = n;
  }
  const pairs = ((values.severity ?? []) as string[]).map((s) => {
    const eq = s.indexOf('=');
    if (eq < 0) throw new UsageError(`--severity takes CODE=LEVEL, not '${s}'`);
    return [s.slice(0, eq), s.slice(eq + 1)] as const;
  });
  const { overrides: severity, problems } = parseSeverityOverrides(pairs);
  if (problems.length) throw new UsageError(`--severity: ${problems.join('; ')}`);
  if (positionals.length === 0) throw new UsageError('check needs at least one PATH');
  const { analysis, inputs } = load(positionals, io, { maxFileSize, severity });
  const displayOf = new Map(inputs.map((f) => [f.uri, f.display]));
  const out = inputs.flatMap((f) =>
    (analysis.findings.get(f.uri) ?? []).map((x) =>
      toOutput(
        x,
        (uri) => displayOf.get(uri) ?? uri,
        (uri, span) => analysis.lineIndex(uri).range(span),
      ),
    ),
  );
  io.out(format === 'json' ? formatJson(out) : formatText(out, inputs.length));
  // An internal error's stack, once per failure, for the bug report (stdout stays the findings).
  const causes = new Set(inputs.flatMap((f) => (analysis.findings.get(f.uri) ?? []).flatMap((x) => x.cause ?? [])));
  for (const c of causes) io.err(`iommu-lens: internal error (please report it with the file): ${c}\n`);
  return out.some((f) => f.severity === 'error') ? 1 : 0;
}

function format(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, { check: { type: 'boolean' }, write: { type: 'boolean' } });
  if (values.check && values.write) throw new UsageError('format takes --check or --write, not both');
  if (positionals.length === 0) throw new UsageError('format needs at least one PATH');
  const inputs = collectInputs(positionals, io.cwd, (note) => io.err(`iommu-lens: ${note}\n`));
  if (!values.check && !values.write && inputs.length > 1)
    throw new UsageError('format prints one file; use --check or --write for several');
  let status = 0;
  let failures = 0;
  for (const input of inputs) {
    // --write reads each file again just before formatting it, and keeps what it was, to replace it only if unchanged.
    const read: { file: InputFile; snapshot?: Snapshot } | { problem: string } = values.write ? reread(input, io) : { file: input };
    if ('problem' in read) {
      io.err(`iommu-lens: cannot read '${escapeText(input.display)}': ${read.problem}; not formatted\n`);
      failures++;
      continue;
    }
    const { file: f, snapshot } = read;
    // Writing the text back would replace the bad bytes with U+FFFD for good.
    if (f.invalidUtf8.length) {
      io.err(`iommu-lens: ${escapeText(f.display)}: not formatted: it has bytes that are not UTF-8 (see 'iommu-lens check')\n`);
      status = 1;
      continue;
    }
    const parsed = parse(f.text);
    if (parsed.diagnostics.length) {
      io.err(`iommu-lens: ${escapeText(f.display)}: not formatted: it has syntax errors (see 'iommu-lens check')\n`);
      status = 1;
      continue;
    }
    const formatted = applyFormat(f.text, formatDocument(f.text, {}, parsed));
    if (values.check) {
      if (formatted !== f.text) {
        io.out(`${f.display}\n`);
        status = 1;
      }
    } else if (values.write) {
      if (formatted === f.text) continue;
      const problem = replace(f, formatted, snapshot!, io);
      if (problem) {
        io.err(`iommu-lens: ${problem}\n`);
        failures++;
      } else io.out(`${f.display}\n`);
    } else {
      io.out(formatted);
    }
  }
  if (failures === 0) return status;
  // Every failure was named as it happened; the count closes the run, whose status says "I/O problem".
  io.err(`iommu-lens: ${failures} of ${inputs.length} file${inputs.length === 1 ? '' : 's'} could not be formatted (named above)\n`);
  return 2;
}

/** The file as it is now, decoded, and what it was when read. */
function reread(input: InputFile, io: Io): { file: InputFile; snapshot: Snapshot } | { problem: string } {
  try {
    const { bytes, snapshot } = readSnapshot(input.path, io.fs);
    const { text, invalid } = decodeUtf8(bytes);
    return { file: { ...input, text, invalidUtf8: invalid }, snapshot };
  } catch (e) {
    if (e instanceof WriteError) return { problem: e.message };
    throw e;
  }
}

/** Replaces a file with its formatted text if it is still what was read: undefined, or why not. */
function replace(f: InputFile, text: string, snapshot: Snapshot, io: Io): string | undefined {
  const shown = escapeText(f.display);
  try {
    const outcome = writeAtomic(f.path, text, { expect: snapshot, fs: io.fs });
    return outcome === 'written' ? undefined : `${shown}: not written: it changed since it was read; format it again`;
  } catch (e) {
    if (e instanceof WriteError) return `cannot write '${shown}': ${e.message}; the file is unchanged`;
    throw e;
  }
}

/** Writes a whole new file (map --svg): through a temporary file, so a failure leaves any old one whole. */
function write(path: string, display: string, text: string, io: Io): void {
  try {
    writeAtomic(path, text, { fs: io.fs });
  } catch (e) {
    if (e instanceof WriteError) throw new InputError(`cannot write '${escapeText(display)}': ${e.message}`);
    throw e;
  }
}

export function applyFormat(text: string, edits: readonly FormatEdit[]): string {
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += text.slice(at, e.span.start) + e.newText;
    at = e.span.end;
  }
  return out + text.slice(at);
}

/**
 * Loads the descriptions behind PATH... into one analysis. Bytes that are not UTF-8 exist
 * only on disk (editors decode before the server sees text), so the CLI adds their findings.
 */
export function load(paths: readonly string[], io: Io, opts: AnalysisOptions = DEFAULT_OPTIONS) {
  if (paths.length === 0) throw new UsageError('needs at least one PATH');
  const inputs = collectInputs(paths, io.cwd, (note) => io.err(`iommu-lens: ${note}\n`));
  const host = new AnalysisHost(opts, io.stages);
  for (const f of inputs) host.setFile(f.uri, f.text, encodingFindings(f));
  return { analysis: host.analyze(), inputs };
}

/** The names of a map, for "no guest 'x' (guests: ...)". */
const known = (m: Map<string, unknown>) => [...m.keys()].sort().join(', ') || 'none';

function layout(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, {
    pool: { type: 'string' },
    memory: { type: 'string' },
    machine: { type: 'string' },
    name: { type: 'string' },
  });
  const { pool, memory, machine, name } = values as Record<string, string | undefined>;
  if (!pool || !memory) throw new UsageError('layout needs --pool P and --memory SIZE');
  if (machine !== undefined && !['q35', 'i440fx', 'virt'].includes(machine))
    throw new UsageError(`--machine must be q35, i440fx or virt, not '${machine}'`);
  const size = evaluateNumber({ text: memory, span: { start: 0, end: memory.length } });
  if (!size.ok) throw new UsageError(`--memory: ${size.problem.message}`);
  if (size.value === 0n) throw new UsageError('--memory must not be 0');
  const { analysis: a } = load(positionals, io);
  const p = a.model.pools.get(pool);
  if (!p) throw new InputError(`no pool '${pool}' (pools: ${known(a.model.pools)})`);
  const l = a.sim.pools.get(p)!;
  const type = (machine ?? (p.hosts.some((h) => h.arch === 'arm64') ? 'virt' : 'q35')) as MachineType;
  // An Arm guest maps its MSI doorbell in IOVA space: place it first (seed 002), then keep RAM off it.
  const doorbell = type === 'virt' ? placeDoorbell(DEFAULT_DOORBELL_SIZE, l.avoid) : undefined;
  const pieces = poolSafeLayout(l, size.value, type, doorbell ? [doorbell] : []);
  if (!pieces) {
    io.err(`iommu-lens: ${formatSize(size.value)} of RAM does not fit below ${hex(l.limit)} around the reserved regions of pool ${pool}\n`);
    return 1;
  }
  const header = [
    `// ${formatSize(size.value)} of guest RAM for a ${type} guest, safe on every host of pool ${pool} (${p.hosts.map((h) => h.sym.name).join(', ')}):`,
    `// avoids ${l.avoid.length} reserved range${l.avoid.length === 1 ? '' : 's'} (${l.avoid.slice(0, 4).map(formatInterval).join(', ')}${l.avoid.length > 4 ? ', ...' : ''}),`,
    `// stays below ${hex(l.limit)}, aligned to ${formatSize(l.align)}`,
  ];
  const window = doorbell ? [`msi-window ${hex(doorbell.start)} size ${formatSize(intervalSize(doorbell))}`] : [];
  io.out(`${[...header, ...ramLines(pieces, name ? [name] : []), ...window].join('\n')}\n`);
  return 0;
}

function iova(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, {
    guest: { type: 'string' },
    platform: { type: 'string' },
    group: { type: 'string' },
    device: { type: 'string' },
  });
  const { guest, platform, group, device } = values as Record<string, string | undefined>;
  if (!guest === !platform) throw new UsageError('iova needs --guest G, or --platform P with --group N or --device D');
  if (platform && !group === !device) throw new UsageError('--platform needs one of --group N and --device D');
  const { analysis: a } = load(positionals, io);
  let list: Interval[];
  if (guest) {
    const g = a.model.guests.get(guest);
    if (!g) throw new InputError(`no guest '${guest}' (guests: ${known(a.model.guests)})`);
    const state = a.sim.guests.get(g);
    if (!state || state.container.groups.length === 0) {
      throw new InputError(`guest '${guest}' has no VFIO container: none of its assigned devices' groups attached`);
    }
    list = state.container.usable();
  } else {
    const p = a.model.platforms.get(platform!);
    if (!p) throw new InputError(`no platform '${platform}' (platforms: ${known(a.model.platforms)})`);
    const pr = a.sim.regionsOf(p);
    let g: IommuGroup | undefined;
    if (device) {
      const d = p.devices.get(device);
      if (!d) throw new InputError(`platform '${platform}' has no device '${device}'`);
      g = pr.groupOf(d);
    } else {
      if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(group!)) throw new UsageError(`--group must be a number, not '${group}'`);
      g = pr.groups.find((x) => x.number === BigInt(group!));
      if (!g) throw new InputError(`platform '${platform}' has no device in group ${group}`);
    }
    const gr = pr.regions(g!);
    list = gr.usable();
  }
  io.out(list.map((r) => `${formatIovaRange(r)}\n`).join(''));
  return 0;
}

function map(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, { guest: { type: 'string' }, platform: { type: 'string' }, svg: { type: 'string' } });
  const { guest, platform, svg } = values as Record<string, string | undefined>;
  if (!guest === !platform) throw new UsageError('map needs one of --guest G and --platform P');
  if (svg === '') throw new UsageError("--svg needs a file name (or '-')");
  const { analysis: a } = load(positionals, io);
  const m = addressMap(a, guest ? { guest } : { platform: platform! });
  if (!m) {
    const [what, name, names] = guest ? (['guest', guest, a.model.guests] as const) : (['platform', platform!, a.model.platforms] as const);
    throw new InputError(`no ${what} '${name}' (${what}s: ${known(names)})`);
  }
  if (svg === undefined) io.out(formatMapText(m));
  else if (svg === '-') io.out(renderSvg(m));
  else write(resolve(io.cwd, svg), svg, renderSvg(m), io);
  return 0;
}

function importCommand(args: readonly string[], io: Io): number {
  const [what, ...rest] = args;
  const { values, positionals } = options(rest, { platform: { type: 'string' }, group: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError(`import ${what ?? ''} needs exactly one path`);
  const shown = positionals[0]!;
  const path = resolve(io.cwd, shown);
  const name = values.platform as string | undefined;
  if (name !== undefined && !/^[A-Za-z][A-Za-z0-9_-]*$/.test(name))
    throw new UsageError(`--platform must be a name (letters, digits, '_' and '-', starting with a letter), not '${escapeText(name)}'`);
  if (what === 'reserved-regions') {
    if (values.group !== undefined && !/^[0-9]+$/.test(values.group as string))
      throw new UsageError(`--group must be a number, not '${escapeText(values.group as string)}'`);
    // A file inside a captured tree (.../iommu_groups/N/reserved_regions) names its group.
    const fromPath = /^[0-9]+$/.test(basename(dirname(path))) ? basename(dirname(path)) : undefined;
    const number = BigInt((values.group as string | undefined) ?? fromPath ?? '0');
    const group: CapturedGroup = { number, regions: readCaptureFile(path, shown), devices: [] };
    io.out(renderPlatform(name ?? platformName(basename(path).replace(/\.[^.]*$/, '')), [group], shown));
    return 0;
  }
  if (what === 'sysfs') {
    if (values.group !== undefined) throw new UsageError('--group is for import reserved-regions');
    const groups = readCaptureTree(path, shown);
    if (groups.length === 0)
      throw new InputError(`'${escapeText(shown)}' has no numbered group directories (expected DIR/N/reserved_regions)`);
    io.out(renderPlatform(name ?? 'imported', groups, shown));
    return 0;
  }
  throw new UsageError(`import needs 'sysfs DIR' or 'reserved-regions FILE', not '${escapeText(what ?? '')}'`);
}

/**
 * `iommu-lens`: the command-line front of the same engine the language server runs.
 * Exit status: 0 no errors, 1 errors found, 2 usage error, unreadable input or a file not written.
 */
import { machineLine, noLayoutText, poolMachineLayout, POOLS_ENGINE, type MachineKnobs, type MachineType } from '../domains';
import { basename, dirname, resolve } from 'node:path';
import { parse } from '@iommu-lens/grammar';
import { addressMap, formatDocument, renderSvg } from '../ide';
import { evaluateNumber, formatInterval, formatIovaRange, formatSize, hex, type Interval } from '../model';
import { groupLabel, type IommuGroup } from '../sim';
import { exportLibvirt, exportQemu } from '../import/export';
import { writeAtomic, WriteError, type Snapshot } from './atomicWrite';
import { readCaptureFile, readCaptureTree } from './capture';
import { escapeText } from './escape';
import { collectInputs, InputError, type InputFile } from './files';
import { formatMapText } from './mapText';
import { platformName, renderPlatform, SysfsError, type CapturedGroup } from './sysfsImport';
import { applyEdits, load, replace, reread, type Io } from './context';
import { IMPORTERS, runExport, runImport } from './importCommands';
import { check } from './check';
import { mergeReports } from './merge';
import { asksForHelp, commandUsage, isCommand, options, UsageError, USAGE, VERSION } from './usage';
import { resultOf } from '../sim';

export function run(argv: readonly string[], io: Io): number | Promise<number> {
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
    if (isCommand(command) && asksForHelp(rest)) {
      io.out(`${commandUsage(command)}\n`);
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
    if (command === 'merge-reports') return mergeReports(rest, io);
    throw new UsageError(`unknown command '${command}'`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof InputError || e instanceof SysfsError) {
      io.err(`iommu-lens: ${e.message}\n${e instanceof UsageError ? "run 'iommu-lens --help' for usage\n" : ''}`);
      return 2;
    }
    throw e;
  }
}

function format(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, { check: { type: 'boolean' }, write: { type: 'boolean' } }, 'format');
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
    const formatted = applyEdits(f.text, formatDocument(f.text, {}, parsed));
    if (values.check) {
      if (formatted !== f.text) {
        io.out(`${f.display}\n`);
        status = 1;
      }
    } else if (values.write) {
      if (formatted === f.text) continue;
      const problem = replace(f, formatted, snapshot!, io, 'format it again');
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

/** Writes a whole new file (map --svg): through a temporary file, so a failure leaves any old one whole. */
function write(path: string, display: string, text: string, io: Io): void {
  try {
    writeAtomic(path, text, { fs: io.fs });
  } catch (e) {
    if (e instanceof WriteError) throw new InputError(`cannot write '${escapeText(display)}': ${e.message}`);
    throw e;
  }
}

/** The names of a map, for "no guest 'x' (guests: ...)". */
const known = (m: Map<string, unknown>) => [...m.keys()].sort().join(', ') || 'none';

/**
 * `layout`: the `machine` line QEMU lays out safely on every host of a pool (RULES §3.9, §4),
 * then, as comments, the QEMU options and the libvirt XML that give it: the output pastes
 * into a guest as it is.
 */
function layout(args: readonly string[], io: Io): number {
  const { values, positionals } = options(
    args,
    {
      pool: { type: 'string' },
      memory: { type: 'string' },
      machine: { type: 'string' },
      cpu: { type: 'string' },
    },
    'layout',
  );
  const { pool, memory, machine, cpu } = values as Record<string, string | undefined>;
  if (!pool || !memory) throw new UsageError('layout needs --pool P and --memory SIZE');
  if (machine !== undefined && !['q35', 'i440fx', 'virt'].includes(machine))
    throw new UsageError(`--machine must be q35, i440fx or virt, not '${machine}'`);
  if (cpu !== undefined && !['amd', 'intel'].includes(cpu)) throw new UsageError(`--cpu must be amd or intel, not '${cpu}'`);
  const size = evaluateNumber({ text: memory, span: { start: 0, end: memory.length } });
  if (!size.ok) throw new UsageError(`--memory: ${size.problem.message}`);
  if (size.value === 0n) throw new UsageError('--memory must not be 0');
  const { analysis: a } = load(positionals, io);
  const p = a.model.pools.get(pool);
  if (!p) throw new InputError(`no pool '${pool}' (pools: ${known(a.model.pools)})`);
  const l = resultOf(a.sim, POOLS_ENGINE).get(p)!;
  const type = (machine ?? (p.hosts.some((h) => h.arch === 'arm64') ? 'virt' : 'q35')) as MachineType;
  // Under KVM the vCPU is the host's vendor: AMD hosts (AMD-Vi IOMMUs) make an AMD guest, which QEMU relocates.
  const amdHosts = p.hosts.length > 0 && p.hosts.every((h) => [...h.iommus.values()].some((i) => i.kind === 'amd-vi'));
  const vendor = (cpu ?? (type !== 'virt' && amdHosts ? 'amd' : undefined)) as MachineKnobs['cpu'];
  // The options printed below run the host's CPU under KVM (-accel kvm -cpu host), which takes the host's
  // phys-bits: the machine line says so, or pasted into a guest it would get qemu64's 40 (RULES §3.7).
  const want: MachineKnobs =
    type === 'virt' ? { type, memory: size.value } : { type, memory: size.value, cpu: vendor, cpuModel: 'host', accel: 'kvm' };
  const found = poolMachineLayout(l, want);
  if (!found.ok) {
    io.err(`iommu-lens: ${noLayoutText(p, a.sim.regionsOf, want, found)}\n`);
    return 1;
  }
  const k = found.laid.knobs;
  const x = {
    layout: {
      type: k.type,
      version: k.version,
      memory: k.memory,
      maxRamBelow4g: k.maxRamBelow4g,
      dimms: [],
      physBits: k.physBits,
      cpu: k.cpu,
      cpuModel: k.cpuModel,
      accel: k.accel,
    },
    devices: [],
    iommufd: false,
    notes: [],
  };
  const comment = (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .map((line) => `//   ${line}`);
  const ram = found.laid.layout.ram.map((r) => `${r.name} ${formatInterval(r.range)}`).join(', ');
  const out = [
    `// ${formatSize(k.memory)} of guest RAM for a ${k.type} guest, safe on every host ` +
      `of pool ${pool} (${p.hosts.map((h) => h.sym.name).join(', ')}):`,
    `// QEMU lays it out as ${ram}${found.laid.layout.relocated ? ' (above-4G RAM relocated to 1 TiB)' : ''},`,
    `// clear of ${l.avoid.length} reserved range${l.avoid.length === 1 ? '' : 's'} ` +
      `(${l.avoid.slice(0, 4).map(formatInterval).join(', ')}${l.avoid.length > 4 ? ', ...' : ''}) and below ${hex(l.limit)}`,
    machineLine(k, formatSize),
    '// QEMU options:',
    ...comment(exportQemu(x)),
    '// libvirt domain XML:',
    ...comment(exportLibvirt(x)),
  ];
  io.out(`${out.join('\n')}\n`);
  return 0;
}

function iova(args: readonly string[], io: Io): number {
  const { values, positionals } = options(
    args,
    {
      guest: { type: 'string' },
      platform: { type: 'string' },
      group: { type: 'string' },
      device: { type: 'string' },
    },
    'iova',
  );
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
    // A direct region makes VFIO and iommufd refuse the group (RULES §1.6, §2.8): no container
    // ever holds it, so it has no usable list to print.
    for (const d of g!.devices) {
      const direct = gr.directFor(d, 1);
      if (!direct.total) continue;
      const r = direct.regions[0]!;
      throw new InputError(
        `${groupLabel(g!)} of platform '${platform}' can never be in a VFIO container: device ${d.sym.name} has a direct region ` +
          `${formatInterval(r.range)} (it needs a 1:1 mapping), so VFIO and iommufd refuse the group with -EINVAL ` +
          '(Linux drivers/iommu/iommu.c, __iommu_device_set_domain); there is no usable IOVA list',
      );
    }
    list = gr.usable();
  }
  io.out(list.map((r) => `${formatIovaRange(r)}\n`).join(''));
  return 0;
}

function map(args: readonly string[], io: Io): number {
  const { values, positionals } = options(
    args,
    { guest: { type: 'string' }, platform: { type: 'string' }, svg: { type: 'string' } },
    'map',
  );
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
  const { values, positionals } = options(rest, { platform: { type: 'string' }, group: { type: 'string' } }, `import ${what ?? ''}`);
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

/**
 * Coherent workspaces: platforms with IOMMUs, regions and devices; guests on them that
 * assign those devices; timelines that start, migrate, hot-plug and drive TDISP on them;
 * pools, firmware, Xen hosts, VINTFs and command batches that name what exists. Random
 * in every value (ordinary, near a limit, or past it), so the simulator's engines run on
 * combinations the examples never show, where the grammar walk (generate.ts) mostly
 * stops at unknown names. One file per kind of declaration, as the examples lay them out.
 */
import fc from 'fast-check';
import { SMMU_OPCODES } from '../../server/src/domains/cmdqv/model/smmuCommands';
import { COMMAND_BITS, DEVCTL_BITS } from '../../server/src/domains/tdisp/model/pciRegisters';
import { DEVICE_QUIRKS } from '../../server/src/model/quirks';
import { prng } from '../prng.mjs';
import type { Input } from './mutate';

type R = () => number;
const one = <T>(r: R, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
const chance = (r: R, p: number) => r() < p;
const int = (r: R, n: number) => Math.floor(r() * n);
const some = <T>(r: R, list: readonly T[], max: number): T[] => list.filter(() => chance(r, max / Math.max(1, list.length)));

const ADDRESSES = [
  '0x0',
  '0x1000',
  '0x8000000',
  '0x80f0000',
  '0x40000000',
  '0x80000000',
  '0xc0000000',
  '0xe0000000',
  '0xfec00000',
  '0xfee00000',
  '0xfeef0000',
  '0xff000000',
  '0x100000000',
  '0x1_0000_0000',
  '0x8_0000_0000',
  '0xfd_0000_0000',
  '0x100_0000_0000',
  '0xffff_ffff_f000',
  '0xffff_ffff_ffff_f000',
];
const SIZES = ['4K', '64K', '1M', '2M', '16M', '512M', '1G', '2G', '3G', '4G', '8G', '64G', '766G', '1T', '0x1000', '0x10000000'];
const WIDTHS = ['32', '39', '40', '44', '46', '47', '48', '52', '57', '64', '0', '65', '12'];

/** A range in one of the language's forms, mostly sensible. */
function range(r: R): string {
  const start = one(r, ADDRESSES);
  if (chance(r, 0.2)) return `${start}..${one(r, ADDRESSES)}`;
  return `${start} size ${one(r, SIZES)}`;
}

interface Plat {
  name: string;
  arch: string;
  iommus: { name: string; kind: string; cmdqv: boolean }[];
  devices: string[];
}

function platform(r: R, name: string, lines: string[], big: boolean): Plat {
  const arch = chance(r, 0.5) ? 'x86_64' : 'arm64';
  const kinds = arch === 'x86_64' ? ['vt-d', 'amd-vi', 'virtio-iommu'] : ['smmuv3', 'virtio-iommu'];
  const iommus = Array.from({ length: 1 + int(r, 2) }, (_, i) => {
    const kind = chance(r, 0.9) ? one(r, kinds) : one(r, ['vt-d', 'amd-vi', 'smmuv3', 'virtio-iommu']);
    return { name: `${kind === 'smmuv3' ? 'smmu' : 'iommu'}${i}`, kind, cmdqv: kind === 'smmuv3' && chance(r, 0.6) };
  });
  lines.push(`platform ${name} {`, `  arch ${arch}`);
  for (const i of iommus) {
    const body = [`address-width ${one(r, WIDTHS)}`];
    if (chance(r, 0.4)) body.push(`msi ${one(r, ['remapped', 'bypass'])}`);
    if (chance(r, 0.3)) body.push(`page-sizes ${some(r, ['4K', '64K', '2M', '512M', '1G', '16K'], 2).join(' ') || '4K'}`);
    if (i.cmdqv) body.push(`cmdqv vintfs ${one(r, ['1', '2', '16', '64', '0'])} sids-per-vintf ${one(r, ['1', '2', '4', '16'])}`);
    lines.push(`  iommu ${i.name} ${i.kind} { ${body.join('; ')} }`);
  }
  for (let k = int(r, 3); k > 0; k--) lines.push(`  ram dram${k} ${range(r)}`);
  if (arch === 'x86_64' && chance(r, 0.6)) lines.push('  reserved ioapic msi 0xfee00000..0xfeefffff');
  if (arch === 'arm64' && chance(r, 0.6)) lines.push('  reserved swmsi sw-msi 0x8000000 size 1M');
  const devices = Array.from({ length: 1 + int(r, big ? 30 : 5) }, (_, k) => `dev${k}`);
  const groups = devices.map(() => String(10 + int(r, 4)));
  for (let k = int(r, 4); k > 0; k--) {
    const targets = chance(r, 0.5) ? ` for ${chance(r, 0.5) ? `group ${one(r, groups)}` : one(r, devices)}` : '';
    lines.push(`  reserved res${k} ${one(r, ['direct', 'direct-relaxable', 'reserved', 'msi', 'sw-msi'])} ${range(r)}${targets}`);
  }
  if (chance(r, 0.3)) lines.push(`  ioapic ${one(r, ADDRESSES)}`);
  if (chance(r, 0.3)) lines.push(`  mmcfg ${range(r)}`);
  devices.forEach((d, k) => {
    const body = [`bdf 0000:${(0x40 + int(r, 4)).toString(16)}:${int(r, 3).toString(16).padStart(2, '0')}.${int(r, 8)}`];
    if (chance(r, 0.9)) {
      const i = one(r, iommus);
      body.push(
        `iommu ${i.name}${i.kind === 'smmuv3' || chance(r, 0.1) ? ` stream ${one(r, ['0x8', '0x10', '0x100', '0x102', String(k)])}` : ''}`,
      );
    }
    if (chance(r, 0.9)) body.push(`group ${groups[k]}`);
    if (chance(r, 0.4)) body.push('tdisp');
    if (k > 0 && chance(r, 0.3)) body.push(`vf-of ${devices[int(r, k)]}`);
    if (chance(r, 0.2)) body.push(`quirk ${one(r, Object.keys(DEVICE_QUIRKS))}`);
    if (chance(r, 0.2)) body.push(`class ${one(r, ['nic', 'nvme', 'gpu', 'storage', 'other'])}`);
    lines.push(`  device ${d} { ${body.join('; ')} }`);
  });
  lines.push('}', '');
  return { name, arch, iommus, devices };
}

interface Gst {
  name: string;
  on: Plat;
  assigned: string[];
}

function guest(r: R, name: string, on: Plat, vintfs: string[], lines: string[]): Gst {
  const virt = on.arch === 'arm64';
  lines.push(`guest ${name} on ${on.name} {`);
  if (chance(r, 0.7)) {
    const opts = [`memory ${one(r, SIZES)}`];
    if (chance(r, 0.3)) opts.push(`cpu ${one(r, ['amd', 'intel'])}`);
    if (chance(r, 0.3)) opts.push(`phys-bits ${one(r, ['36', '40', '46', '48', '52', '64', '0'])}`);
    if (chance(r, 0.2)) opts.push(`max-ram-below-4g ${one(r, ['2G', '3G', '0xb0000000', '4G', '5G'])}`);
    if (chance(r, 0.2)) opts.push(`pci-hole64-size ${one(r, SIZES)}`);
    if (chance(r, 0.2)) opts.push(`version ${one(r, ['2', '6', '7', '8', '9'])}.${one(r, ['0', '1', '2'])}`);
    lines.push(`  machine ${virt && chance(r, 0.9) ? 'virt' : one(r, ['q35', 'i440fx', 'virt'])} ${opts.join(' ')}`);
  }
  for (let k = chance(r, 0.3) ? 1 + int(r, 2) : 0; k > 0; k--) lines.push(`  ram gram${k} ${range(r)}`);
  if (chance(r, 0.3)) lines.push(`  msi-window ${range(r)}`);
  if (chance(r, 0.3)) lines.push(`  confidential ${one(r, ['sev-snp', 'tdx'])}${chance(r, 0.6) ? ` { vtom ${one(r, ADDRESSES)} }` : ''}`);
  if (chance(r, 0.6)) lines.push(`  container ${one(r, ['type1', 'iommufd'])}`);
  if (vintfs.length && chance(r, 0.6)) lines.push(`  viommu vsmmu0 smmuv3 via ${one(r, vintfs)}${chance(r, 0.3) ? ' stage2' : ''}`);
  const assigned = some(r, on.devices, 2);
  for (const d of assigned) {
    const mode = chance(r, 0.4) ? ` as ${one(r, ['shared', 'private', 'bind-capable'])}` : '';
    lines.push(`  assign ${d}${mode}${chance(r, 0.2) ? ` dma-window ${range(r)}` : ''}`);
  }
  lines.push('}', '');
  return { name, on, assigned };
}

function timeline(r: R, name: string, plats: Plat[], guests: Gst[], xenDomains: string[], lines: string[], big: boolean): void {
  lines.push(`timeline ${name} {`);
  for (let k = 2 + int(r, big ? 300 : 10); k > 0; k--) {
    const g = one(r, guests);
    const dev = one(r, one(r, plats).devices);
    const step = one(r, [
      'start',
      'start',
      'stop',
      'migrate',
      'hotplug',
      'hotplug',
      'unplug',
      'tdisp',
      'tdisp',
      'config',
      'power',
      'link',
      'launch-update',
      'convert',
      'balloon',
      'free',
    ]);
    switch (step) {
      case 'start':
      case 'stop':
      case 'launch-update':
        lines.push(`  ${step} ${g.name}`);
        break;
      case 'migrate':
        lines.push(`  migrate ${g.name} to ${one(r, plats).name}`);
        break;
      case 'hotplug':
        lines.push(
          `  hotplug ${dev} into ${g.name}${chance(r, 0.3) ? ` as ${one(r, ['shared', 'private', 'bind-capable'])}` : ''}${chance(r, 0.1) ? ` dma-window ${range(r)}` : ''}`,
        );
        break;
      case 'unplug':
        lines.push(`  unplug ${dev}${chance(r, 0.5) ? ` from ${g.name}` : ''}`);
        break;
      case 'tdisp':
        lines.push(`  tdisp ${dev} ${one(r, ['lock', 'start', 'stop', 'report', 'bind-p2p', 'unbind-p2p', 'set-mmio-attr'])}`);
        break;
      case 'config': {
        const what = one(r, ['command', 'devctl', 'bar', 'flr', 'msix', 'sriov', 'pasid']);
        const bits =
          what === 'command' ? some(r, Object.keys(COMMAND_BITS), 2) : what === 'devctl' ? some(r, Object.keys(DEVCTL_BITS), 2) : [];
        lines.push(
          `  config ${dev} ${what}${bits.length ? ` ${bits.join(' ')}` : ''}${what === 'bar' ? ` ${int(r, 7)}${chance(r, 0.5) ? ` ${one(r, ADDRESSES)}` : ''}` : ''}`,
        );
        break;
      }
      case 'power':
        lines.push(`  power ${dev} ${one(r, ['D0', 'D1', 'D2', 'D3hot', 'D3cold'])}`);
        break;
      case 'link':
        lines.push(`  link ${dev} ${one(r, ['up', 'down'])}`);
        break;
      case 'convert':
        lines.push(`  convert ${dev} to ${one(r, ['private', 'shared'])}`);
        break;
      case 'balloon':
      case 'free': {
        const who = xenDomains.length ? one(r, xenDomains) : g.name;
        lines.push(`  ${step} ${who}${step === 'free' || chance(r, 0.7) ? ` ${range(r)}` : ''}`);
        break;
      }
    }
  }
  lines.push('}', '');
}

function firmware(r: R, name: string, g: Gst, lines: string[], big: boolean): void {
  lines.push(`firmware ${name} for ${g.name} {`);
  const devices = g.assigned.length && !big ? g.assigned : g.on.devices;
  // Events a driver waits on and others signal: chains, and now and then rings.
  const events = Array.from({ length: 2 + (big ? devices.length : 0) }, (_, i) => `ev${i}`);
  for (const [k, dev] of devices.entries()) {
    const maps = Array.from({ length: 1 + int(r, 3) }, (_, i) => `m${i}`);
    lines.push(`  driver Drv${k} for ${dev} {`);
    for (const m of maps) {
      const opts = [];
      if (chance(r, 0.6)) opts.push(`size ${one(r, SIZES)}`);
      if (chance(r, 0.2)) opts.push(`at ${one(r, ADDRESSES)}`);
      if (chance(r, 0.5)) opts.push(`from ${one(r, ['allocate-buffer', 'allocate-pool', 'allocate-pages'])}`);
      opts.push(one(r, ['pending', 'completed', '']));
      lines.push(
        `    map ${m} ${one(r, ['bus-master-read', 'bus-master-write', 'common-buffer', 'bus-master-read64', 'bus-master-write64', 'common-buffer64'])} ${opts.join(' ')}`.trimEnd(),
      );
    }
    const action = () =>
      one(r, [
        'stop-dma',
        `unmap ${one(r, maps)}`,
        'unmap-all',
        'unmap-all deferred',
        `free ${one(r, maps)}`,
        `signal ${one(r, events)}`,
        `call ${one(r, ['FreePages', 'FreePool', 'AllocatePages', 'SetMem', 'Stall'])}`,
      ]);
    for (let h = 1 + int(r, 2); h > 0; h--) {
      const on = chance(r, 0.7) ? 'exit-boot-services' : `event ${one(r, events)}`;
      const body = chance(r, 0.5) ? `{ ${Array.from({ length: 1 + int(r, 3) }, action).join('; ')} }` : action();
      lines.push(`    on ${on} tpl ${one(r, ['notify', 'callback'])} ${body}`);
    }
    lines.push('  }');
  }
  lines.push('  iommu-protocol {');
  lines.push(
    `    on exit-boot-services tpl ${one(r, ['notify', 'callback'])} ${one(r, ['signal ev0', 'unmap-all', 'unmap-all deferred', 'stop-dma'])}`,
  );
  if (chance(r, 0.6)) lines.push(`    on event ${one(r, events)} tpl ${one(r, ['notify', 'callback'])} unmap-all`);
  lines.push('  }', '}', '');
}

function xen(r: R, name: string, on: Plat, lines: string[], big: boolean): string[] {
  const domains = ['dom0'].concat(Array.from({ length: int(r, big ? 40 : 3) }, (_, i) => `du${i}`));
  lines.push(`xen ${name} on ${on.name} {`);
  lines.push(
    `  dom0 { mode ${one(r, ['pv', 'pvh', 'hvm'])}; iommu ${some(r, ['strict', 'passthrough', 'relaxed'], 1).join(' ') || 'strict'}; map-reserved ${one(r, ['on', 'off'])}${chance(r, 0.4) ? `; iommu-map ${one(r, ['host-identity', 'maintained', 'pv-iommu', 'virtual-vtd'])}` : ''} }`,
  );
  for (const d of domains.slice(1)) {
    const body = [`mode ${one(r, ['pv', 'pvh', 'hvm'])}`];
    const pass = some(r, on.devices, 2);
    if (pass.length) body.push(`pass ${pass.join(', ')}`);
    if (chance(r, 0.7)) body.push(`iommu-map ${one(r, ['host-identity', 'maintained', 'pv-iommu', 'virtual-vtd'])}`);
    if (chance(r, 0.5)) body.push(`quarantine ${one(r, ['off', 'basic', 'scratch-page'])}`);
    if (chance(r, 0.5)) body.push(`ram low ${range(r)}`);
    lines.push(`  domain ${d} { ${body.join('; ')} }`);
  }
  if (chance(r, 0.3)) lines.push(`  xen-range ${range(r)}`);
  lines.push('}', '');
  return domains.map((d) => (d === 'dom0' ? `${name}.dom0` : d));
}

function vintf(r: R, name: string, on: Plat, guests: Gst[], lines: string[]): void {
  const smmu = on.iommus.find((i) => i.kind === 'smmuv3') ?? on.iommus[0]!;
  lines.push(`vintf ${name} on ${smmu.name} for ${one(r, guests).name} {`);
  lines.push(
    `  owner ${one(r, ['guest', 'host'])}`,
    `  hyp-own ${one(r, ['on', 'off'])}`,
    `  vmid ${one(r, ['0', '1', '3', '65535', '65536'])}`,
  );
  for (const d of some(r, on.devices, 3)) lines.push(`  stream ${d} as ${one(r, ['0x8', '0x10', '0x100', '0', '0xffffffff'])}`);
  lines.push('}', '');
}

function commands(r: R, vintfName: string, lines: string[]): void {
  lines.push(`commands ${vintfName} {`);
  const ops = Object.keys(SMMU_OPCODES);
  for (let b = 1 + int(r, 3); b > 0; b--) {
    const cmds = Array.from({ length: 1 + int(r, 4) }, () => {
      const operands = Array.from(
        { length: int(r, 3) },
        () =>
          `${one(r, ['asid', 'va', 'vmid', 'sid', 'ssid', 'ipa', 'addr', 'leaf'])} ${one(r, ['0', '3', '12', '0x8', '0xfffff000', '0x10000000000000000'])}`,
      );
      return [one(r, ops), ...operands].join(' ');
    });
    if (chance(r, 0.7)) cmds.push('CMD_SYNC');
    lines.push(`  batch { ${cmds.join('; ')} }`);
  }
  lines.push('}', '');
}

/**
 * One workspace from a seed: hosts, guests, timelines and the rest, each a file. A share
 * `bigShare` is big: tens of devices, guests and Xen domains, hundreds of steps, a
 * firmware driving every device of its host, where cost that grows faster than the input
 * shows (each takes seconds through check.ts, so the CI run has none).
 */
export function scenario(seed: number, bigShare = 0): Input {
  const r = prng(seed);
  const big = chance(r, bigShare);
  const files: Record<string, string[]> = { 'hosts.iommu': [], 'guests.iommu': [], 'timelines.iommu': [], 'other.iommu': [] };
  const plats = Array.from({ length: 1 + int(r, big ? 8 : 3) }, (_, i) => platform(r, `host${i}`, files['hosts.iommu']!, big));
  const vintfNames = plats.some((p) => p.iommus.some((i) => i.cmdqv)) && chance(r, 0.6) ? ['vi0', 'vi1'].slice(0, 1 + int(r, 2)) : [];
  const guests = Array.from({ length: 1 + int(r, big ? 20 : 4) }, (_, i) =>
    guest(r, `vm${i}`, one(r, plats), vintfNames, files['guests.iommu']!),
  );
  const other = files['other.iommu']!;
  const xenDomains = chance(r, 0.3) ? xen(r, 'xh0', one(r, plats), other, big) : [];
  for (let t = 1 + int(r, 2); t > 0; t--) timeline(r, `tl${t}`, plats, guests, xenDomains, files['timelines.iommu']!, big);
  if (plats.length > 1 && chance(r, 0.5))
    other.push(
      `pool pl0 { ${
        some(r, plats, 3)
          .map((p) => p.name)
          .join(', ') || plats[0]!.name
      } }`,
      '',
    );
  if (chance(r, big ? 0.8 : 0.4)) firmware(r, 'fw0', one(r, guests), other, big);
  for (const v of vintfNames) {
    const host = plats.find((p) => p.iommus.some((i) => i.cmdqv)) ?? plats[0]!;
    vintf(r, v, host, guests, other);
    if (chance(r, 0.8)) commands(r, v, other);
  }
  const out: Record<string, string> = {};
  for (const [n, l] of Object.entries(files)) if (l.length) out[n] = l.join('\n');
  return { label: `scenario ${seed}${big ? ' (big)' : ''}`, files: out };
}

/** Seeds unbiased: fast-check favours small numbers, and every seed is as good a scenario as another. */
export const scenarioInput = (bigShare = 0): fc.Arbitrary<Input> => fc.noBias(fc.nat()).map((seed) => scenario(seed, bigShare));

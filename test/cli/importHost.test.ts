/**
 * `iommu-lens import host --root DIR` on copied trees built from real captures
 * (test/fixtures/sysfs, test/fixtures/acpi): groups, their reserved regions without what the
 * IOMMU driver adds itself, device classes, each device's IOMMU unit and its width from the
 * capability register, the kernel command line and release in comments; parts that cannot
 * be read are noted, not fatal; a link out of the tree is never followed.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, cli } from './run';

const LPC = readFileSync(join(ROOT, 'test', 'fixtures', 'sysfs', 'intel-lpc-bridge.reserved_regions'), 'utf8');
const DMAR = join(ROOT, 'test', 'fixtures', 'acpi', 'Server', 'Hewlett-Packard-ProLiant-DL380e-Gen8-CB05571909C8.DMAR.dat');
/** A server's VT-d capability register: MGAW (bits 21:16) 0x2f, so 48 bits. */
const CAP = 0x8d2078c106f0466n;
const base = mkdtempSync(join(tmpdir(), 'iommu-lens-host-'));
after(() => rmSync(base, { recursive: true, force: true }));
let serial = 0;

interface Dev {
  bdf: string;
  cls: string;
  group: number;
  unit: string;
}

/** A copied host: /sys (groups, PCI devices, IOMMU units, ACPI tables) and /proc, laid out as Linux does. */
function host(
  devices: Dev[],
  opts: { groupRegions?: Record<number, string>; cmdline?: string; dmar?: 'file' | 'outside' | 'none' } = {},
): string {
  const root = join(base, `host${serial++}`);
  const mk = (...p: string[]) => {
    mkdirSync(join(root, ...p), { recursive: true });
    return join(root, ...p);
  };
  for (const unit of new Set(devices.map((d) => d.unit))) {
    writeFileSync(join(mk('sys', 'devices', 'virtual', 'iommu', unit, 'intel-iommu'), 'cap'), `${CAP.toString(16)}\n`);
    mk('sys', 'class', 'iommu');
    symlinkSync(`../../devices/virtual/iommu/${unit}`, join(root, 'sys', 'class', 'iommu', unit));
  }
  mk('sys', 'bus', 'pci', 'devices');
  for (const d of devices) {
    const dir = mk('sys', 'devices', 'pci0000:00', d.bdf);
    writeFileSync(join(dir, 'class'), `${d.cls}\n`);
    symlinkSync(`../../virtual/iommu/${d.unit}`, join(dir, 'iommu'));
    symlinkSync(`../../../devices/pci0000:00/${d.bdf}`, join(root, 'sys', 'bus', 'pci', 'devices', d.bdf));
    const g = mk('sys', 'kernel', 'iommu_groups', String(d.group), 'devices');
    symlinkSync(`../../../../devices/pci0000:00/${d.bdf}`, join(g, d.bdf));
    writeFileSync(
      join(root, 'sys', 'kernel', 'iommu_groups', String(d.group), 'reserved_regions'),
      opts.groupRegions?.[d.group] ?? '0x00000000fee00000 0x00000000feefffff msi\n',
    );
  }
  const tables = mk('sys', 'firmware', 'acpi', 'tables');
  if (opts.dmar === 'file' || opts.dmar === undefined) copyFileSync(DMAR, join(tables, 'DMAR'));
  if (opts.dmar === 'outside') symlinkSync(DMAR, join(tables, 'DMAR'));
  writeFileSync(join(mk('proc'), 'cmdline'), `${opts.cmdline ?? 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt'}\n`);
  writeFileSync(join(mk('proc', 'sys', 'kernel'), 'osrelease'), '6.8.0-45-generic\n');
  writeFileSync(join(root, 'proc', 'sys', 'kernel', 'arch'), 'x86_64\n');
  return root;
}

const DEVICES: Dev[] = [
  { bdf: '0000:00:02.0', cls: '0x030000', group: 1, unit: 'dmar0' },
  { bdf: '0000:00:14.0', cls: '0x0c0330', group: 4, unit: 'dmar1' },
  { bdf: '0000:00:1f.0', cls: '0x060100', group: 9, unit: 'dmar1' },
  { bdf: '0000:00:1f.3', cls: '0x040300', group: 9, unit: 'dmar1' },
];

function imported(root: string): string {
  const r = cli(['import', 'host', '--root', root, '--platform', 'dl388']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

describe('import host', () => {
  test('groups, classes, units, regions, command line and kernel release', () => {
    const root = host(DEVICES, { groupRegions: { 9: LPC } });
    const out = imported(root);
    assert.match(out, /^\/\/ kernel 6\.8\.0-45-generic: the rules of upstream Linux 6\.8\.0 apply/m);
    // The release becomes the platform's `kernel` statement, which keys the version-dependent rules (RULES §0.2).
    assert.match(out, /^ {2}kernel 6\.8\.0$/m);
    assert.match(out, /^\/\/ {3}intel_iommu=on: VT-d is on/m);
    assert.match(out, /^\/\/ {3}iommu=pt: host DMA goes untranslated .*VFIO still translates/m);
    assert.match(out, /^\/\/ ACPI DMAR read: 2 DRHD, 9 RMRR$/m);
    assert.match(out, /^ {2}iommu dmar0 vt-d \{ address-width 48 \}$/m);
    assert.match(out, /capability register \(MGAW\)/);
    assert.match(out, /device dev-0000-00-14-0 +\{ bdf 0000:00:14\.0; iommu dmar1; group 4; class usb \}/);
    assert.match(out, /device dev-0000-00-1f-0 +\{ bdf 0000:00:1f\.0; iommu dmar1; group 9; class isa-bridge \}/);
    // The interrupt range every group lists is the VT-d driver's own: left to the simulator.
    assert.doesNotMatch(out, /0xfee00000/);
    assert.match(out, /reserved direct-0 +direct 0x0\.\.0xffffff +for group 9/);
    assert.match(out, /reserved direct-bdf6e000 +direct 0xbdf6e000\.\.0xbdf84fff for group 9/);
    const file = join(base, `out${serial++}.iommu`);
    writeFileSync(file, out);
    assert.equal(cli(['check', file]).status, 0);
    assert.equal(cli(['format', '--check', file]).status, 0);
    // Each group's usable list, computed from the import, matches what the kernel's regions give.
    const iova = cli(['iova', file, '--platform', 'dl388', '--group', '4']);
    assert.equal(iova.stdout, '0x0-0xfedfffff\n0xfef00000-0xffffffffffff\n');
  });

  test('a table linked out of the tree and a missing /proc are noted, not fatal', () => {
    const root = host(DEVICES, { dmar: 'outside' });
    rmSync(join(root, 'proc'), { recursive: true });
    const out = imported(root);
    assert.match(
      out,
      /^\/\/ not read: '.*\/sys\/firmware\/acpi\/tables\/DMAR': a symbolic link that leads outside the root: not followed$/m,
    );
    assert.doesNotMatch(out, /ACPI DMAR read/);
    assert.doesNotMatch(out, /kernel command line/);
    assert.match(out, /iommu dmar1 vt-d/);
  });

  test('a device entry linked out of the root is noted, and nothing outside is read', () => {
    const root = host(DEVICES);
    const outside = join(base, `outside${serial++}`);
    mkdirSync(outside);
    writeFileSync(join(outside, 'class'), '0x0c0330\n');
    symlinkSync(outside, join(root, 'sys', 'bus', 'pci', 'devices', '0000:00:1d.0'));
    const out = imported(root);
    assert.match(out, /not read: '.*0000:00:1d\.0': a symbolic link that leads outside the root: not followed/);
    assert.match(out, /device dev-0000-00-1d-0 +\{ bdf 0000:00:1d\.0 \}/);
    assert.doesNotMatch(out, /dev-0000-00-1d-0.*class usb/);
  });

  test('a host without groups says that nothing can be assigned', () => {
    const root = join(base, `empty${serial++}`);
    mkdirSync(join(root, 'proc'), { recursive: true });
    writeFileSync(join(root, 'proc', 'cmdline'), 'quiet intel_iommu=off\n');
    const out = imported(root);
    assert.match(out, /intel_iommu=off: VT-d is off/);
    assert.match(out, /no IOMMU groups/);
  });

  test('import host takes no PATH, and a missing root is exit 2', () => {
    const r = cli(['import', 'host', 'x']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /import host takes no PATH/);
    const m = cli(['import', 'host', '--root', join(base, 'nowhere')]);
    assert.equal(m.status, 2);
    assert.match(m.stderr, /nowhere': cannot read: no such file or directory/);
  });
});

/**
 * `iommu-lens import acpi` through the bundled CLI: a table, a directory of tables (as
 * /sys/firmware/acpi/tables), acpidump text, `--pci` as a sysfs tree or lspci output, and
 * inputs that are not what they claim (exit 2, one line naming the file and the byte or line).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, cli } from './run';

const FIX = join(ROOT, 'test', 'fixtures', 'acpi');
const XPS = join(FIX, 'Notebook', 'Dell-XPS-13-7390-6E5EDD6F0EBC.DMAR.dat');
const PROLIANT = join(FIX, 'Server', 'Hewlett-Packard-ProLiant-DL380e-Gen8-CB05571909C8.DMAR.dat');
const base = mkdtempSync(join(tmpdir(), 'iommu-lens-acpi-'));
after(() => rmSync(base, { recursive: true, force: true }));
let serial = 0;

/** A copied sysfs: DIR/sys/bus/pci/devices/BDF linked to DIR/sys/devices/pci.../BDF with its class. */
export function sysfsTree(devices: { bdf: string; cls: string; parent?: string }[]): string {
  const root = join(base, `sys${serial++}`);
  const list = join(root, 'sys', 'bus', 'pci', 'devices');
  mkdirSync(list, { recursive: true });
  const pathOf = (bdf: string): string => {
    const d = devices.find((x) => x.bdf === bdf)!;
    return d.parent ? `${pathOf(d.parent)}/${bdf}` : `pci${bdf.slice(0, 7)}/${bdf}`;
  };
  for (const d of devices) {
    const dir = join(root, 'sys', 'devices', pathOf(d.bdf));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'class'), `${d.cls}\n`);
    symlinkSync(`../../../devices/${pathOf(d.bdf)}`, join(list, d.bdf));
  }
  return list;
}

function ok(args: string[]) {
  const r = cli(args);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

function refused(args: string[], why: RegExp) {
  const r = cli(args);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, why);
  assert.ok(!/\n\s+at /.test(r.stderr), `a stack trace: ${r.stderr}`);
}

/** Writes `text` to a file of the scratch directory and returns its path. */
function scratch(name: string, text: string | Uint8Array): string {
  const p = join(base, `${serial++}-${name}`);
  writeFileSync(p, text);
  return p;
}

describe('import acpi', () => {
  test('a table, its directory and its acpidump give one platform that checks clean and is formatted', () => {
    const out = ok(['import', 'acpi', XPS, '--platform', 'xps']);
    assert.match(out, /^platform xps \{$/m);
    assert.match(out, /iommu dmar0 vt-d \{ address-width 39 \}/);
    assert.match(out, /reserved rmrr0 direct 0x5f4e5000\.\.0x5f504fff for dev-0000-00-14-0/);
    const file = scratch('xps.iommu', out);
    assert.equal(cli(['check', file]).status, 0);
    assert.equal(cli(['format', '--check', file]).status, 0);
    const dir = join(base, `tables${serial++}`);
    mkdirSync(dir);
    copyFileSync(XPS, join(dir, 'DMAR'));
    writeFileSync(join(dir, 'FACP'), 'not read');
    const fromDir = ok(['import', 'acpi', dir, '--platform', 'xps']);
    assert.equal(fromDir.replace(/^\/\/.*\n/gm, ''), out.replace(/^\/\/.*\n/gm, ''));
    const dump = ok(['import', 'acpi', join(FIX, 'Server', 'Supermicro-H8DGU-57ED146F2C3C.acpidump'), '--platform', 'h8dgu']);
    assert.match(dump, /iommu amdvi0 amd-vi \{ address-width 64 \}/);
  });

  test('--pci classes make USB and graphics RMRRs direct-relaxable', () => {
    const lspci = scratch('lspci.txt', '00:02.0 0300: 8086:3ea0 (rev 02)\n00:14.0 0c03: 8086:02ed\n00:1f.0 0601: 8086:0284\n');
    const out = ok(['import', 'acpi', XPS, '--pci', lspci]);
    assert.match(out, /reserved rmrr0-relaxable direct-relaxable 0x5f4e5000\.\.0x5f504fff for dev-0000-00-14-0/);
    assert.match(out, /reserved rmrr1-relaxable direct-relaxable 0x6b000000\.\.0x6f7fffff for dev-0000-00-02-0/);
    assert.match(out, /device dev-0000-00-14-0 +\{ bdf 0000:00:14\.0; iommu dmar1; class usb \}/);
    // The LPC bridge gets the VT-d driver's floppy workaround, relaxable.
    assert.match(out, /reserved isa-floppy +direct-relaxable 0x0\.\.0xffffff for dev-0000-00-1f-0/);
    const tree = sysfsTree([
      { bdf: '0000:00:02.0', cls: '0x030000' },
      { bdf: '0000:00:14.0', cls: '0x0c0330' },
    ]);
    assert.match(ok(['import', 'acpi', XPS, '--pci', tree]), /rmrr1-relaxable direct-relaxable 0x6b000000/);
  });

  test('a bridge path is walked through the topology of a sysfs tree', () => {
    const bare = ok(['import', 'acpi', PROLIANT]);
    assert.match(bare, /behind bridge 0000:00:1c\.7: 00\.0 on the bus below it/);
    const tree = sysfsTree([
      { bdf: '0000:00:1c.7', cls: '0x060400' },
      { bdf: '0000:01:00.0', cls: '0x088000', parent: '0000:00:1c.7' },
      { bdf: '0000:01:00.2', cls: '0x088000', parent: '0000:00:1c.7' },
      { bdf: '0000:01:00.4', cls: '0x0c0300', parent: '0000:00:1c.7' },
    ]);
    const out = ok(['import', 'acpi', PROLIANT, '--pci', tree]);
    assert.doesNotMatch(out, /behind bridge 0000:00:1c\.7/);
    assert.match(out, /reserved rmrr1 +direct +0x7dff6000\.\.0x7dffcfff for dev-0000-01-00-0, dev-0000-01-00-2\n/);
    assert.match(out, /reserved rmrr1-relaxable +direct-relaxable 0x7dff6000\.\.0x7dffcfff for dev-0000-01-00-4\n/);
    assert.equal(cli(['check', scratch('p.iommu', out)]).status, 0);
  });

  test('bad input: exit 2, the file and the byte or line, no stack trace', () => {
    const bytes = readFileSync(XPS);
    refused(
      ['import', 'acpi', scratch('cut.dat', bytes.subarray(0, 60))],
      /cut\.dat: at byte 0x4 \(4\): the header says 168 bytes but there are 60: truncated\n$/,
    );
    const zero = Buffer.from(bytes);
    zero[50] = 0;
    zero[51] = 0;
    refused(['import', 'acpi', scratch('zero.dat', zero)], /zero\.dat: at byte 0x32 \(50\): a subtable of 0 bytes/);
    refused(['import', 'acpi', scratch('text.txt', 'hello\n')], /text\.txt:1: not the text of acpidump/);
    refused(
      ['import', 'acpi', scratch('facp.dat', Buffer.concat([Buffer.from('FACP'), Buffer.alloc(40)]))],
      /a binary table with signature 'FACP', not DMAR, IVRS or IORT/,
    );
    refused(['import', 'acpi', join(base, 'missing')], /missing': cannot read: no such file or directory/);
    refused(['import', 'acpi', XPS, '--pci', scratch('lspci.txt', 'nothing here\n')], /lspci\.txt:1: no device lines/);
    refused(['import', 'acpi'], /import acpi needs at least one PATH/);
    refused(['import', 'acpi', XPS, '--platform', '1x'], /--platform must be a name/);
  });

  test('a table linked from outside the directory is not followed, nor a FIFO read', () => {
    const dir = join(base, `tables${serial++}`);
    mkdirSync(dir);
    symlinkSync(XPS, join(dir, 'DMAR'));
    refused(['import', 'acpi', dir], /DMAR': a symbolic link that leads outside the capture: not followed/);
    const fifo = join(base, `fifo${serial++}`);
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    refused(['import', 'acpi', fifo], /a FIFO, not a regular file: not read/);
  });
});

/**
 * `iommu-lens import` on captures that are not what sysfs makes: links out of the tree,
 * devices, FIFOs, dangling and looping links, over-size files, bad lines full of control
 * characters, and names built to inject declarations. Each is refused with exit 2 and a
 * short message naming the file, or imported to exactly the declarations expected.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, type DeviceDecl, type PlatformDecl, type ReservedDecl } from '@iommu-lens/grammar';
import { readCaptureTree } from '../../server/src/cli/capture';
import { NameAllocator, renderPlatform, type CapturedGroup } from '../../server/src/cli/sysfsImport';
import { ROOT, CLI, cli } from './run';

const ARM = readFileSync(join(ROOT, 'test', 'fixtures', 'sysfs', 'arm-pci-windows.reserved_regions'), 'utf8');
const INTEL = readFileSync(join(ROOT, 'test', 'fixtures', 'sysfs', 'intel-lpc-bridge.reserved_regions'), 'utf8');

const base = mkdtempSync(join(tmpdir(), 'iommu-lens-import-'));
after(() => rmSync(base, { recursive: true, force: true }));
let serial = 0;

/** A capture: group 1 holds the real arm64 capture and one device; `extra` adds to it. */
function capture(extra: (dir: string) => void = () => {}): string {
  const dir = join(base, `capture${serial++}`);
  mkdirSync(join(dir, '1', 'devices'), { recursive: true });
  writeFileSync(join(dir, '1', 'reserved_regions'), ARM);
  writeFileSync(join(dir, '1', 'devices', '0000:01:00.0'), '');
  extra(dir);
  return dir;
}

/** The environment variable whose value must never reach any output. */
const SECRET = `s3cr3t-${process.pid}-do-not-print`;
process.env.IOMMU_LENS_TEST_SECRET = SECRET;

/** Runs the CLI (with SECRET in its environment); a hang is killed, which the status shows. */
function refused(args: string[], why: RegExp) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 2, `status ${r.status} (signal ${r.signal}): ${out.slice(0, 500)}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, why);
  assert.ok(!out.includes(SECRET), 'the environment leaked into the output');
  assert.ok(!/\n\s+at /.test(r.stderr), `a stack trace: ${r.stderr}`);
  assert.ok(r.stderr.length < 400, `a long message: ${r.stderr.length} characters`);
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stderr), 'a control character in the message');
}

describe('import reads only regular files inside the capture', () => {
  test('a reserved_regions linked to /proc/self/environ is not followed: the environment appears nowhere', () => {
    const dir = capture((d) => {
      mkdirSync(join(d, '2'));
      symlinkSync('/proc/self/environ', join(d, '2', 'reserved_regions'));
    });
    refused(
      ['import', 'sysfs', dir],
      /^iommu-lens: '.*capture\d+\/2\/reserved_regions': a symbolic link that leads outside the capture: not followed\n$/,
    );
    const lone = join(base, 'environ-link');
    symlinkSync('/proc/self/environ', lone);
    refused(['import', 'reserved-regions', lone], /'.*environ-link': a symbolic link that leads outside its directory: not followed\n$/);
  });

  test('/dev/zero, as a link out of the tree or named itself, is not read', () => {
    const dir = capture((d) => {
      mkdirSync(join(d, '2'));
      symlinkSync('/dev/zero', join(d, '2', 'reserved_regions'));
    });
    refused(['import', 'sysfs', dir], /2\/reserved_regions': a symbolic link that leads outside the capture/);
    refused(['import', 'reserved-regions', '/dev/zero'], /^iommu-lens: '\/dev\/zero': a character device, not a regular file: not read\n$/);
  });

  test('a FIFO is refused without opening it for a blocking read (no hang)', () => {
    const dir = capture((d) => {
      mkdirSync(join(d, '2'));
      const r = spawnSync('mkfifo', [join(d, '2', 'reserved_regions')]);
      assert.equal(r.status, 0, 'mkfifo');
    });
    refused(['import', 'sysfs', dir], /2\/reserved_regions': a FIFO, not a regular file: not read\n$/);
    refused(['import', 'reserved-regions', join(dir, '2', 'reserved_regions')], /a FIFO, not a regular file/);
  });

  test('a file swapped for a FIFO after its lstat is caught on the open descriptor', () => {
    const dir = capture((d) => {
      assert.equal(spawnSync('mkfifo', [join(d, '1', 'fifo')]).status, 0);
    });
    // The lstat sees the regular file; the open meets the FIFO, as if it had been renamed over the file in between.
    const swapped: typeof fs = {
      ...fs,
      openSync: ((p: fs.PathLike, flags: number) =>
        fs.openSync(String(p).replace(/reserved_regions$/, 'fifo'), flags)) as typeof fs.openSync,
    };
    assert.throws(() => readCaptureTree(dir, 'cap', swapped), /^Error: 'cap\/1\/reserved_regions': a FIFO, not a regular file: not read$/);
  });

  test('dangling and looping links: a clear error naming the link', () => {
    refused(
      ['import', 'sysfs', capture((d) => symlinkSync(join(d, 'nowhere'), join(d, '2')))],
      /^iommu-lens: '.*capture\d+\/2': a dangling symbolic link\n$/,
    );
    refused(['import', 'sysfs', capture((d) => symlinkSync('3', join(d, '3')))], /capture\d+\/3': a symbolic link loop\n$/);
    refused(
      [
        'import',
        'sysfs',
        capture((d) => {
          symlinkSync('5', join(d, '4'));
          symlinkSync('4', join(d, '5'));
        }),
      ],
      /a symbolic link loop/,
    );
    refused(
      [
        'import',
        'sysfs',
        capture((d) => {
          mkdirSync(join(d, '2'));
          symlinkSync('gone', join(d, '2', 'reserved_regions'));
        }),
      ],
      /2\/reserved_regions': a dangling symbolic link\n$/,
    );
    refused(
      [
        'import',
        'sysfs',
        capture((d) => {
          mkdirSync(join(d, '2'));
          symlinkSync(tmpdir(), join(d, '2', 'devices'));
        }),
      ],
      /2\/devices': a symbolic link that leads outside the capture/,
    );
  });

  test('links that stay inside the capture are followed', () => {
    const dir = capture((d) => {
      symlinkSync('1', join(d, '7'));
      mkdirSync(join(d, '8'));
      symlinkSync('../1/reserved_regions', join(d, '8', 'reserved_regions'));
    });
    const r = cli(['import', 'sysfs', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}reserved reserved-e0000000 reserved 0xe0000000\.\.0xf7feffff$/m);
    assert.match(r.stdout, /^ {2}device group8-dev \{ group 8; iommu iommu0 \}/m);
  });

  test('a file over 1 MiB is refused; one just under is imported', () => {
    const line = '0x00000000e0000000 0x00000000f7feffff reserved\n';
    const big = join(base, 'big.reserved_regions');
    writeFileSync(big, line.repeat(Math.floor(2 ** 20 / line.length) + 1));
    refused(
      ['import', 'reserved-regions', big],
      /^iommu-lens: '.*big\.reserved_regions': over 1048576 bytes \(1 MiB\): not a reserved_regions file sysfs prints\n$/,
    );
    writeFileSync(big, line.repeat(Math.floor(2 ** 20 / line.length)));
    const r = cli(['import', 'reserved-regions', big]);
    assert.equal(r.status, 0, r.stderr);
  });

  test('a bad line is shown short and escaped, with its file and line', () => {
    const file = join(base, 'bad.reserved_regions');
    writeFileSync(file, `${INTEL}\x1b[2Jab\r\u202e${'x'.repeat(5000)}\n`);
    refused(
      ['import', 'reserved-regions', file],
      /^iommu-lens: .*bad\.reserved_regions:4: expected START END TYPE: '\\x1b\[2Jab\\r\\u\{202e\}x{52}\.\.\. \(5008 characters\)'\n$/,
    );
  });
});

/** The declarations of an imported description, as the grammar reads them. */
function declarations(text: string) {
  const file = parse(text);
  assert.deepEqual(
    file.diagnostics.map((d) => d.message),
    [],
    text,
  );
  const platforms = file.decls.filter((d): d is PlatformDecl => d.kind === 'platform');
  assert.deepEqual(
    file.decls.map((d) => d.kind),
    ['platform'],
    'declarations other than the platform',
  );
  const items = platforms[0]!.items;
  return {
    name: platforms[0]!.name?.text,
    devices: items.filter((i): i is DeviceDecl => i.kind === 'device').map((d) => d.name?.text),
    regions: items.filter((i): i is ReservedDecl => i.kind === 'reserved').map((r) => r.name?.text),
  };
}

describe('import output cannot be injected', () => {
  const INJECTED = '\n}\nguest evil on imported {\n  machine q35 memory 1G\n}\nplatform imported {\n';

  test('device entry names and a capture path with newlines, bidi overrides and braces give exactly the expected declarations', () => {
    const parent = join(base, `cap${INJECTED}`);
    mkdirSync(parent);
    const dir = join(parent, 'groups');
    mkdirSync(join(dir, '1', 'devices'), { recursive: true });
    writeFileSync(join(dir, '1', 'reserved_regions'), ARM);
    const names = [
      '0000:01:00.0',
      `0000:01:00.1${INJECTED}`,
      `e0000000.dma${INJECTED}`,
      'x\u202e}{',
      '0000:01:00.0\n',
      'e0000000-dma',
      'e0000000.dma',
    ];
    for (const n of names) writeFileSync(join(dir, '1', 'devices', n), '');
    const r = cli(['import', 'sysfs', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(declarations(r.stdout), {
      name: 'imported',
      // Only a whole BDF is a BDF; every other name is reduced to a name the language takes, made unique.
      devices: [
        'dev-0000-01-00-0',
        'dev-0000-01-00-0-',
        'dev-0000-01-00-1-guest-evil-on-imported-machine-q35-memory-1g-platform-imported-',
        'dev-e0000000-dma',
        'dev-e0000000-dma-2',
        'dev-e0000000-dma-guest-evil-on-imported-machine-q35-memory-1g-platform-imported-',
        'dev-x-',
      ],
      regions: ['sw-msi-8000000', 'reserved-e0000000', 'reserved-80000000000'],
    });
    assert.equal(r.stdout.match(/\bbdf /g)?.length, 1, 'one BDF: the only name that is one');
    assert.match(r.stdout, /^\/\/ Imported by iommu-lens from .*cap\\n}\\nguest evil on imported \{\\n/m);
    assert.match(r.stdout, /\/\/ not a PCI device: 'x\\u\{202e\}\}\{'$/m);
    assert.ok(!/[\x00-\x09\x0b-\x1f\u202e]/.test(r.stdout), 'a control character in the output');
  });

  test('a reserved_regions file named with a newline in its path', () => {
    const dir = join(base, `lone${INJECTED}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'r'), INTEL);
    const r = cli(['import', 'reserved-regions', join(dir, 'r')]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(declarations(r.stdout), {
      name: 'r',
      devices: ['group0-dev'],
      regions: ['direct-0', 'direct-bdf6e000', 'msi-fee00000'],
    });
  });
});

describe('import names regions in linear time', () => {
  const N = 20_000;
  const same: CapturedGroup[] = [
    {
      number: 3n,
      regions: Array.from({ length: N }, (_, i) => ({
        range: { start: 0x1000n, end: 0x1fffn + BigInt(i) * 0x1000n },
        type: 'reserved' as const,
      })),
      devices: [],
    },
  ];

  test(`${N} regions with the same start and type: one probe per name, names -2 to -${N}`, () => {
    const names = new NameAllocator();
    const text = renderPlatform('p', same, 'capture', names);
    const regions = [...text.matchAll(/^ {2}reserved (\S+) /gm)].map((m) => m[1]);
    assert.equal(regions.length, N);
    assert.deepEqual(regions.slice(0, 3), ['reserved-1000', 'reserved-1000-2', 'reserved-1000-3']);
    assert.equal(regions.at(-1), `reserved-1000-${N}`);
    assert.equal(new Set(regions).size, N);
    // The first region's name is free at once, each later one at its second probe (the base, then its
    // next number), and the group's device name at once: 2N probes.
    assert.equal(names.probes, 2 * N);
  });

  test('a name that another base already took is skipped once, not once per later name', () => {
    const names = new NameAllocator();
    assert.deepEqual(
      ['a-2', 'a', 'a', 'a', 'a-2'].map((b) => names.take(b)),
      ['a-2', 'a', 'a-3', 'a-4', 'a-2-2'],
    );
    assert.equal(names.probes, 9);
  });

  test(`through the CLI: a ${N}-line reserved_regions file (under 1 MiB) imports whole`, () => {
    const file = join(base, 'same-start.reserved_regions');
    writeFileSync(
      file,
      same[0]!.regions
        .map((r) => `0x${r.range.start.toString(16).padStart(16, '0')} 0x${r.range.end.toString(16).padStart(16, '0')} reserved\n`)
        .join(''),
    );
    const r = cli(['import', 'reserved-regions', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.match(/^ {2}reserved /gm)?.length, N);
  });
});

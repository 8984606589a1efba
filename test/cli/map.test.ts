/**
 * `iommu-lens map`: the address map of seed 002's guests and hosts, as text for CI logs
 * and as an SVG file, from the bundled CLI.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, cli } from './run';

const SEED2 = join('examples', 'seed-002-arm-msi-migration');

describe('map', () => {
  test('--guest: one section per address space, one line per range, the conflict and its finding (as docs/address-map.md shows)', () => {
    const r = cli(['map', SEED2, '--guest', 'vm-analytics']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      readFileSync(join(ROOT, 'docs', 'address-map.md'), 'utf8').includes(`\`\`\`text\n${r.stdout}\`\`\``),
      'the docs show this output',
    );
    assert.equal(
      r.stdout,
      `address map of guest vm-analytics on armsrv-1

guest physical: vm-analytics
  0x40000000-0x13fffffff  ram  mach-virt.ram  [error ram-over-reserved]

IOVA, VFIO type1 container: group 18 (vf2)
  0x0-0x7ffffff                 usable    usable
  0x8000000-0x80fffff           sw-msi    swmsi
  0x8100000-0xdfffffff          usable    usable
  0xe0000000-0xf7feffff         reserved  pci-win32
  0xe0000000-0xf7feffff         conflict  mach-virt.ram overlaps reserved pci-win32  [error ram-over-reserved]
  0xf7ff0000-0x7ffffffffff      usable    usable
  0x80000000000-0x82fffffffff   reserved  pci-win64
  0x83000000000-0xffffffffffff  usable    usable

host physical: armsrv-1
  0x8000000-0x80fffff          sw-msi    swmsi
  0xe0000000-0xf7feffff        reserved  pci-win32
  0x80000000000-0x82fffffffff  reserved  pci-win64
`,
    );
  });

  test('--platform: groups with the same regions share one IOVA space; a guest without devices says so', () => {
    const p = cli(['map', join(SEED2, 'hosts'), '--platform', 'armsrv-0']);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(
      p.stdout,
      `address map of platform armsrv-0

host physical: armsrv-0
  0x8000000-0x80fffff  sw-msi  swmsi

IOVA: group 10 (pf0), group 14 (vf0), group 15 (vf1), group 16 (vf2)
  0x0-0x7ffffff             usable  usable
  0x8000000-0x80fffff       sw-msi  swmsi
  0x8100000-0xffffffffffff  usable  usable
`,
    );
    const g = cli(['map', SEED2, '--guest', 'vm-db']);
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /\nIOVA, VFIO type1 container \(no device assigned\)\n {2}\(no ranges\)\n/);
  });

  test('--svg writes the picture; --svg - prints it', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'iommu-lens-map-')), 'vm-analytics.svg');
    const r = cli(['map', SEED2, '--guest', 'vm-analytics', '--svg', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    const svg = readFileSync(out, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
    assert.match(svg, /<title>address map of guest vm-analytics on armsrv-1<\/title>/);
    assert.match(
      svg,
      /<title>conflict 0xe0000000\.\.0xf7feffff \(0x17ff0000, ≈384M\)\nmach-virt\.ram overlaps reserved pci-win32\nerror ram-over-reserved: /,
    );
    assert.match(svg, /<\/svg>\n$/);
    const stdout = cli(['map', SEED2, '--guest', 'vm-analytics', '--svg', '-']);
    assert.equal(stdout.stdout, svg);
  });

  test('usage errors and unknown names exit 2', () => {
    const none = cli(['map', SEED2]);
    assert.deepEqual(
      [none.status, none.stderr],
      [2, "iommu-lens: map needs one of --guest G and --platform P\nrun 'iommu-lens --help' for usage\n"],
    );
    const both = cli(['map', SEED2, '--guest', 'vm-db', '--platform', 'armsrv-0']);
    assert.equal(both.status, 2);
    const unknown = cli(['map', SEED2, '--guest', 'vm-nope']);
    assert.deepEqual(
      [unknown.status, unknown.stderr],
      [2, "iommu-lens: no guest 'vm-nope' (guests: vm-analytics, vm-cache, vm-db, vm-db-local)\n"],
    );
    const platform = cli(['map', SEED2, '--platform', 'vm-db']);
    assert.deepEqual([platform.status, platform.stderr], [2, "iommu-lens: no platform 'vm-db' (platforms: armsrv-0, armsrv-1)\n"]);
    const noPath = cli(['map', '--guest', 'vm-db']);
    assert.deepEqual([noPath.status, noPath.stderr], [2, "iommu-lens: needs at least one PATH\nrun 'iommu-lens --help' for usage\n"]);
    const dir = join(mkdtempSync(join(tmpdir(), 'iommu-lens-map-')), 'missing', 'x.svg');
    const unwritable = cli(['map', SEED2, '--guest', 'vm-db', '--svg', dir]);
    assert.equal(unwritable.status, 2);
    assert.match(unwritable.stderr, /^iommu-lens: cannot write '.*x\.svg': no such file or directory\n$/);
    assert.equal(existsSync(dir), false);
    assert.match(cli(['--help']).stdout, /\n {2}map PATH\.\.\. \(--guest G \| --platform P\) \[--svg FILE\]\n/);
  });
});

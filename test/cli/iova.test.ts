/**
 * `iommu-lens iova` and `iommu-lens import`, on the real captures copied into
 * test/fixtures/sysfs (their expected results are in that folder's README).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AnalysisHost } from '../../server/src/ide';
import { sysfsLine } from '../../server/src/sim';
import { ROOT, cli } from './run';
import { DOMAINS } from '../../server/src/domains';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'sysfs');
const fixture = (name: string) => join(FIXTURES, `${name}.reserved_regions`);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'iommu-lens-'));
}

/** Imports one capture into DIR/NAME.iommu and returns the file. */
function imported(dir: string, name: string, extra: string[] = []): string {
  const r = cli(['import', 'reserved-regions', fixture(name), ...extra]);
  assert.equal(r.status, 0, r.stderr);
  const file = join(dir, `${name}.iommu`);
  writeFileSync(file, r.stdout);
  return file;
}

describe('import reserved-regions', () => {
  test('arm-pci-windows: the usable IOVA list of the fixture README, for a 48-bit aperture', () => {
    const file = imported(tmp(), 'arm-pci-windows', ['--group', '13']);
    const r = cli(['iova', file, '--platform', 'arm-pci-windows', '--group', '13']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '0x0-0x7ffffff\n0x8100000-0xdfffffff\n0xf7ff0000-0x7ffffffffff\n0x83000000000-0xffffffffffff\n');
  });

  test('keeps every region exactly: the group prints back as the captured sysfs file', () => {
    for (const name of ['arm-pci-windows', 'intel-lpc-bridge']) {
      const text = cli(['import', 'reserved-regions', fixture(name), '--group', '7']).stdout;
      const starts = [...text.matchAll(/^ {2}reserved \S+ \S+ (0x[0-9a-f]+)\.\.(0x[0-9a-f]+)/gm)].map((m) => `${m[1]}-${m[2]}`);
      const captured = readFileSync(fixture(name), 'utf8')
        .trim()
        .split('\n')
        .map((l) =>
          l
            .split(' ')
            .slice(0, 2)
            .map((h) => `0x${BigInt(h).toString(16)}`)
            .join('-'),
        );
      assert.deepEqual(starts, captured, name);
      assert.match(text, /both print as `msi`/);
      assert.match(text, /address width is assumed/);
    }
  });

  test('intel-lpc-bridge: two direct regions, so VFIO refuses the device with the 1:1 message', () => {
    const dir = tmp();
    imported(dir, 'intel-lpc-bridge', ['--group', '13', '--platform', 'dl388']);
    writeFileSync(join(dir, 'guest.iommu'), 'guest g on dl388 {\n  machine q35 memory 2G\n  assign group13-dev\n}\n');
    const r = cli(['check', dir]);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /guest\.iommu:3:3: error identity-map-required .*Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping\. Contact your platform vendor\./,
    );
    assert.match(r.stdout, /failed to setup container for group 13: Failed to set group container: Invalid argument/);
  });

  test('the group comes from the path of a captured tree, the platform name from the file', () => {
    const dir = tmp();
    mkdirSync(join(dir, '42'));
    writeFileSync(join(dir, '42', 'reserved_regions'), readFileSync(fixture('arm-pci-windows')));
    const r = cli(['import', 'reserved-regions', join(dir, '42', 'reserved_regions')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^platform reserved_regions \{$/m);
    assert.match(r.stdout, /for group 42/);
  });

  test('bad lines are reported with file and line, exit 2', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad'), '0x0000000008000000 0x00000000080fffff msi\n0x1 0xzz reserved\n');
    const r = cli(['import', 'reserved-regions', join(dir, 'bad')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad:2: START and END must be 64-bit hex numbers: '0x1 0xzz reserved'/);
    writeFileSync(join(dir, 'bad'), '0x0000000000000000 0xffffffffffffffff frobnicate\n');
    assert.match(cli(['import', 'reserved-regions', join(dir, 'bad')]).stderr, /unknown type 'frobnicate'/);
  });
});

describe('import sysfs', () => {
  /** A captured /sys/kernel/iommu_groups tree: an AMD host with two groups. */
  const groups: Record<string, { regions: string; devices: string[] }> = {
    '12': {
      regions: '0x00000000fee00000 0x00000000feefffff msi\n0x000000fd00000000 0x000000ffffffffff reserved\n',
      devices: ['0000:00:14.0', '0000:00:14.3'],
    },
    '41': {
      regions:
        '0x00000000bdf6e000 0x00000000bdf84fff direct-relaxable\n0x00000000fee00000 0x00000000feefffff msi\n0x000000fd00000000 0x000000ffffffffff reserved\n',
      devices: ['0000:c2:00.0'],
    },
    '3': {
      regions: '0x00000000fee00000 0x00000000feefffff msi\n0x000000fd00000000 0x000000ffffffffff reserved\n',
      devices: ['AMDI0010:00'],
    },
    '4': { regions: '0x0000000008000000 0x00000000080fffff msi\n', devices: [] },
  };
  function tree(): string {
    const dir = tmp();
    for (const [n, g] of Object.entries(groups)) {
      mkdirSync(join(dir, n, 'devices'), { recursive: true });
      writeFileSync(join(dir, n, 'reserved_regions'), g.regions);
      for (const d of g.devices) writeFileSync(join(dir, n, 'devices', d), '');
    }
    return dir;
  }

  test('groups, devices and regions; shared regions written once; AMD-Vi inferred', () => {
    const r = cli(['import', 'sysfs', tree(), '--platform', 'epyc-a']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}iommu iommu0 amd-vi \{ address-width 48 \}/m);
    assert.match(r.stdout, /^ {2}reserved msi-fee00000 msi 0xfee00000\.\.0xfeefffff for group 3, group 12, group 41$/m);
    assert.match(r.stdout, /^ {2}reserved direct-relaxable-bdf6e000 direct-relaxable 0xbdf6e000\.\.0xbdf84fff for group 41$/m);
    assert.match(r.stdout, /^ {2}device dev-0000-00-14-3 \{ bdf 0000:00:14\.3; iommu iommu0; group 12 \}$/m);
    assert.match(r.stdout, /^ {2}device dev-amdi0010-00 \{ group 3; iommu iommu0 \} {3}\/\/ not a PCI device: 'AMDI0010:00'$/m);
    // Group 4 lacks AMD-Vi's own regions: behind no IOMMU, so its list stays as captured.
    assert.match(r.stdout, /^ {2}\/\/ group 4 lacks the regions amd-vi adds.*\n {2}device group4-dev \{ group 4 \}/m);
  });

  test('the imported description checks clean and gives each group its captured list', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'host.iommu'), cli(['import', 'sysfs', tree(), '--platform', 'epyc-a']).stdout);
    assert.equal(cli(['check', dir]).status, 0);
    const r = cli(['iova', dir, '--platform', 'epyc-a', '--device', 'dev-0000-c2-00-0']);
    // direct-relaxable is not cut out (RULES §2.2c).
    assert.equal(r.stdout, '0x0-0xfedfffff\n0xfef00000-0xfcffffffff\n0x10000000000-0xffffffffffff\n');
  });

  test('every imported group prints back exactly as captured', () => {
    const host = new AnalysisHost(DOMAINS);
    host.setFile('file:///host.iommu', cli(['import', 'sysfs', tree(), '--platform', 'epyc-a']).stdout);
    const a = host.analyze();
    const p = a.model.platforms.get('epyc-a')!;
    const pr = a.sim.regionsOf(p);
    for (const [n, g] of Object.entries(groups)) {
      const group = pr.groups.find((x) => x.number === BigInt(n))!;
      assert.equal(`${pr.regions(group).list().map(sysfsLine).join('\n')}\n`, g.regions, `group ${n}`);
    }
  });

  test('a directory without groups is an error', () => {
    const r = cli(['import', 'sysfs', tmp()]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no numbered group directories/);
  });
});

describe('iova', () => {
  test('--guest: the container of a guest after its groups attach', () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'a.iommu'),
      `platform p {
  arch x86_64
  iommu dmar0 vt-d { address-width 39 }
  reserved rmrr direct-relaxable 0xbdf6e000 size 92K for usb0
  reserved lpc reserved 0x1000000 size 16M for group 5
  device usb0 { bdf 00:14.0; iommu dmar0; group 5; class usb }
}
guest g on p {
  machine q35 memory 2G
  assign usb0
}
`,
    );
    const r = cli(['iova', dir, '--guest', 'g']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '0x0-0xffffff\n0x2000000-0xfedfffff\n0xfef00000-0x7fffffffff\n');
  });

  test('usage errors and unknown names exit 2 with a message', () => {
    assert.equal(cli(['iova', 'examples']).status, 2);
    assert.match(cli(['iova', 'examples', '--guest', 'nope']).stderr, /no guest 'nope' \(guests: .*vm-db/);
    assert.match(cli(['iova', 'examples', '--platform', 'armsrv-1', '--group', '99']).stderr, /has no device in group 99/);
    assert.match(cli(['iova', 'examples', '--guest', 'vm-db']).stderr, /has no VFIO container/);
  });

  test('a group with a direct region: no container can take it, so no list (RULES §1.6, §2.8)', () => {
    // An Intel host whose firmware gives the integrated USB controller an RMRR (direct, not relaxable here).
    const dir = tmp();
    const file = join(dir, 'host.iommu');
    writeFileSync(
      file,
      `platform r740 {
  arch x86_64
  iommu dmar0 vt-d { address-width 46 }
  reserved rmrr0 direct 0x7a3d9000 size 256K for bmc-usb0 from rmrr
  device bmc-usb0 { bdf 00:14.0; iommu dmar0; group 5 }
  device nic0 { bdf 3b:00.0; iommu dmar0; group 30 }
}
`,
    );
    for (const args of [
      ['--group', '5'],
      ['--device', 'bmc-usb0'],
    ]) {
      const r = cli(['iova', file, '--platform', 'r740', ...args]);
      assert.equal(r.stdout, '');
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /group 5 of platform 'r740' can never be in a VFIO container: device bmc-usb0 has a direct region 0x7a3d9000\.\.0x7a418fff \(it needs a 1:1 mapping\), so VFIO and iommufd refuse the group with -EINVAL/,
      );
    }
    assert.equal(cli(['iova', file, '--platform', 'r740', '--group', '30']).status, 0, 'a group without one still prints its list');
  });

  test('examples: armsrv-1 group 13 is the arm-pci-windows capture', () => {
    const r = cli(['iova', 'examples/seed-002-arm-msi-migration', '--platform', 'armsrv-1', '--group', '13']);
    assert.equal(r.stdout, '0x0-0x7ffffff\n0x8100000-0xdfffffff\n0xf7ff0000-0x7ffffffffff\n0x83000000000-0xffffffffffff\n');
  });
});

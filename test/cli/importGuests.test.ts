/**
 * `iommu-lens import libvirt|qemu` and `export qemu|libvirt` through the bundled CLI: host
 * addresses resolved on a named platform, the command line after `--`, bad input (exit 2
 * with the file and line), and the round trip: import, export, import gives the same guest.
 * A layout QEMU cannot produce is refused (exit 1) with the reason.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, cli } from './run';

const OWN = join(ROOT, 'test', 'fixtures', 'guests');
const base = mkdtempSync(join(tmpdir(), 'iommu-lens-guests-'));
after(() => rmSync(base, { recursive: true, force: true }));
let serial = 0;

function file(name: string, text: string): string {
  const p = join(base, `${serial++}-${name}`);
  writeFileSync(p, text);
  return p;
}

/** An AMD host with the functions the own pairs pass through. */
const PLATFORM = file(
  'epyc.iommu',
  `platform epyc {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  device gpu0 { bdf 0000:41:00.0; iommu amdvi0; group 30 }
  device gpu0-audio { bdf 0000:41:00.1; iommu amdvi0; group 30 }
  device nvme0 { bdf 0000:c1:00.2; iommu amdvi0 }
  device hba0 { bdf 0000:03:00.0; iommu amdvi0 }
}
`,
);

function ok(args: string[]): string {
  const r = cli(args);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The description without its comments: what the model is made of. */
const statements = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/\s*\/\/.*$/, ''))
    .filter((l) => l.trim())
    .join('\n');

describe('import libvirt and import qemu', () => {
  test('host addresses resolve on the named platform; the guest checks with it', () => {
    const out = ok(['import', 'libvirt', join(OWN, 'q35-passthrough.xml'), '--platform', 'epyc', PLATFORM]);
    assert.match(out, /^guest db-primary on epyc \{$/m);
    assert.match(out, /machine q35 memory 16G cpu amd phys-bits 46 version 8\.2/);
    assert.match(out, /assign gpu0 +\/\/ host 0000:41:00\.0 \(hostdev0\)/);
    assert.match(out, /assign gpu0-audio/);
    const g = file('g.iommu', out);
    assert.equal(cli(['check', PLATFORM, g]).status, 0);
    assert.equal(cli(['format', '--check', g]).status, 0);
  });

  test('the command line after --, and a BDF the platform does not have', () => {
    const out = ok([
      'import',
      'qemu',
      '--platform',
      'epyc',
      PLATFORM,
      '--',
      'qemu-system-x86_64',
      '-machine',
      'q35',
      '-m',
      '8G',
      '-device',
      'vfio-pci,host=0000:41:00.0',
      '-device',
      '{"driver":"vfio-pci","host":"0000:99:00.0"}',
    ]);
    assert.match(out, /^guest guest on epyc \{$/m);
    assert.match(out, /assign gpu0/);
    assert.match(out, /not assigned: host 0000:99:00\.0: no device of platform epyc has this BDF/);
  });

  test('bad input: exit 2 with the file and line, no stack trace', () => {
    const refused = (args: string[], re: RegExp) => {
      const r = cli(args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    };
    refused(
      ['import', 'qemu', file('bad.args', 'qemu-system-x86_64 \\\n-m 4G \\\n-device \'{"driver":\n')],
      /bad\.args:3: a single quote that is never closed/,
    );
    refused(['import', 'libvirt', file('bad.xml', '<domain>\n  <name>x</name>\n</dom>\n')], /bad\.xml:3: not well-formed XML/);
    refused(['import', 'libvirt', join(OWN, 'q35-passthrough.xml'), PLATFORM], /need --platform NAME/);
    refused(
      ['import', 'libvirt', join(OWN, 'q35-passthrough.xml'), '--platform', 'nope', PLATFORM],
      /no platform 'nope' in .*\(platforms: epyc\)/,
    );
    refused(['import', 'qemu'], /import qemu needs a FILE \(or the command line after --\)/);
    refused(['import', 'qemu', '--'], /needs the command line after --/);
    refused(['export', 'qemu', '--guest', 'x', PLATFORM], /no guest 'x' \(guests: none\)/);
    refused(['export', 'xml', '--guest', 'x', PLATFORM], /export needs 'qemu' or 'libvirt'/);
    // A file linked from elsewhere is not followed; a file over 16 MiB is not read.
    const link = join(base, `${serial++}-linked.xml`);
    symlinkSync(join(OWN, 'q35-passthrough.xml'), link);
    refused(['import', 'libvirt', link], /linked\.xml': a symbolic link that leads outside its directory: not followed/);
    refused(
      ['import', 'qemu', file('huge.args', Buffer.alloc((16 << 20) + 1, 0x20).toString())],
      /huge\.args': over 16777216 bytes \(16 MiB\): not a QEMU command line/,
    );
  });
});

describe('round trip: import, export, import gives the same guest', () => {
  for (const pair of ['q35-passthrough', 'q35-iommufd-viommu', 'i440fx-below4g', 'q35-pcihole64']) {
    for (const format of ['qemu', 'libvirt'] as const) {
      test(`${pair} through ${format}`, () => {
        const first = ok(['import', 'qemu', join(OWN, `${pair}.args`), '--name', 'g', '--platform', 'epyc', PLATFORM]);
        const exported = ok(['export', format, '--guest', 'g', PLATFORM, file('g.iommu', first)]);
        const again =
          format === 'qemu'
            ? ok([
                'import',
                'qemu',
                file('g.args', `qemu-system-x86_64 \\\n${exported.replace(/^#.*\n/gm, '')}`),
                '--name',
                'g',
                '--platform',
                'epyc',
                PLATFORM,
              ])
            : ok([
                'import',
                'libvirt',
                file(
                  'g.xml',
                  // The domain's type is the accelerator; the fragment says which when it is not kvm.
                  `<domain type='${exported.includes("<domain type='qemu'>") ? 'qemu' : 'kvm'}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n<name>g</name>\n${exported}</domain>\n`,
                ),
                '--name',
                'g',
                '--platform',
                'epyc',
                PLATFORM,
              ]);
        assert.equal(statements(again), statements(first));
      });
    }
  }

  test("the 64-bit PCI hole is the root controller's <pcihole64> in libvirt XML, -global ...pci-hole64-size for QEMU", () => {
    // libvirt tests/qemuxmlconfdata/pcihole64-q35: <pcihole64 unit='KiB'> becomes -global q35-pcihost.pci-hole64-size=NK.
    const first = ok(['import', 'libvirt', join(OWN, 'q35-pcihole64.xml'), '--name', 'g', '--platform', 'epyc', PLATFORM]);
    assert.match(first, /machine q35 memory 64G .*pci-hole64-size 512G/);
    const xml = ok(['export', 'libvirt', '--guest', 'g', PLATFORM, file('g.iommu', first)]);
    assert.match(
      xml,
      /<controller type='pci' index='0' model='pcie-root'>\n {4}<pcihole64 unit='KiB'>536870912<\/pcihole64>\n {2}<\/controller>/,
    );
    assert.doesNotMatch(xml, /qemu:commandline/);
    assert.match(ok(['export', 'qemu', '--guest', 'g', PLATFORM, file('g.iommu', first)]), /-global q35-pcihost\.pci-hole64-size=512G/);
  });

  test('a virt guest with a DIMM, on an arm64 host', () => {
    const arm = file(
      'arm.iommu',
      'platform altra {\n  arch arm64\n  iommu smmu0 smmuv3\n  device nic0 { bdf 0002:01:00.0; iommu smmu0 stream 0x100 }\n}\n',
    );
    const first = ok(['import', 'libvirt', join(OWN, 'virt-dimm-smmuv3.xml'), '--name', 'g', '--platform', 'altra', arm]);
    assert.match(first, /ram dimm0 0x240000000 size 4G/);
    const args = ok(['export', 'qemu', '--guest', 'g', arm, file('g.iommu', first)]);
    assert.match(args, /-device pc-dimm,id=dimm0,memdev=mem-dimm0,addr=0x240000000/);
    const again = ok([
      'import',
      'qemu',
      file('g.args', `qemu-system-aarch64 \\\n${args.replace(/^#.*\n/gm, '')}`),
      '--name',
      'g',
      '--platform',
      'altra',
      arm,
    ]);
    assert.equal(statements(again), statements(first).replace(/ {2}ram dimm0 .*/, '  ram dimm0 0x240000000 size 4G'));
  });

  test("the layout command's RAM lines export as max-ram-below-4g", () => {
    const g = file('laid.iommu', 'guest laid on epyc {\n  ram low 0x0 size 1G\n  ram high 0x100000000 size 15G\n  assign nvme0\n}\n');
    const out = ok(['export', 'qemu', '--guest', 'laid', PLATFORM, g]);
    assert.match(out, /-machine q35,max-ram-below-4g=1G \\\n-m size=16G \\\n-device vfio-pci,host=0000:c1:00\.2,id=hostdev0\n$/);
  });

  test('a layout QEMU cannot produce is refused with the reason (exit 1)', () => {
    const g = file('odd.iommu', 'guest odd on epyc {\n  ram low 0x0 size 1G\n  ram mid 0x80000000 size 1G\n}\n');
    const r = cli(['export', 'libvirt', '--guest', 'odd', PLATFORM, g]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^iommu-lens: guest odd: the ram line mid \(0x80000000\.\.0xbfffffff\) lies below 0x100000000, where QEMU's device-memory region for DIMMs starts: not a layout QEMU can produce\n$/,
    );
  });
});

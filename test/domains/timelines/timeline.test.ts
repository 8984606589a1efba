/**
 * Timelines, migration and pools (RULES §3.5, §4) and QEMU's PC layout rules (§3.3),
 * from descriptions shaped like seed 002's hosts: an Altra host with only the SMMU's
 * sw-msi window, and an older host whose kernel exports its PCI windows as reserved.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hover, inlayHints } from '../../../server/src/ide';
import { guestRam } from '../../../server/src/sim';
import { analyze, applyEdits, codesAt, slice, uri } from '../../helpers';
import { resultOf } from '../../../server/src/sim';
import { TIMELINES_ENGINE } from '../../../server/src/domains/timelines/engine';

const HOST_0 = `platform armsrv-0 {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; msi remapped; page-sizes 4K 2M 1G }
  reserved swmsi sw-msi 0x8000000 size 1M
  device pf0 { bdf 0000:01:00.0; iommu smmu0 stream 0x100; group 10 }
  device vf0 { bdf 0000:01:00.2; vf-of pf0; iommu smmu0 stream 0x102; group 14 }
  device vf1 { bdf 0000:01:00.3; vf-of pf0; iommu smmu0 stream 0x103; group 15 }
}`;

const HOST_1 = `platform armsrv-1 {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; msi remapped; page-sizes 64K 512M }
  reserved swmsi     sw-msi   0x8000000..0x80fffff
  reserved pci-win32 reserved 0xe0000000..0xf7feffff
  reserved pci-win64 reserved 0x80000000000..0x82fffffffff
  device pf0 { bdf 0000:01:00.0; iommu smmu0 stream 0x100; group 9 }
  device vf0 { bdf 0000:01:00.2; vf-of pf0; iommu smmu0 stream 0x102; group 13 }
  device vf1 { bdf 0000:01:00.3; vf-of pf0; iommu smmu0 stream 0x103; group 17 }
}`;

const VM_DB = 'guest vm-db on armsrv-0 {\n  machine virt memory 4G\n  container type1\n}';

function workspace(timeline: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'h0.iommu': HOST_0, 'h1.iommu': HOST_1, 'vm.iommu': VM_DB, 't.iommu': timeline, ...extra };
}

/** The state of `guest` after step `k` of timeline `t`. */
function after(a: ReturnType<typeof analyze>, t: string, k: number, guest: string) {
  const run = resultOf(a.sim, TIMELINES_ENGINE).get(a.model.timelines.get(t)!)!;
  return run.states[k]!.guests.find((g) => g.guest.sym.name === guest)!;
}

describe('seed 002: start on one host, migrate, hot-add', () => {
  test("the hot-add after migrating fails on the target host's PCI window, and the finding explains how the map got there", () => {
    const files = workspace('timeline evacuate {\n  start vm-db\n  migrate vm-db to armsrv-1\n  hotplug vf1 into vm-db\n}');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@hotplug vf1 into vm-db']);
    const f = a.all[0]!;
    assert.match(
      f.message,
      /^hot-adding vf1 to guest vm-db on armsrv-1: guest RAM mach-virt.ram 0x40000000..0x13fffffff overlaps reserved region pci-win32/,
    );
    assert.match(
      f.message,
      /vfio 0000:01:00.3: failed to setup container for group 17: memory listener initialization failed: Region mach-virt.ram: vfio_container_dma_map\(<container>, 0x40000000, 0x100000000, <vaddr>\) = -22 \(Invalid argument\)/,
    );
    const related = f.related.map((r) => `${r.uri.split('/').pop()}: ${slice(files[r.uri.split('/').pop()!]!, r.span)}`);
    assert.deepEqual(related, [
      'h1.iommu: reserved pci-win32 reserved 0xe0000000..0xf7feffff',
      'vm.iommu: machine virt memory 4G',
      't.iommu: start vm-db',
      't.iommu: migrate vm-db to armsrv-1',
    ]);
    // The hot-add was refused: the guest holds nothing, its container is empty.
    const s = after(a, 'evacuate', 2, 'vm-db');
    assert.equal(s.platform?.sym.name, 'armsrv-1');
    assert.deepEqual(s.devices, []);
    assert.equal(s.container.groups.length, 0);
  });

  test('the same hot-add without the migration passes, and the state says what the guest holds', () => {
    const files = workspace('timeline local {\n  start vm-db\n  hotplug vf1 into vm-db\n}');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), []);
    const s = after(a, 'local', 1, 'vm-db');
    assert.equal(s.platform?.sym.name, 'armsrv-0');
    assert.deepEqual(
      s.devices.map((h) => `${h.device.sym.name} group ${h.gr.group.number}`),
      ['vf1 group 15'],
    );
    assert.deepEqual(
      s.container.usable().map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`),
      ['0-7ffffff', '8100000-ffffffffffff'],
    );
    assert.equal(s.container.mappings.length, 1);
  });

  test('hover on a step shows every guest after it', () => {
    const files = workspace('timeline local {\n  start vm-db\n  hotplug vf1 into vm-db\n}');
    const a = analyze(files);
    const text = files['t.iommu']!;
    const h = hover(a, uri('t.iommu'), text.indexOf('hotplug') + 2)!;
    assert.match(h.markdown, /after `hotplug vf1 into vm-db`/);
    assert.match(h.markdown, /guest \*\*vm-db\*\* on armsrv-0: running/);
    assert.match(h.markdown, /devices: vf1 \(group 15\)/);
    assert.match(h.markdown, /0x8100000-0xffffffffffff/);
    assert.equal(slice(text, h.span), 'hotplug vf1 into vm-db');
    // Before: after `start` nothing is held.
    assert.match(hover(a, uri('t.iommu'), text.indexOf('start') + 1)!.markdown, /devices: none/);
  });
});

describe('timeline steps need the world they act on', () => {
  test('hot-add into a guest that is not running; the fix starts it first', () => {
    const files = workspace('timeline t {\n  hotplug vf1 into vm-db\n}');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['guest-not-running@hotplug vf1 into vm-db']);
    const edit = a.all[0]!.fixes[0]!.edits[0]!;
    assert.equal(edit.newText, 'start vm-db\n  ');
    assert.equal(edit.span.start, files['t.iommu']!.indexOf('hotplug'));
  });

  test('start twice, stop a stopped guest, unplug what is not plugged', () => {
    const files = workspace('timeline t {\n  start vm-db\n  start vm-db\n  unplug vf0 from vm-db\n  stop vm-db\n  stop vm-db\n}');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), [
      'guest-already-running@start vm-db',
      'device-not-plugged@unplug vf0 from vm-db',
      'guest-not-running@stop vm-db',
    ]);
    assert.equal(a.all[0]!.span.start, files['t.iommu']!.indexOf('start vm-db', 16));
  });

  test('two running guests cannot hold one group; after the unplug the other may take it', () => {
    const vm2 = 'guest vm-web on armsrv-0 {\n  machine virt memory 2G\n}';
    const files = workspace(
      'timeline t {\n  start vm-db\n  start vm-web\n  hotplug vf1 into vm-db\n  hotplug vf1 into vm-web\n  unplug vf1\n  hotplug vf1 into vm-web\n}',
      { 'vm2.iommu': vm2 },
    );
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['device-assigned-twice@hotplug vf1 into vm-web']);
    assert.match(a.all[0]!.related[0]!.message, /vf1 is hot-added here/);
    assert.deepEqual(
      after(a, 't', 5, 'vm-web').devices.map((h) => h.device.sym.name),
      ['vf1'],
    );
    assert.deepEqual(after(a, 't', 5, 'vm-db').devices, []);
  });

  test('unplugging the last device drops the container: the next hot-add maps the RAM again', () => {
    const files = workspace('timeline t {\n  start vm-db\n  hotplug vf0 into vm-db\n  unplug vf0 from vm-db\n  hotplug vf1 into vm-db\n}');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), []);
    assert.equal(after(a, 't', 2, 'vm-db').container.mappings.length, 0);
    assert.equal(after(a, 't', 3, 'vm-db').container.mappings.length, 1);
    // Snapshots are frozen: step 1 still shows vf0.
    assert.deepEqual(
      after(a, 't', 1, 'vm-db').devices.map((h) => h.device.sym.name),
      ['vf0'],
    );
  });

  test('a guest declared with a device: start replays it quietly and the device moves with a migration', () => {
    const vm = 'guest vm-nic on armsrv-0 {\n  machine virt memory 2G\n  assign vf0\n}';
    const files = workspace('timeline t {\n  start vm-nic\n  migrate vm-nic to armsrv-1\n}', { 'nic.iommu': vm });
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), []);
    const s = after(a, 't', 1, 'vm-nic');
    assert.deepEqual(
      s.devices.map((h) => `${h.device.sym.container}.${h.device.sym.name} group ${h.gr.group.number}`),
      ['armsrv-1.vf0 group 13'],
    );
  });
});

describe('RULES §4: migration checks', () => {
  test('a device the guest holds must exist on the target', () => {
    const small =
      'platform armsrv-2 {\n  arch arm64\n  iommu smmu0 smmuv3 { address-width 48 }\n  device nic9 { bdf 0000:01:00.2; iommu smmu0 stream 0x9 }\n}';
    const files = workspace('timeline t {\n  start vm-db\n  hotplug vf0 into vm-db\n  migrate vm-db to armsrv-2\n}', { 'h2.iommu': small });
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['migrate-device-missing@migrate vm-db to armsrv-2']);
    assert.match(a.all[0]!.message, /holds vf0 \(0000:01:00.2\), and armsrv-2 has no device of that name \(nic9 sits at that address\)/);
    assert.equal(slice(files['t.iommu']!, a.all[0]!.related[0]!.span), 'hotplug vf0 into vm-db');
  });

  test("a device carried over is realized on the target: its conflict is the migration's", () => {
    const files = workspace('timeline t {\n  start vm-db\n  hotplug vf0 into vm-db\n  migrate vm-db to armsrv-1\n}');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@migrate vm-db to armsrv-1']);
    assert.match(a.all[0]!.message, /^after migrating guest vm-db to armsrv-1, guest RAM mach-virt.ram .*group 13/);
  });

  test('a target IOMMU narrower than the guest RAM', () => {
    const narrow =
      'platform old-1 {\n  arch arm64\n  iommu smmu0 smmuv3 { address-width 40 }\n  device vf0 { iommu smmu0 stream 0x102 }\n}';
    const big = 'guest vm-big on armsrv-0 {\n  machine virt memory 1T\n}';
    const files = workspace('timeline t {\n  start vm-big\n  migrate vm-big to old-1\n}', { 'o.iommu': narrow, 'b.iommu': big });
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['migrate-address-width@migrate vm-big to old-1']);
    assert.match(a.all[0]!.message, /RAM reaches 0x1003fffffff, beyond the aperture of smmu0 \(40 bits, up to 0xffffffffff\) on old-1/);
  });
});

describe('pools: every guest against every host it may move to', () => {
  const pool = 'pool rack { armsrv-0, armsrv-1 }';

  test("a machine-computed map over another host's window: virt has no 4G layout for the pool, so no fix and the largest size", () => {
    const files = {
      'h0.iommu': HOST_0,
      'h1.iommu': HOST_1,
      'p.iommu': pool,
      'vm.iommu': 'guest vm-db on armsrv-0 {\n  machine virt memory 4G\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['pool-ram-conflict@machine virt memory 4G']);
    const f = a.all[0]!;
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /overlaps reserved region pci-win32 .* on armsrv-1, which pool rack lets it migrate to/);
    // hw/arm/virt.c: one block from 1 GiB, so 0xe0000000 - 0x40000000 is the most (RULES §3.8, §3.9).
    assert.match(f.message, /no virt layout of 4G is safe on every host of pool rack: the largest that is has 2560M/);
    assert.deepEqual(f.fixes, []);
  });

  test('ram lines become one machine line QEMU can produce, comments kept', () => {
    const vm =
      'guest vm-x on armsrv-0 {\n  ram lo 0x40000000 size 1G   // first\n  ram hi 0xc0000000 size 1G\n  ram top 0x200000000 size 512M\n}';
    const files = { 'h0.iommu': HOST_0, 'h1.iommu': HOST_1, 'p.iommu': pool, 'vm.iommu': vm };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['pool-ram-conflict@ram hi 0xc0000000 size 1G']);
    const text = applyEdits(vm, a.all[0]!.fixes[0]!.edits);
    // QEMU cannot place RAM piece by piece: one machine line with the 2560M, in place of the first ram line.
    assert.equal(text, 'guest vm-x on armsrv-0 {\n  machine virt memory 2560M   // first\n  \n}');
  });

  test("RAM beyond another host's aperture; an msi-window there is only explained", () => {
    const narrow =
      'platform old-1 {\n  arch arm64\n  iommu smmu0 smmuv3 { address-width 39 }\n  reserved win reserved 0xf0000000..0xf7ffffff\n  device vf0 { iommu smmu0 stream 0x102 }\n}';
    const vm = 'guest vm-y on armsrv-0 {\n  ram low 0x40000000 size 1G\n  ram top 0x8000000000 size 1G\n  msi-window 0xf0000000 size 1M\n}';
    const files = { 'h0.iommu': HOST_0, 'o.iommu': narrow, 'p.iommu': 'pool r2 { armsrv-0, old-1 }', 'vm.iommu': vm };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), [
      'pool-address-width@ram top 0x8000000000 size 1G',
      'msi-window-ignored@msi-window 0xf0000000 size 1M',
    ]);
  });
});

describe('RULES §3.3: the 64-bit PCI hole, machine versions and phys-bits', () => {
  const EPYC =
    'platform epyc {\n  arch x86_64\n  iommu amdvi0 amd-vi { address-width 48 }\n  device gpu0 { bdf 41:00.0; iommu amdvi0; group 40 }\n}';
  const layout = (machine: string) => {
    const a = analyze({ 'p.iommu': EPYC, 'g.iommu': `guest g on epyc {\n  machine ${machine}\n}` });
    return guestRam(a.model.guests.get('g')!).map((r) => `${r.name} ${r.range.start.toString(16)}-${r.range.end.toString(16)}`);
  };

  test('the 64-bit PCI hole counts: 1000 GiB of RAM stays below the HT hole, yet the guest is relocated', () => {
    assert.deepEqual(layout('q35 memory 1000G cpu amd'), ['ram-below-4g 0-7fffffff', 'ram-above-4g 10000000000-1f97fffffff']);
    // A smaller hole keeps it below: 1002 GiB + 8 GiB < 0xfd00000000 (1012 GiB).
    assert.deepEqual(layout('q35 memory 1000G cpu amd pci-hole64-size 8G'), [
      'ram-below-4g 0-7fffffff',
      'ram-above-4g 100000000-fa7fffffff',
    ]);
  });

  test('machine types up to 7.0 do not relocate; the DMA map then fails on the HT hole', () => {
    assert.deepEqual(layout('q35 version 7.0 memory 1T cpu amd'), ['ram-below-4g 0-7fffffff', 'ram-above-4g 100000000-1007fffffff']);
    assert.deepEqual(layout('q35 version 7.1 memory 1T cpu amd'), ['ram-below-4g 0-7fffffff', 'ram-above-4g 10000000000-1ff7fffffff']);
    // phys-bits 48: QEMU's default 40 for a named model would not reach the hole above 1 TiB (RULES §3.7).
    const files = {
      'p.iommu': EPYC,
      'g.iommu': 'guest g on epyc {\n  machine q35 version 6.2 memory 1T cpu amd phys-bits 48\n  assign gpu0\n}',
    };
    assert.deepEqual(codesAt(analyze(files), files), ['ram-over-reserved@machine q35 version 6.2 memory 1T cpu amd phys-bits 48']);
  });

  test("phys-bits too low: QEMU's message, and a fix with the bits the layout needs", () => {
    const files = { 'p.iommu': EPYC, 'g.iommu': 'guest g on epyc {\n  machine q35 memory 1T cpu amd phys-bits 40\n}' };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['phys-bits-too-low@phys-bits 40']);
    assert.match(a.all[0]!.message, /QEMU exits with "Address space limit 0xffffffffff < 0x2077fffffff phys-bits too low \(40\)"/);
    assert.deepEqual(
      a.all[0]!.fixes.map((f) => [f.title, f.edits[0]!.newText]),
      [['Set phys-bits 42', '42']],
    );
    const ok = { ...files, 'g.iommu': files['g.iommu'].replace('40', '42') };
    assert.deepEqual(codesAt(analyze(ok), ok), []);
  });

  test('a bad version is reported', () => {
    const files = { 'p.iommu': EPYC, 'g.iommu': 'guest g on epyc {\n  machine q35 version 7.0x memory 4G\n}' };
    assert.deepEqual(codesAt(analyze(files), files), ['invalid-number@7.0x']);
  });

  test('hover and inlay hints show the computed layout', () => {
    const files = {
      'p.iommu': EPYC,
      'g.iommu': 'guest g on epyc {\n  machine q35 memory 1000G cpu amd phys-bits 40\n  ram extra 0x30000000000 size 4K\n}',
    };
    const a = analyze(files);
    const text = files['g.iommu'];
    const h = hover(a, uri('g.iommu'), text.indexOf('q35'))!;
    assert.match(h.markdown, /ram-above-4g +0x10000000000..0x1f97fffffff/);
    assert.match(h.markdown, /64-bit PCI hole: `0x1f980000000..0x2017fffffff`/);
    assert.match(h.markdown, /would reach the HyperTransport hole/);
    assert.match(h.markdown, /phys-bits 40 is too low/);
    const hints = inlayHints(a, uri('g.iommu'));
    assert.deepEqual(
      hints.map((x) => [text.slice(0, x.offset).split('\n').pop(), x.label]),
      [
        [
          '  machine q35 memory 1000G cpu amd phys-bits 40',
          ' → ram-below-4g 0x0..0x7fffffff, ram-above-4g 0x10000000000..0x1f97fffffff (above 1 TiB: AMD HT hole)',
        ],
        ['  ram extra 0x30000000000 size 4K', ' ..0x30000000fff'],
      ],
    );
  });
});

/**
 * Pool-safe layouts QEMU can produce (RULES §3.9, §4): a `machine` line whose knobs are the
 * size and, on q35 / i440fx, max-ram-below-4g (QEMU hw/i386/pc_q35.c pc_q35_init: the split
 * is min(QEMU's, max-ram-below-4g); hw/i386/pc_piix.c pc_init1), with the AMD 1 TiB
 * relocation left to QEMU (hw/i386/pc.c pc_memory_init); virt: one block at 1 GiB
 * (hw/arm/virt.c). Each fix is applied and the pool checked again by the real engine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../../server/src/model';
import { FOUR_GIB } from '../../server/src/model/interval';
import { searchLayout, type MachineKnobs } from '../../server/src/domains/pools/sim/ramLayout';
import { realizeFor } from '../../server/src/domains/pools/sim/pools';
import { analyze, applyEdits, only } from '../helpers';

const G = 1n << 30n;
const M = 1n << 20n;

// An AMD host: the AMD-Vi driver's HT hole and interrupt range, and an IVMD exclusion range
// reported as `reserved` (the range is the one in the IVRS of a ThinkPad T14 Gen 3,
// test/fixtures/acpi/Notebook/Lenovo-ThinkPad-T14-Gen-3-21CF004PGE-696E48381F84.IVRS.dsl).
const AMD_HOST = `platform epyc-a {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  reserved ivmd-excl reserved 0x7132f000 size 0x26000
  device gpu0 { bdf 0000:41:00.0; iommu amdvi0; group 40 }
}`;
// An Intel host with RMRRs for its USB controller and BMC (ranges from the DMAR tables of
// test/fixtures/acpi/Server): `direct`, so those devices are never assigned and guest RAM need
// not avoid them (Linux drivers/iommu/intel/iommu.c, intel_iommu_get_resv_regions).
const INTEL_HOST = `platform xeon-b {
  arch x86_64
  iommu dmar0 vt-d { address-width 48 }
  device usb0 { bdf 0000:00:14.0; iommu dmar0; group 3 }
  device bmc0 { bdf 0000:02:00.0; iommu dmar0; group 9 }
  reserved rmrr0 direct 0x7df6f000..0x7df7efff for usb0
  reserved rmrr1 direct 0x75f6f000..0x79f6efff for bmc0
  device nic0 { bdf 0000:3b:00.0; iommu dmar0; group 30 }
}`;
const X86_POOL = 'pool mixed { epyc-a, xeon-b }';

const pool = (files: Record<string, string>, guests: Record<string, string>) => analyze({ ...files, ...guests });

/** The guest's `machine` line, started on every host of the pool with a device: every finding. */
function onEveryHost(hosts: Record<string, { text: string; device: string }>, poolText: string, body: string): Finding[] {
  const files: Record<string, string> = { 'pool.iommu': poolText };
  for (const [name, h] of Object.entries(hosts)) {
    files[`${name}.iommu`] = h.text;
    files[`g-${name}.iommu`] = `guest g-${name} on ${name} {\n${body}\n  assign ${h.device}\n}`;
  }
  return analyze(files).all;
}

describe('pool-ram-conflict: a machine line QEMU can produce', () => {
  const hosts = { 'epyc-a': { text: AMD_HOST, device: 'gpu0' }, 'xeon-b': { text: INTEL_HOST, device: 'nic0' } };

  test('q35 16G on the Intel host runs into the AMD host IVMD: the fix lowers max-ram-below-4g to 1G', () => {
    const guest = 'guest db on xeon-b {\n  machine q35 memory 16G   // 2G low: 0..0x7fffffff\n  assign nic0\n}';
    const files = { 'a.iommu': AMD_HOST, 'b.iommu': INTEL_HOST, 'p.iommu': X86_POOL };
    const a = pool(files, { 'g.iommu': guest });
    const f = only(a.all, 'pool-ram-conflict');
    assert.match(
      f.message,
      /ram-below-4g 0x0\.\.0x7fffffff and ram-above-4g 0x100000000\.\.0x47fffffff overlaps reserved region ivmd-excl/,
    );
    // 0x7132f000 rounded down to 1 GiB: QEMU warns of poor performance for a split that is not a
    // multiple of 1 GiB below more RAM above (pc_q35_init), so 1G rather than 0x71200000.
    assert.equal(f.fixes.length, 1);
    assert.equal(f.fixes[0]!.title, 'Lay out 16G of RAM safely for pool mixed: machine q35 memory 16G max-ram-below-4g 1G');
    const fixed = applyEdits(guest, f.fixes[0]!.edits);
    assert.equal(fixed, 'guest db on xeon-b {\n  machine q35 memory 16G max-ram-below-4g 1G   // 2G low: 0..0x7fffffff\n  assign nic0\n}');
    assert.deepEqual(pool(files, { 'g.iommu': fixed }).all, []);
    // Pasted into a guest on every host of the pool with a device: clean everywhere.
    assert.deepEqual(onEveryHost(hosts, X86_POOL, '  machine q35 memory 16G max-ram-below-4g 1G'), []);
  });

  test('ram lines QEMU cannot place become one machine line; an i440fx split below the IVMD', () => {
    const guest = 'guest old on xeon-b {\n  machine i440fx\n  ram lo 0x0 size 3G\n  ram hi 0x100000000 size 1G\n  assign nic0\n}';
    const files = { 'a.iommu': AMD_HOST, 'b.iommu': INTEL_HOST, 'p.iommu': X86_POOL };
    const f = only(pool(files, { 'g.iommu': guest }).all, 'pool-ram-conflict');
    // 4G of RAM reaches pc_init1's split, so max-ram-below-4g is the split itself; 1G is quiet.
    assert.equal(f.fixes[0]!.title, 'Lay out 4G of RAM safely for pool mixed: machine i440fx memory 4G max-ram-below-4g 1G');
    const fixed = applyEdits(guest, f.fixes[0]!.edits);
    assert.equal(fixed, 'guest old on xeon-b {\n  machine i440fx memory 4G max-ram-below-4g 1G\n  assign nic0\n}');
    assert.deepEqual(pool(files, { 'g.iommu': fixed }).all, []);
  });

  test('Intel vCPU, 1020G: above-4G RAM reaches the HT hole whatever the split; the largest safe size and the host', () => {
    const guest = 'guest big on xeon-b {\n  machine q35 memory 1020G phys-bits 48\n}';
    const files = { 'a.iommu': AMD_HOST, 'b.iommu': INTEL_HOST, 'p.iommu': X86_POOL };
    const f = only(pool(files, { 'g.iommu': guest }).all, 'pool-ram-conflict');
    assert.deepEqual(f.fixes, []);
    // Low RAM below the IVMD (0x71200000, 2 MiB aligned), above-4G RAM up to the HT hole (1008 GiB).
    const largest = 0x7120_0000n + 1008n * G;
    assert.equal(largest % M, 0n);
    assert.ok(
      f.message.endsWith(
        `; no q35 layout of 1020G is safe on every host of pool mixed: the largest that is has ${largest / M}M ('machine q35 memory ${largest / M}M max-ram-below-4g 1810M phys-bits 48'); the HyperTransport hole (reserved 0xfd00000000..0xffffffffff, added by the amd-vi IOMMU amdvi0) on epyc-a blocks more`,
      ),
      f.message,
    );
    assert.deepEqual(onEveryHost(hosts, X86_POOL, `  machine q35 memory ${largest / M}M max-ram-below-4g 1810M phys-bits 48`), []);
  });

  // Two AMD hosts (a guest keeps its vCPU vendor across a migration): one without the IVMD.
  const AMD_C = AMD_HOST.replace('epyc-a', 'epyc-c').replace(/ {2}reserved ivmd-excl.*\n/, '');
  const AMD_POOL = 'pool amd { epyc-a, epyc-c }';

  test('AMD vCPU, 1020G: QEMU relocates above-4G RAM to 1 TiB by itself; only the split moves', () => {
    const guest = 'guest big on epyc-c {\n  machine q35 memory 1020G cpu amd phys-bits 48\n  assign gpu0\n}';
    const files = { 'a.iommu': AMD_HOST, 'c.iommu': AMD_C, 'p.iommu': AMD_POOL };
    const f = only(pool(files, { 'g.iommu': guest }).all, 'pool-ram-conflict');
    assert.match(f.message, /ram-below-4g 0x0\.\.0x7fffffff and ram-above-4g 0x10000000000\.\./);
    assert.equal(
      f.fixes[0]!.title,
      'Lay out 1020G of RAM safely for pool amd: machine q35 memory 1020G max-ram-below-4g 1G cpu amd phys-bits 48',
    );
    const fixed = applyEdits(guest, f.fixes[0]!.edits);
    assert.deepEqual(pool(files, { 'g.iommu': fixed }).all, []);
  });

  test('no phys-bits and no cpu-model: qemu64 has 40 (target/i386/cpu.c), so the relocated 1020G has no layout', () => {
    const guest = 'guest big on epyc-c {\n  machine q35 memory 1020G cpu amd\n}';
    const files = { 'a.iommu': AMD_HOST, 'c.iommu': AMD_C, 'p.iommu': AMD_POOL };
    const a = pool(files, { 'g.iommu': guest }).all;
    const f = only(a, 'pool-ram-conflict');
    assert.deepEqual(f.fixes, []);
    assert.match(f.message, /the default of 40 phys-bits \(no phys-bits given: qemu64, the default CPU model/);
    // With the host's CPU under KVM the host's phys-bits apply, and QEMU's relocation is the layout.
    const host = pool(files, { 'g.iommu': guest.replace('cpu amd', 'cpu amd cpu-model host') }).all;
    assert.equal(only(host, 'pool-ram-conflict').fixes.length, 1);
  });

  test('machine version 7.0 does not relocate (enforce_amd_1tb_hole off): 1020G has no safe layout', () => {
    const guest = 'guest big on epyc-c {\n  machine q35 memory 1020G cpu amd version 7.0 phys-bits 48\n}';
    const files = { 'a.iommu': AMD_HOST, 'c.iommu': AMD_C, 'p.iommu': AMD_POOL };
    // The HT hole is on its own host too: vfio's finding there; the pool's finding names epyc-a.
    const f = only(pool(files, { 'g.iommu': guest }).all, 'pool-ram-conflict');
    assert.deepEqual(f.fixes, []);
    assert.match(
      f.message,
      /no q35 layout of 1020G is safe on every host of pool amd: the largest that is has 1034002M \('machine q35 memory 1034002M max-ram-below-4g 1810M cpu amd version 7\.0 phys-bits 48'\); the HyperTransport hole .* on epyc-a and the HyperTransport hole .* on epyc-c block more$/,
    );
  });
});

describe('virt: one block at 1 GiB (RULES §3.8)', () => {
  // rack-b0 of examples/rack-pool: a kernel that exports the 32-bit PCI window as reserved.
  const OLD = `platform old-b {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; page-sizes 64K 512M }
  reserved pci-win32 reserved 0xe0000000..0xf7feffff
  device vf1 { bdf 0000:01:00.3; iommu smmu0 stream 0x103; group 17 }
}`;
  const NEW = `platform new-a {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; page-sizes 4K 2M 1G }
  device vf1 { bdf 0000:01:00.3; iommu smmu0 stream 0x103; group 15 }
}`;
  const POOL = 'pool arm { new-a, old-b }';

  test('4G: no layout, the largest is 2560M and old-b blocks more; no quick fix', () => {
    const a = analyze({ 'a.iommu': NEW, 'b.iommu': OLD, 'p.iommu': POOL, 'g.iommu': 'guest web on new-a {\n  machine virt memory 4G\n}' });
    const f = only(a.all, 'pool-ram-conflict');
    assert.deepEqual(f.fixes, []);
    assert.match(
      f.message,
      /; no virt layout of 4G is safe on every host of pool arm: the largest that is has 2560M \('machine virt memory 2560M'\); reserved region pci-win32 \(reserved 0xe0000000\.\.0xf7feffff\) on old-b blocks more$/,
    );
    const hosts = { 'new-a': { text: NEW, device: 'vf1' }, 'old-b': { text: OLD, device: 'vf1' } };
    assert.deepEqual(onEveryHost(hosts, POOL, '  machine virt memory 2560M'), []);
  });

  test('a region over 1 GiB leaves no size at all', () => {
    const low = OLD.replace('0xe0000000..0xf7feffff', '0x40000000..0x4fffffff');
    const a = analyze({ 'a.iommu': NEW, 'b.iommu': low, 'p.iommu': POOL, 'g.iommu': 'guest web on new-a {\n  machine virt memory 1G\n}' });
    assert.match(
      only(a.all, 'pool-ram-conflict').message,
      /no virt layout of 1G is safe on every host of pool arm, nor of any smaller size: reserved region pci-win32 .* on old-b blocks it$/,
    );
  });
});

describe('searchLayout', () => {
  const bounds = (avoid: { start: bigint; end: bigint }[], limit = (1n << 48n) - 1n) => ({ avoid, limit, align: 2n * M });

  test('a layout already clear keeps QEMU’s own split (no max-ram-below-4g)', () => {
    const r = searchLayout(bounds([{ start: 0xfee0_0000n, end: 0xfeef_ffffn }]), { type: 'q35', memory: 16n * G }, realizeFor());
    assert.ok(r.ok);
    assert.equal(r.laid.knobs.maxRamBelow4g, undefined);
    assert.deepEqual(
      r.laid.layout.ram.map((x) => [x.range.start, x.range.end]),
      [
        [0n, 0x7fff_ffffn],
        [FOUR_GIB, FOUR_GIB + 14n * G - 1n],
      ],
    );
  });

  test('the narrowest aperture: RAM past it has no layout; the largest stops below it', () => {
    const want: MachineKnobs = { type: 'virt', memory: 600n * G };
    const r = searchLayout(bounds([], (1n << 39n) - 1n), want, realizeFor());
    assert.ok(!r.ok);
    assert.equal(r.blocker.kind, 'limit');
    assert.equal(r.largest?.knobs.memory, (1n << 39n) - G);
  });

  test('a split below 1 GiB: a 2 MiB multiple (max-ram-below-4g=0 would mean "not set")', () => {
    const r = searchLayout(bounds([{ start: 0x800_0000n, end: 0x80f_ffffn }]), { type: 'q35', memory: 4n * G }, realizeFor());
    assert.ok(r.ok);
    assert.equal(r.laid.knobs.maxRamBelow4g, 0x800_0000n);
  });
});

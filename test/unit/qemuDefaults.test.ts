/**
 * QEMU's defaults and limits that move the top of a guest's address space (RULES §3.7, §3.8),
 * each from a realistic description:
 * - phys-bits default: 40 (TCG_PHYS_ADDR_BITS) for named CPU models and under TCG
 *   (target/i386/cpu.c, x86_cpu_realizefn); the host's for -cpu host / max under KVM
 *   (target/i386/host-cpu.c, host_cpu_max_instance_init);
 * - maxmem / slots: the device-memory region above RAM moves the 64-bit PCI hole and
 *   pc_max_used_gpa (hw/i386/pc.c, pc_get_device_memory_range, pc_pci_hole64_start);
 * - virt highmem=off: 32-bit addresses (hw/arm/virt.c, virt_set_memmap).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { machineLayout } from '../../server/src/sim';
import { analyze, codesAt, only } from '../helpers';

const GENOA = `platform epyc-genoa {
  arch x86_64
  iommu amdvi0 amd-vi
  device gpu0 { bdf c1:00.0; iommu amdvi0; group 60 }
}
`;

const guest = (machine: string) => ({
  'h.iommu': GENOA,
  'g.iommu': `guest train on epyc-genoa {\n  machine ${machine}\n  assign gpu0\n}\n`,
});

describe('phys-bits default (RULES §3.7)', () => {
  test("host-phys-bits on: a named model under KVM takes the host's phys-bits (host_cpu_adjust_phys_bits), so no default of 40", () => {
    // libvirt <cpu mode='custom'><model>EPYC-Genoa</model><maxphysaddr mode='passthrough'/>: -cpu EPYC-Genoa,host-phys-bits=on.
    assert.deepEqual(analyze(guest('q35 memory 1T cpu amd cpu-model EPYC-Genoa host-phys-bits on')).all, []);
    // Under TCG there is no host CPU to take them from: the 40 of TCG_PHYS_ADDR_BITS again.
    const tcg = guest('q35 memory 1T cpu amd cpu-model EPYC-Genoa host-phys-bits on accel tcg');
    assert.deepEqual(codesAt(analyze(tcg), tcg), [
      'phys-bits-too-low@machine q35 memory 1T cpu amd cpu-model EPYC-Genoa host-phys-bits on accel tcg',
    ]);
  });

  test('a 1 TiB AMD guest on a named model without phys-bits: 40 bits, QEMU exits', () => {
    const files = guest('q35 memory 1T cpu amd cpu-model EPYC-Genoa');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['phys-bits-too-low@machine q35 memory 1T cpu amd cpu-model EPYC-Genoa']);
    const f = only(a, 'phys-bits-too-low');
    assert.match(f.message, /up to 0x2077fffffff .*above-4G RAM relocated to 1 TiB/);
    assert.match(f.message, /no phys-bits given: the named CPU model EPYC-Genoa has 40 \(TCG_PHYS_ADDR_BITS\) under KVM too/);
    assert.match(f.message, /QEMU exits with "Address space limit 0xffffffffff < 0x2077fffffff phys-bits too low \(40\)"/);
    // The fix adds the option that reaches the top: 42 bits.
    assert.deepEqual(
      f.fixes?.map((x) => [x.title, x.edits[0]!.newText]),
      [['Set phys-bits 42', ' phys-bits 42']],
    );
  });

  test('no cpu-model is qemu64, QEMU default model: also 40', () => {
    const files = guest('q35 memory 1T cpu amd');
    const f = only(analyze(files), 'phys-bits-too-low');
    assert.match(f.message, /qemu64, the default CPU model \(no cpu-model given\) has 40/);
  });

  test('cpu-model host or max under KVM take the host phys-bits: not checked', () => {
    for (const model of ['host', 'max']) {
      const files = guest(`q35 memory 1T cpu amd cpu-model ${model} accel kvm`);
      assert.deepEqual(codesAt(analyze(files), files), [], model);
    }
  });

  test('under TCG every model has 40, max included', () => {
    const files = guest('q35 memory 1T cpu amd cpu-model max accel tcg');
    const f = only(analyze(files), 'phys-bits-too-low');
    assert.match(f.message, /under TCG every CPU model has 40/);
  });

  test('an explicit phys-bits wins over the default', () => {
    const files = guest('q35 memory 1T cpu amd cpu-model EPYC-Genoa phys-bits 46');
    assert.deepEqual(codesAt(analyze(files), files), []);
  });
});

describe('maxmem and slots move the top of the address space (RULES §3.7)', () => {
  test('Intel: the device-memory region pushes the 64-bit PCI hole past 40 bits', () => {
    // -m 64G,slots=4,maxmem=1T: 62 GiB above 4 GiB end at 66 GiB; device memory is
    // 1T - 64G + 4 x 1G = 964 GiB from there; the 32 GiB hole follows at 1030 GiB.
    const files = guest('q35 memory 64G maxmem 1T slots 4 cpu intel cpu-model Skylake-Server');
    const a = analyze(files);
    const f = only(a, 'phys-bits-too-low');
    assert.match(
      f.message,
      /up to 0x1097fffffff \(its RAM, the device-memory region 0x1080000000\.\.0x1017fffffff \(maxmem\) and the 64-bit PCI hole 0x10180000000\.\.0x1097fffffff\)/,
    );
    const without = guest('q35 memory 64G cpu intel cpu-model Skylake-Server');
    assert.deepEqual(codesAt(analyze(without), without), []);
  });

  test('AMD: device memory alone can trigger the 1 TiB relocation', () => {
    const files = guest('q35 memory 64G maxmem 1T cpu amd phys-bits 48');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), []);
    const layout = machineLayout(a.model.guests.get('train')!)!;
    assert.equal(layout.relocated, true);
    assert.equal(layout.ram.find((r) => r.name === 'ram-above-4g')?.range.start, 1n << 40n);
  });
});

describe('virt highmem=off: 32-bit addresses (RULES §3.8)', () => {
  const altra = (machine: string) => ({
    'h.iommu': `platform altra {
  arch arm64
  iommu smmu0 smmuv3
  device nic0 { bdf 01:00.0; iommu smmu0 stream 0x100 }
}
guest edge on altra {
  machine ${machine}
  assign nic0
}
`,
  });

  test('4 GiB from 0x40000000 ends at 5 GiB: QEMU exits', () => {
    const files = altra('virt memory 4G highmem off');
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['highmem-off-too-much-memory@machine virt memory 4G highmem off']);
    assert.match(
      only(a, 'highmem-off-too-much-memory').message,
      /ends at 0x140000000: QEMU exits with "Addressing limited to 32 bits, but memory exceeds it by 1073741824 bytes"/,
    );
  });

  test('3 GiB fits; device memory counts with its slot', () => {
    const fits = altra('virt memory 3G highmem off');
    assert.deepEqual(codesAt(analyze(fits), fits), []);
    const dimms = altra('virt memory 2G maxmem 3G slots 1 highmem off');
    assert.deepEqual(codesAt(analyze(dimms), dimms), ['highmem-off-too-much-memory@machine virt memory 2G maxmem 3G slots 1 highmem off']);
    const on = altra('virt memory 4G highmem on');
    assert.deepEqual(codesAt(analyze(on), on), []);
  });
});

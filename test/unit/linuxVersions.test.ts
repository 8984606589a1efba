/**
 * Linux VFIO / iommufd rules that changed between releases (RULES §1.5, §2, versions.ts LINUX),
 * and QEMU's container fallback (RULES §2.9), each from a realistic description:
 * - iommufd reserves per device since 6.6 (drivers/iommu/iommufd/io_pagetable.c,
 *   iopt_table_enforce_dev_resv_regions; 34f327a985ff), the group's list in 6.2-6.5;
 * - iommufd checks reservations (-EINVAL) before existing mappings (-EEXIST) in
 *   iopt_check_iova, type1 the reverse (vfio_dma_do_map);
 * - type1's dma_entry_limit (-ENOSPC, since 5.1: 492855939bdb);
 * - AMD HTRangeIgnore (drivers/iommu/amd/iommu.c, amd_iommu_get_resv_regions; 94a9921e2c25, 6.16);
 * - QEMU retries a failed attach in a new container / IOAS (hw/vfio/container.c
 *   vfio_connect_container, hw/vfio/iommufd.c iommufd_cdev_attach), so the DMA map is what fails.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sysfsLine } from '../../server/src/sim';
import { Container } from '../../server/src/sim/container';
import { analyze, codesAt, only } from '../helpers';

/**
 * An EPYC host whose dual-port NIC shares IOMMU group 27; the IVRS gives the second port an
 * IVMD exclusion range (a `reserved` region for 41:00.1 only). The guest takes port 0.
 */
const dualPort = (kernel: string, container: string) => `platform epyc-b {
  arch x86_64
  ${kernel}
  iommu amdvi0 amd-vi { address-width 48 }
  reserved excl1 reserved 0x7c000000 size 16M for nic0b
  device nic0a { bdf 41:00.0; iommu amdvi0; group 27 }
  device nic0b { bdf 41:00.1; iommu amdvi0; group 27 }
}
guest web on epyc-b {
  machine q35 memory 4G
  ${container}
  assign nic0a
  assign nic0b
}`;

describe('iommufd reserves per device since Linux 6.6 (the group in 6.2-6.5)', () => {
  test("type1: the other function's region is the group's, so mapping RAM over it fails", () => {
    const files = { 'h.iommu': dualPort('kernel 6.8', '') };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@machine q35 memory 4G']);
    const f = only(a, 'ram-over-reserved');
    assert.match(f.message, /VFIO_IOMMU_MAP_DMA fails with -EINVAL/);
    assert.match(f.message, /type1 reserves the group's whole list; iommufd since Linux 6\.6 would reserve only nic0a's own/);
  });

  test('iommufd on 6.5: the whole group is reserved at attach, so it fails too, and says why', () => {
    const files = { 'h.iommu': dualPort('kernel 6.5', 'container iommufd') };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@machine q35 memory 4G']);
    const f = only(a, 'ram-over-reserved');
    assert.match(f.message, /IOMMU_IOAS_MAP fails with -EINVAL/);
    assert.match(f.message, /iommufd before Linux 6\.6 reserves the group's whole list, and this platform runs Linux 6\.5/);
  });

  test('iommufd on 6.6 and on the newest kernel: port 0 maps; port 1 still cannot take that RAM', () => {
    for (const kernel of ['kernel 6.6', '']) {
      const files = { 'h.iommu': dualPort(kernel, 'container iommufd') };
      const a = analyze(files);
      // nic0a attaches alone and RAM is mapped; nic0b then reserves its range over mapped RAM:
      // -EADDRINUSE, QEMU retries in a new IOAS where the map is refused.
      assert.deepEqual(codesAt(a, files), ['ram-over-reserved@machine q35 memory 4G'], kernel);
      const f = only(a, 'ram-over-reserved');
      assert.match(f.message, /nic0b reserves it, so joining the guest's IOAS fails with -EADDRINUSE/);
      assert.match(f.message, /QEMU then puts nic0b in a new IOAS, where IOMMU_IOAS_MAP of this RAM fails with -EINVAL/);
      assert.match(
        f.message,
        /vfio 0000:41:00\.1: .*vfio_container_dma_map\(<container>, 0x0, 0x80000000, <vaddr>\) = -22 \(Invalid argument\)/,
      );
      assert.doesNotMatch(f.message, /error attach/, 'the fallback hides the attach error');
    }
  });

  test('a hot-add follows the same rule: port 0 into a running iommufd guest fails on 6.5 and under type1, not on 6.6', () => {
    // device_add vfio-pci,host=41:00.0: the attach reserves what iopt_table_enforce_dev_resv_regions (6.6) or the
    // group's list (6.2-6.5, and type1 always) holds, over RAM the guest has mapped since it started.
    const running = (kernel: string, container: string) => ({
      'h.iommu': `${dualPort(kernel, container).replace('  assign nic0a\n  assign nic0b\n', '')}\ntimeline t {\n  start web\n  hotplug nic0a into web\n}`,
    });
    for (const [kernel, container, codes] of [
      ['kernel 6.5', 'container iommufd', ['ram-over-reserved@hotplug nic0a into web']],
      ['kernel 6.6', '', ['ram-over-reserved@hotplug nic0a into web']],
      ['kernel 6.6', 'container iommufd', []],
    ] as const) {
      const files = running(kernel, container);
      assert.deepEqual(codesAt(analyze(files), files), codes, `${kernel} ${container || 'type1'}`);
    }
  });

  test('iommufd on 6.6 assigning only port 0: no RAM conflict (port 1 bound to vfio-pci, unassigned)', () => {
    const files = { 'h.iommu': dualPort('kernel 6.6', 'container iommufd').replace('  assign nic0b\n', '') };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['group-partly-assigned@assign nic0a']);
    const type1 = { 'h.iommu': dualPort('kernel 6.6', '').replace('  assign nic0b\n', '') };
    assert.deepEqual(codesAt(analyze(type1), type1), ['ram-over-reserved@machine q35 memory 4G', 'group-partly-assigned@assign nic0a']);
  });
});

describe('iommufd answers -EINVAL for a reserved IOVA before -EEXIST for a mapped one (iopt_check_iova)', () => {
  const host = `platform rome {
  arch x86_64
  iommu amdvi0 amd-vi
  reserved bios reserved 0x9d000000 size 4M for nic0
  device nic0 { bdf 21:00.0; iommu amdvi0; group 40 }
}`;

  test('a range both mapped and reserved: type1 says -EEXIST, iommufd -EINVAL', () => {
    const a = analyze({ 'h.iommu': host });
    const p = a.model.platforms.get('rome')!;
    const pr = a.sim.regionsOf(p);
    const gr = pr.regions(pr.groupOf(p.devices.get('nic0')!)!);
    for (const [flavor, errno] of [
      ['type1', 'EEXIST'],
      ['iommufd', 'EINVAL'],
    ] as const) {
      const c = new Container<string>(flavor);
      assert.deepEqual(c.attach(gr), []);
      assert.equal(c.map({ start: 0x9c00_0000n, end: 0x9cff_ffffn }, 'low'), undefined);
      // 0x9c800000..0x9d3fffff overlaps the mapping and the reserved range.
      const refusal = c.map({ start: 0x9c80_0000n, end: 0x9d3f_ffffn }, 'dimm');
      assert.equal(refusal?.errno, errno, flavor);
    }
  });
});

describe("type1's dma_entry_limit: -ENOSPC past it (Linux 5.1+), none for iommufd", () => {
  // vfio_iommu_type1.dma_entry_limit=3 on the host's kernel command line; the guest has the
  // two ranges of q35 plus two hot-pluggable DIMMs QEMU placed in the device-memory region.
  const files = (kernel: string, container = '') => ({
    'h.iommu': `platform dl385 {
  arch x86_64
  ${kernel}
  dma-entry-limit 3
  iommu amdvi0 amd-vi
  device gpu0 { bdf c1:00.0; iommu amdvi0; group 60 }
}
guest render on dl385 {
  machine q35 memory 8G
  ram dimm0 0x280000000 size 1G
  ram dimm1 0x2c0000000 size 1G
  ${container}
  assign gpu0
}`,
  });

  test('the fourth mapping fails with -ENOSPC on the line that makes it', () => {
    const f0 = files('kernel 6.8');
    const a = analyze(f0);
    assert.deepEqual(codesAt(a, f0), ['dma-entry-limit@machine q35 memory 8G']);
    const f = only(a, 'dma-entry-limit');
    // Four RAM ranges, three entries: whichever is mapped fourth is refused.
    assert.match(
      f.message,
      /guest RAM \S+ 0x[0-9a-f]+\.\.0x[0-9a-f]+ would be mapping number 4 of the container, past vfio_iommu_type1's dma_entry_limit 3: VFIO_IOMMU_MAP_DMA fails with -ENOSPC \(since Linux 5\.1\)/,
    );
    assert.match(f.message, /= -28 \(No space left on device\)/);
    assert.ok(f.related?.some((r) => /platform dl385: dma-entry-limit 3/.test(r.message)));
  });

  test('Linux 5.0 has no limit; iommufd has none', () => {
    for (const f0 of [files('kernel 5.0'), files('kernel 6.8', 'container iommufd')]) assert.deepEqual(codesAt(analyze(f0), f0), []);
  });
});

describe('AMD HTRangeIgnore: Linux 6.16+ leaves out the HyperTransport hole', () => {
  // A Turin host whose IOMMU reports HTRangeIgnore in EFR2; a guest with RAM laid out
  // straight through 0xfd00000000 (QEMU places it so when told the hole is usable).
  const host = (kernel: string) => `platform turin {
  arch x86_64
  ${kernel}
  iommu amdvi0 amd-vi {
    address-width 57
    ht-range-ignore
  }
  device nic0 { bdf 81:00.0; iommu amdvi0; group 90 }
}
guest big on turin {
  ram low 0x0 size 2G
  ram high 0x100000000 size 1020G
  assign nic0
}`;

  test('6.16: no reserved HT line in sysfs and the RAM maps', () => {
    const files = { 'h.iommu': host('kernel 6.16') };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), []);
    const p = a.model.platforms.get('turin')!;
    const pr = a.sim.regionsOf(p);
    assert.deepEqual(
      pr
        .regions(pr.groupOf(p.devices.get('nic0')!)!)
        .list()
        .map(sysfsLine),
      ['0x00000000fee00000 0x00000000feefffff msi'],
    );
  });

  test('6.15 does not read EFR2: the hole is reserved and the RAM over it fails', () => {
    const files = { 'h.iommu': host('kernel 6.15') };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@ram high 0x100000000 size 1020G']);
    const f = only(a, 'ram-over-reserved');
    assert.match(f.message, /0xfd00000000/);
    assert.ok(
      f.related?.some((r) => /only Linux 6\.16 and later read it/.test(r.message)),
      JSON.stringify(f.related),
    );
  });
});

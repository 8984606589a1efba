/**
 * The simulator against RULES.md §1–3, each rule from a realistic description.
 * Expectations are the kernel's and QEMU's behaviour as RULES states it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { guestRam, mergeRegions, sysfsLine, usableRanges, type Resv } from '../../server/src/sim';
import { analyze, codesAt, only, slice } from '../helpers';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'sysfs');

/** The sysfs list of the group of `device` on `platform`. */
function sysfs(a: ReturnType<typeof analyze>, platform: string, device: string): string {
  const p = a.model.platforms.get(platform)!;
  const pr = a.sim.regionsOf(p);
  return pr
    .regions(pr.groupOf(p.devices.get(device)!)!)
    .list()
    .map(sysfsLine)
    .join('\n');
}

const EPYC = `platform epyc-a {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  ram dram0 0x0 size 512G
  reserved ioapic  msi      0xfee00000..0xfeefffff
  reserved ht-hole reserved 0xfd00000000..0xffffffffff
  reserved unity0  direct   0xbdf6e000 size 92K for usb0
  device usb0 { bdf 00:14.0; iommu amdvi0 }
  device gpu0 {
    bdf 0000:41:00.0
    iommu amdvi0
    group 258
  }
}
`;

describe('RULES §1: reserved regions per IOMMU group', () => {
  test('§1.1–1.3: union of the members, sorted by start then type, same-type merge on overlap or touch', () => {
    const files = {
      'p.iommu': `platform p {
  arch x86_64
  iommu dmar0 vt-d { address-width 39 }
  reserved a reserved 0x1000..0x1fff for nic0
  reserved b reserved 0x2000..0x2fff for nic1        // touches a: merges
  reserved c direct   0x1000..0x1fff for group 7     // same start as a, lower type: first
  reserved d msi      0x3000..0x3fff for nic1        // touches b, other type: never merges
  reserved e reserved 0x10000 size 4K for dmar0
  device nic0 { bdf 01:00.0; iommu dmar0; group 7 }
  device nic1 { bdf 01:00.1; iommu dmar0; group 7 }
  device nic2 { bdf 02:00.0; iommu dmar0; group 8 }
}`,
    };
    const a = analyze(files);
    assert.deepEqual(a.all, []);
    assert.equal(
      sysfs(a, 'p', 'nic0'),
      [
        '0x0000000000001000 0x0000000000001fff direct',
        '0x0000000000001000 0x0000000000002fff reserved',
        '0x0000000000003000 0x0000000000003fff msi',
        '0x0000000000010000 0x0000000000010fff reserved',
        '0x00000000fee00000 0x00000000feefffff msi',
      ].join('\n'),
    );
    // nic2 is alone in group 8: only the IOMMU's regions.
    assert.equal(sysfs(a, 'p', 'nic2'), '0x0000000000010000 0x0000000000010fff reserved\n0x00000000fee00000 0x00000000feefffff msi');
  });

  test('groups of one shape (same IOMMUs, same regions of their own) have one list', () => {
    const a = analyze({
      'p.iommu': `platform p {
  arch aarch64
  iommu smmu0 smmu-v3 { address-width 48 }
  iommu smmu1 smmu-v3 { address-width 44 }
  reserved pciwin reserved 0xe0000000..0xf7feffff
  reserved its    msi      0x8000000 size 64K for smmu1
  reserved shared reserved 0x4000000 size 1M for nic2
  reserved again  reserved 0x4000000 size 1M for nic3
  reserved mine   sw-msi   0x9000000 size 1M for group 9
  device nic0 { bdf 01:00.0; iommu smmu0 }
  device nic1 { bdf 02:00.0; iommu smmu0 }
  device nic2 { bdf 03:00.0; iommu smmu0 }
  device nic3 { bdf 04:00.0; iommu smmu0 }
  device nic4 { bdf 05:00.0; iommu smmu1 }
  device nic5 { bdf 06:00.0; iommu smmu1 }
  device nic6 { bdf 07:00.0; iommu smmu0; group 9 }
  device uart { bdf 08:00.0 }
}`,
    });
    const p = a.model.platforms.get('p')!;
    const pr = a.sim.regionsOf(p);
    const names = (gs: readonly { devices: { sym: { name: string } }[] }[]) => gs.map((g) => g.devices.map((d) => d.sym.name).join('+'));
    // The largest shapes first; a region of a device's own sets its group apart even when
    // another region has the same range; group 9's own sw-msi replaces the driver's window.
    assert.deepEqual(pr.shapes().map(names), [['nic0', 'nic1'], ['nic4', 'nic5'], ['nic2'], ['nic3'], ['nic6'], ['uart']]);
    for (const shape of pr.shapes()) {
      for (const g of shape) assert.equal(pr.shapeOf(g), shape);
      const lists = shape.map((g) => pr.regions(g).list().map(sysfsLine).join('\n'));
      assert.ok(
        lists.every((l) => l === lists[0]),
        `one list per shape: ${names(shape)}`,
      );
    }
    assert.notEqual(sysfs(a, 'p', 'nic0'), sysfs(a, 'p', 'nic6'));
  });

  test('§1.4: a group described from a capture prints back exactly as the capture', () => {
    for (const name of ['intel-lpc-bridge', 'arm-pci-windows']) {
      const captured = readFileSync(join(FIXTURES, `${name}.reserved_regions`), 'utf8').trimEnd();
      const regions = captured.split('\n').map((l, i) => {
        const [s, e, t] = l.split(' ');
        return `  reserved r${i} ${t === 'msi' && s === '0x0000000008000000' ? 'sw-msi' : t} ${s}..${e}`;
      });
      const kind = name.startsWith('intel') ? 'vt-d' : 'smmuv3';
      const a = analyze({
        'p.iommu': `platform p {\n  iommu i0 ${kind} { address-width 48 }\n${regions.join('\n')}\n  device d { iommu i0; group 13 }\n}`,
      });
      assert.equal(sysfs(a, 'p', 'd'), captured, name);
    }
  });

  test('§1.5: what each IOMMU driver adds by itself', () => {
    const files = {
      'p.iommu': `platform x {
  iommu vtd vt-d
  iommu amd amd-vi
  device a { iommu vtd }
  device b { iommu amd }
}
platform arm {
  arch arm64
  iommu smmu0 smmuv3
  iommu smmu1 smmuv3
  iommu vio virtio-iommu
  reserved moved sw-msi 0x4000000 size 1M for smmu1   // the description moves the window
  reserved its msi 0x8080000 size 128K for vd
  device c { iommu smmu0 stream 1 }
  device d { iommu smmu1 stream 2 }
  device vc { iommu vio }
  device vd { iommu vio }
}`,
    };
    const a = analyze(files);
    assert.equal(sysfs(a, 'x', 'a'), '0x00000000fee00000 0x00000000feefffff msi');
    assert.equal(sysfs(a, 'x', 'b'), '0x00000000fee00000 0x00000000feefffff msi\n0x000000fd00000000 0x000000ffffffffff reserved');
    assert.equal(sysfs(a, 'arm', 'c'), '0x0000000008000000 0x00000000080fffff msi');
    assert.equal(sysfs(a, 'arm', 'd'), '0x0000000004000000 0x00000000040fffff msi');
    assert.equal(sysfs(a, 'arm', 'vc'), '0x0000000008000000 0x00000000080fffff msi');
    assert.equal(sysfs(a, 'arm', 'vd'), '0x0000000008080000 0x000000000809ffff msi'); // virtio-iommu: device reported an MSI region
  });

  test('§1.5–1.6: a direct region makes the device unassignable; direct-relaxable does not', () => {
    const files = {
      'h.iommu': `platform dl388 {
  arch x86_64
  iommu dmar1 vt-d { address-width 46 }
  reserved hp-rmrr     direct           0xbdf6e000..0xbdf84fff for ilo0
  reserved hp-rmrr-usb direct-relaxable 0xbdf6e000..0xbdf84fff for usb0
  device ilo0 { bdf 0000:01:00.2; iommu dmar1; group 18 }
  device usb0 { bdf 0000:00:1d.0; iommu dmar1; group 22; class usb }
}
guest vm on dl388 {
  ram low 0x0 size 0xc0000000        // covers the RMRR
  assign usb0
  assign ilo0
}`,
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@ram low 0x0 size 0xc0000000', 'identity-map-required@assign ilo0']);
    const f = only(a, 'identity-map-required');
    assert.match(
      f.message,
      /vfio-pci 0000:01:00\.2: Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping\. Contact your platform vendor\./,
    );
    assert.match(f.message, /vfio 0000:01:00\.2: failed to setup container for group 18: Failed to set group container: Invalid argument/);
    assert.deepEqual(
      f.related.map((r) => slice(files['h.iommu'], r.span)),
      ['reserved hp-rmrr     direct           0xbdf6e000..0xbdf84fff for ilo0', 'ilo0'],
    );
    // The relaxable RMRR is not cut: usb0's container maps the RAM over it.
    assert.deepEqual(
      a.sim.guests.get(a.model.guests.get('vm')!)!.container.mappings.map((m) => m.site.name),
      ['low'],
    );
  });
});

describe('RULES §2: VFIO type1 and iommufd containers', () => {
  test('§2.2c, §2.5, §3.5: guest RAM over the HyperTransport hole (LANGUAGE section A)', () => {
    const files = {
      'epyc-a.iommu': EPYC,
      'vm1.iommu': 'guest vm1 on epyc-a {\n  ram pc-ram 0x100000000 size 0xff30000000\n  assign gpu0\n}\n',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@ram pc-ram 0x100000000 size 0xff30000000']);
    const f = only(a, 'ram-over-reserved');
    assert.equal(f.severity, 'error');
    // The declared hole and the AMD-Vi driver's own are one range: named once, both related.
    assert.match(f.message, /overlaps reserved region ht-hole \(reserved 0xfd00000000\.\.0xffffffffff\): it is not inside/);
    assert.match(
      f.message,
      /vfio 0000:41:00\.0: failed to setup container for group 258: memory listener initialization failed: Region pc-ram: vfio_container_dma_map\(<container>, 0x100000000, 0xff30000000, <vaddr>\) = -22 \(Invalid argument\)/,
    );
    assert.deepEqual(
      f.related.map(
        (r) => `${r.uri.replace('file:///ws/', '')} ${slice(files[r.uri.replace('file:///ws/', '') as keyof typeof files], r.span)}`,
      ),
      ['epyc-a.iommu reserved ht-hole reserved 0xfd00000000..0xffffffffff', 'epyc-a.iommu amdvi0', 'vm1.iommu assign gpu0'],
    );
  });

  test('§2.1: RAM above the aperture; §2.2a: a later group with a narrower aperture', () => {
    const files = {
      'p.iommu': `platform p {
  arch x86_64
  iommu wide vt-d { address-width 48 }
  iommu narrow vt-d { address-width 39 }
  device nic0 { bdf 01:00.0; iommu wide }
  device nic1 { bdf 02:00.0; iommu narrow }
  device nic2 { bdf 03:00.0; iommu narrow }
}
guest big on p {
  machine q35 memory 1T
  assign nic1
}
guest late on p {
  machine q35 memory 1T
  assign nic0
  assign nic2
}`,
    };
    const a = analyze(files);
    const f = a.all.filter((x) => x.code === 'ram-beyond-aperture');
    assert.deepEqual(
      f.map((x) => slice(files['p.iommu'], x.span)),
      ['machine q35 memory 1T', 'machine q35 memory 1T'],
    );
    assert.match(
      f[0]!.message,
      /ram-above-4g 0x100000000\.\.0x1007fffffff reaches beyond the IOMMU aperture 0x0\.\.0x7fffffffff \(narrow\)/,
    );
    // QEMU retries in a new container (vfio_connect_container), where the map is what fails (RULES §2.9).
    assert.match(
      f[1]!.message,
      /has the narrower aperture 0x0\.\.0x7fffffffff: joining the guest's container fails with -EINVAL \(aperture conflict\); QEMU then tries a new container/,
    );
  });

  test('§2.2b: a later group whose region overlaps RAM already mapped', () => {
    const files = {
      'p.iommu': `platform p {
  arch x86_64
  iommu dmar0 vt-d
  reserved fw reserved 0x10000000 size 1M for group 9
  device a { bdf 01:00.0; iommu dmar0; group 3 }
  device b { bdf 02:00.0; iommu dmar0; group 9 }
}
guest g on p {
  machine q35 memory 4G
  assign a
  assign b
}`,
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@machine q35 memory 4G']);
    assert.match(
      only(a, 'ram-over-reserved').message,
      /already mapped, overlaps reserved region fw .*group 9 \(b\) reserves it, so joining the guest's container fails with -EINVAL \(reserved conflict\); QEMU then puts group 9 in a new container, where VFIO_IOMMU_MAP_DMA of this RAM fails with -EINVAL.*vfio_container_dma_map\(<container>, 0x0, 0x80000000, <vaddr>\) = -22/,
    );
    const state = a.sim.guests.get(a.model.guests.get('g')!)!;
    assert.equal(state.container.groups.length, 1, 'the refused attach is undone');
  });

  test('§2.2c: regions covering the whole aperture leave an empty list', () => {
    const files = {
      'p.iommu':
        'platform p {\n  iommu i0 vt-d { address-width 32 }\n  reserved all reserved 0x0..0xffffffff for d\n  device d { iommu i0 }\n}\nguest g on p {\n  assign d\n}\n',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['empty-iova-list@assign d']);
  });

  test('§2.3: a sw-msi window counts only without a hardware msi (arm64 guests)', () => {
    const host = (extra: string) => `platform altra {
  arch arm64
  iommu smmu0 smmuv3 { msi remapped }
  ${extra}
  device nic0 { bdf 01:00.0; iommu smmu0 stream 0x100 }
}
guest g on altra {
  machine virt memory 4G
  assign nic0
}`;
    // The window 0x8000000..0x80fffff is the guest's GIC space on virt, never RAM: nothing to report either way.
    const sw = analyze({ 'a.iommu': host('') });
    assert.deepEqual(sw.all, []);
    const swGroup = sw.sim.guests.get(sw.model.guests.get('g')!)!.groups[0]!;
    assert.ok(swGroup.has('sw-msi') && !swGroup.has('msi'));
    const hw = analyze({ 'a.iommu': host('reserved its msi 0x8080000 size 128K') });
    assert.deepEqual(hw.all, []);
  });

  test('§2.5: misaligned RAM, overlapping RAM (-EEXIST)', () => {
    const files = {
      'p.iommu': `platform p {
  arch arm64
  iommu smmu0 smmuv3 { page-sizes 64K 512M }
  device d { iommu smmu0 stream 1 }
}
guest g on p {
  ram a 0x40000000 size 1G
  ram b 0x7ff00000 size 2M
  ram c 0x100000000 size 4K
  assign d
}`,
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-overlap@ram b 0x7ff00000 size 2M', 'ram-misaligned@ram c 0x100000000 size 4K']);
    assert.match(only(a, 'ram-misaligned').message, /not aligned to 64K/);
    assert.match(only(a, 'ram-overlap').message, /-EEXIST/);
  });

  test("§2.6: the usable list after attach, with the SMMU driver's sw-msi window cut out", () => {
    const files = {
      'p.iommu': `platform p {
  arch arm64
  iommu smmu0 smmuv3 { address-width 44 }
  reserved win reserved 0xe0000000..0xf7feffff
  device d { iommu smmu0 stream 1 }
}
guest g on p {
  machine virt memory 2G
  assign d
}`,
    };
    const a = analyze(files);
    assert.deepEqual(a.all, []);
    const c = a.sim.guests.get(a.model.guests.get('g')!)!.container;
    assert.deepEqual(
      c.usable().map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`),
      ['0-7ffffff', '8100000-dfffffff', 'f7ff0000-fffffffffff'],
    );
  });

  test('iommufd: sw-msi with a hardware msi is -EINVAL; reserving over a mapping is -EADDRINUSE', () => {
    const files = {
      'p.iommu': `platform p {
  arch arm64
  iommu smmu0 smmuv3 { msi bypass }
  reserved its msi 0x8080000 size 128K for a
  reserved fw reserved 0x50000000 size 1M for group 2
  device a { iommu smmu0 stream 1; group 1 }
  device b { iommu smmu0 stream 2; group 3 }
  device c { iommu smmu0 stream 3; group 2 }
}
guest g on p {
  machine virt memory 1G
  container iommufd
  assign a
  assign b
  assign c
}`,
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-reserved@machine virt memory 1G', 'iommufd-msi-conflict@assign a']);
    assert.match(only(a, 'iommufd-msi-conflict').message, /a sw-msi window and a hardware msi region/);
    assert.match(only(a, 'ram-over-reserved').message, /-EADDRINUSE/);
  });

  test('group viability: split across guests, partly assigned, twice, no IOMMU', () => {
    const files = {
      'p.iommu': `platform p {
  arch x86_64
  iommu dmar0 vt-d
  device bridge0 { bdf 00:1c.0; iommu dmar0; group 12; class bridge }
  device usb0 { bdf 00:14.0; iommu dmar0; group 12 }
  device usb1 { bdf 00:14.1; iommu dmar0; group 12 }
  device nic0 { bdf 01:00.0; iommu dmar0; group 13 }
  device nic1 { bdf 01:00.1; iommu dmar0; group 13 }
  device tpm0 { bdf 02:00.0 }
}
guest a on p {
  machine q35 memory 2G
  assign usb0
  assign nic0
  assign nic0
}
guest b on p {
  machine q35 memory 2G
  assign nic1
  assign tpm0
}`,
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), [
      'group-partly-assigned@assign usb0',
      'device-assigned-twice@assign nic0',
      'group-split@assign nic1',
      'no-iommu@assign tpm0',
    ]);
    assert.match(only(a, 'group-partly-assigned').message, /group 12 also holds usb1, which no guest is assigned.*group 12 is not viable/);
    assert.equal(only(a, 'group-partly-assigned').severity, 'warning');
    assert.match(only(a, 'group-split').message, /guest a already holds \(nic0\).*\/dev\/vfio\/13: Device or resource busy/);
  });
});

describe('RULES §3: QEMU guest RAM layouts', () => {
  const ram = (machine: string) => {
    const a = analyze({ 'p.iommu': `platform p { arch x86_64 }\nguest g on p {\n  machine ${machine}\n}` });
    return guestRam(a.model.guests.get('g')!).map((r) => `${r.name} ${r.range.start.toString(16)}-${r.range.end.toString(16)}`);
  };

  test('§3.1 q35: 0x80000000 below 4G from 2.75 GiB up, else up to 0xb0000000; max-ram-below-4g caps it', () => {
    assert.deepEqual(ram('q35 memory 2G'), ['ram-below-4g 0-7fffffff']);
    assert.deepEqual(ram('q35 memory 0xa0000000'), ['ram-below-4g 0-9fffffff']);
    assert.deepEqual(ram('q35 memory 16G'), ['ram-below-4g 0-7fffffff', 'ram-above-4g 100000000-47fffffff']);
    assert.deepEqual(ram('q35 memory 16G max-ram-below-4g 1G'), ['ram-below-4g 0-3fffffff', 'ram-above-4g 100000000-4bfffffff']);
  });

  test('§3.2 i440fx: 0xc0000000 below 4G (gigabyte-aligned) from 3.5 GiB up', () => {
    assert.deepEqual(ram('i440fx memory 3G'), ['ram-below-4g 0-bfffffff']);
    assert.deepEqual(ram('i440fx memory 4G'), ['ram-below-4g 0-bfffffff', 'ram-above-4g 100000000-13fffffff']);
  });

  test('§3.3 AMD: RAM that would reach 0xfd00000000 moves above 1 TiB', () => {
    assert.deepEqual(ram('q35 memory 1100G cpu amd'), ['ram-below-4g 0-7fffffff', 'ram-above-4g 10000000000-2127fffffff']);
    assert.deepEqual(ram('q35 memory 1100G cpu intel'), ['ram-below-4g 0-7fffffff', 'ram-above-4g 100000000-1137fffffff']);
    assert.deepEqual(ram('q35 memory 512G cpu amd'), ['ram-below-4g 0-7fffffff', 'ram-above-4g 100000000-807fffffff']);
  });

  test('§3.3 on an AMD host: an Intel vCPU model keeps RAM over the HyperTransport hole', () => {
    const files = {
      'epyc-a.iommu': EPYC,
      'g.iommu':
        'guest g on epyc-a {\n  machine q35 memory 1100G cpu intel phys-bits 48\n  assign gpu0\n}\nguest h on epyc-a {\n  machine q35 memory 1100G cpu amd phys-bits 48\n  assign usb0\n}',
    };
    const a = analyze(files);
    // phys-bits 48: without it the default 40 (qemu64) would not reach 1100 GiB (RULES §3.7).
    assert.deepEqual(codesAt(a, files), [
      'ram-over-reserved@machine q35 memory 1100G cpu intel phys-bits 48',
      'identity-map-required@assign usb0',
    ]);
  });

  test('§3.4 virt: RAM at 0x40000000', () => {
    assert.deepEqual(ram('virt memory 4G'), ['mach-virt.ram 40000000-13fffffff']);
  });
});

describe("RAM over the SMMU's fixed sw-msi window (RULES §1.5)", () => {
  test('guest RAM over MSI_IOVA_BASE is refused; no fix moves the window', () => {
    const files = {
      'p.iommu':
        'platform p {\n  arch arm64\n  iommu smmu0 smmuv3\n  device d { iommu smmu0 stream 1 }\n}\nguest g on p {\n  ram low 0x0 size 512M\n  assign d\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ram-over-doorbell@ram low 0x0 size 512M']);
    const f = only(a, 'ram-over-doorbell');
    assert.match(f.message, /the sw-msi window \(sw-msi 0x8000000\.\.0x80fffff, added by the smmuv3 IOMMU smmu0\)/);
    assert.deepEqual(f.fixes, []);
  });
});

describe('exact 64-bit arithmetic', () => {
  test('regions and IOVA lists up to 0xffff_ffff_ffff_ffff', () => {
    const top: Resv = {
      type: 'reserved',
      range: { start: 0xffff_ffff_ffff_f000n, end: 0xffff_ffff_ffff_ffffn },
      source: { kind: 'builtin', iommu: { sym: { name: 'i' } } as never, label: 'top', why: 'a test' },
    };
    assert.equal(sysfsLine(mergeRegions([top])[0]!), '0xfffffffffffff000 0xffffffffffffffff reserved');
    assert.deepEqual(usableRanges({ start: 0n, end: 0xffff_ffff_ffff_ffffn }, [top]), [{ start: 0n, end: 0xffff_ffff_ffff_efffn }]);
    assert.deepEqual(usableRanges({ start: 0n, end: 0xfffn }, [{ ...top, range: { start: 0n, end: 0xffff_ffff_ffff_ffffn } }]), []);
  });
});

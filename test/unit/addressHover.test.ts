/** Hover on a number: every region holding an address in every address space; a size's value. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hover } from '../../server/src/ide';
import type { Platform } from '../../server/src/model';
import { sysfsLine } from '../../server/src/sim';
import { regionsAt, StabIndex } from '../../server/src/sim/addressQuery';
import { analyze, cursor, uri } from '../helpers';

const ARM_HOST = `platform arm-its {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; page-sizes 4K 2M 1G }
  ram dram0 0x80000000 size 64G
  // IORT: the GICv3 ITS doorbell page at 0x08000000, a hardware MSI region
  reserved its-doorbell msi 0x0800_0000 size 64K
  reserved top reserved 0xffff_ffff_ffff_0000..0xffff_ffff_ffff_ffff
  device vf0 { bdf 0000:01:00.2; iommu smmu0 stream 0x102; group 14 }
  device vf1 { bdf 0000:01:00.3; iommu smmu0 stream 0x103; group 15 }
}
`;

const ARM_GUEST = `guest vm-arm on arm-its {
  ram low 0x0 size 2G
  assign vf0
}
`;

/** Hovers the one `<|>` of `file` in a workspace of the ARM host, its guest and `extra` files. */
function hoverIn(file: string, marked: string, extra: Record<string, string> = {}) {
  const { text, offset } = cursor(marked);
  const files: Record<string, string> = { 'host.iommu': ARM_HOST, 'guest.iommu': ARM_GUEST, ...extra, [file]: text };
  return hover(analyze(files), uri(file), offset);
}

describe('an address literal', () => {
  test("the ITS doorbell address: both groups list it (and the SMMU driver's sw-msi window), and guest RAM holds it", () => {
    const md = hoverIn('host.iommu', ARM_HOST.replace('msi 0x0800_0000', 'msi 0x08<|>00_0000'))!.markdown;
    assert.equal(
      md,
      [
        '**address `0x8000000`**',
        '',
        "**arm-its** (this line's platform):",
        '- IOVA, groups 14, 15: `0x0000000008000000 0x000000000800ffff msi` from reserved region its-doorbell; `0x0000000008000000 0x00000000080fffff msi` (sw-msi) from the sw-msi window of IOMMU smmu0: cut from the usable IOVA list',
        '',
        'Guest-physical:',
        '- guest **vm-arm**: RAM low `0x0..0x7fffffff`, not mapped for DMA (the map was refused)',
      ].join('\n'),
    );
  });

  test('0xffff_ffff_ffff_ffff prints exactly, beyond a 48-bit aperture', () => {
    const h = hoverIn('host.iommu', ARM_HOST.replace('..0xffff_ffff_ffff_ffff', '..0xffff_ffff_ffff_<|>ffff'))!;
    assert.equal(
      h.markdown,
      [
        '**address `0xffffffffffffffff`**',
        '',
        "**arm-its** (this line's platform):",
        '- IOVA, groups 14, 15: `0xffffffffffff0000 0xffffffffffffffff reserved` from reserved region top: beyond the aperture `0x0..0xffffffffffff`: not usable',
      ].join('\n'),
    );
    assert.equal(h.span.end - h.span.start, '0xffff_ffff_ffff_ffff'.length);
  });

  test("host RAM, an I/O APIC page and an ECAM window on x86, and another host's RAM", () => {
    const x86 = `platform dl388 {
  arch x86_64
  iommu dmar0 vt-d { address-width 39 }
  ram dram-low 0x100000..0xbddabfff
  ioapic 0xfec0_0000
  mmcfg 0xe000_0000..0xefff_ffff
  device nic0 { bdf 0000:02:00.0; iommu dmar0; group 24 }
}
`;
    const ioapic = hoverIn('x86.iommu', x86.replace('ioapic 0xfec0', 'ioapic 0x<|>fec0'))!.markdown;
    assert.equal(
      ioapic,
      [
        '**address `0xfec00000`**',
        '',
        "**dl388** (this line's platform):",
        '- host physical: I/O APIC `0xfec00000..0xfec00fff`',
        '- IOVA, group 24: usable',
        '',
        '**arm-its**:',
        '- host physical: RAM dram0 `0x80000000..0x107fffffff`',
        '- IOVA, groups 14, 15: usable',
      ].join('\n'),
    );
    const ecam = hoverIn(
      'x86.iommu',
      x86
        .replace('ram dram-low 0x100000..0xbddabfff', 'ram dram-low 0x100000..0xbddabfff\n  ram over 0xe800_0000 size 4K')
        .replace('mmcfg 0xe000_0000..0xefff_ffff', 'mmcfg 0xe000_0000..0xe<|>fff_ffff'),
    )!.markdown;
    assert.match(ecam, /\n- host physical: PCIe ECAM \(mmcfg\) `0xe0000000\.\.0xefffffff`\n- IOVA, group 24: usable\n/);
    const ram = hoverIn('x86.iommu', x86.replace('0x100000..0xbddab', '0x100000..0xbd<|>dab'))!.markdown;
    assert.match(ram, /- host physical: RAM dram-low `0x100000\.\.0xbddabfff`/);
  });

  test("vtom: which side of it each address is on, in that guest's space", () => {
    const host = `platform turin {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  device nvme0 { bdf 0000:41:00.0; iommu amdvi0; group 60; tdisp }
}
`;
    const md = hoverIn(
      'cvm.iommu',
      'guest cvm on turin {\n  machine q35 memory 16G cpu amd\n  confidential sev-snp { vtom 0x100_<|>0000_0000 }\n  container iommufd\n  assign nvme0 as private\n}\n',
      { 'turin.iommu': host },
    )!.markdown;
    assert.ok(md.includes('Guest-physical:\n- guest **cvm**: no RAM here; shared (at or above vTOM `0x10000000000`)'), md);
    assert.ok(md.includes('- IOVA, group 60: usable'), md);
    const inside = hoverIn(
      'cvm.iommu',
      'guest cvm on turin {\n  machine q35 memory 16G cpu amd\n  confidential sev-snp { vtom 0x2_<|>0000_0000 }\n}\n',
      { 'turin.iommu': host },
    )!.markdown;
    assert.ok(
      inside.includes(
        '- guest **cvm**: RAM ram-above-4g `0x100000000..0x47fffffff`, not mapped for DMA (no device attached); shared (at or above vTOM `0x200000000`)',
      ),
      inside,
    );
  });

  test('a size is its value and the range it makes', () => {
    const md = hoverIn('host.iommu', ARM_HOST.replace('msi 0x0800_0000 size 64K', 'msi 0x0800_0000 size 6<|>4K'))!.markdown;
    assert.equal(md, '**size `64K`** = `0x10000` (65536 bytes)\n\nThe range `0x8000000..0x800ffff`.');
  });

  test('numbers that are not addresses, numbers in comments and whitespace give no address hover', () => {
    assert.equal(hoverIn('host.iommu', ARM_HOST.replace('group 14', 'group 1<|>4')), undefined);
    assert.equal(hoverIn('host.iommu', ARM_HOST.replace('address-width 48', 'address-width 4<|>8')), undefined);
    assert.equal(hoverIn('host.iommu', ARM_HOST.replace('doorbell page at 0x08000000', 'doorbell page at 0x080<|>00000')), undefined);
    assert.equal(hoverIn('host.iommu', ARM_HOST.replace('  ram dram0', '<|>  ram dram0')), undefined);
    assert.equal(hoverIn('host.iommu', `${ARM_HOST}\n  <|>  \n`), undefined);
    // A trailing comment on a guest line is not the guest line.
    assert.equal(hoverIn('guest.iommu', ARM_GUEST.replace('assign vf0', 'assign vf0   // was 0x<|>1000')), undefined);
  });

  test('a malformed number gets no hover (its diagnostic says why)', () => {
    assert.equal(hoverIn('host.iommu', ARM_HOST.replace('0xffff_ffff_ffff_0000', '0xffff__<|>ffff_ffff_0000')), undefined);
  });
});

describe('what the lookups return', () => {
  /** A group's regions come from three indexes; the kernel merges across them. */
  const HOST = `platform merge {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48 }
  reserved wide reserved 0x1000..0x1fff
  reserved own reserved 0x2000..0x2fff for group 14
  reserved near reserved 0x3000..0x3fff for smmu0
  reserved far reserved 0x5000..0x5fff
  device vf0 { bdf 0000:01:00.2; iommu smmu0; group 14 }
  device vf1 { bdf 0000:01:00.3; iommu smmu0; group 15 }
}
`;

  test('a region merged from three sources is found whole, as sysfs prints it', () => {
    const md = hoverIn('merge.iommu', HOST.replace('0x1000..0x1fff', '0x1000..0x1<|>fff'))!.markdown;
    assert.ok(
      md.includes(
        [
          '- IOVA, group 14: `0x0000000000001000 0x0000000000003fff reserved` from reserved region wide, reserved region near, reserved region own: cut from the usable IOVA list',
          '- IOVA, group 15: `0x0000000000001000 0x0000000000001fff reserved` from reserved region wide: cut from the usable IOVA list',
        ].join('\n'),
      ),
      md,
    );
    // A host where nothing is at the address is summarised in one line.
    assert.ok(
      md.endsWith(
        '\n\nNothing holds it on arm-its: no RAM, I/O APIC, ECAM or reserved region, and it is usable IOVA in every group there.',
      ),
      md,
    );
  });

  test('regionsAt agrees with the merged sysfs list at every boundary', () => {
    const a = analyze({ 'merge.iommu': HOST });
    const p = a.model.platforms.get('merge') as Platform;
    const pr = a.sim.regionsOf(p);
    for (const g of pr.groups) {
      const gr = pr.regions(g);
      const list = gr.list();
      const probes = list.flatMap((m) => [m.range.start - 1n, m.range.start, m.range.end, m.range.end + 1n]).filter((v) => v >= 0n);
      for (const v of [0n, ...probes, 0x4000n, 0xffff_ffff_ffffn]) {
        const expected = list.filter((m) => m.range.start <= v && v <= m.range.end).map(sysfsLine);
        assert.deepEqual(regionsAt(gr, v).map(sysfsLine), expected, `group ${g.number} at 0x${v.toString(16)}`);
      }
    }
  });

  test('StabIndex finds every overlapping range that holds an address', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return BigInt(seed % 1000);
    };
    const ranges = Array.from({ length: 200 }, () => {
      const s = next();
      return { start: s, end: s + next() / 10n };
    });
    const ix = new StabIndex(ranges, (r) => r);
    for (let v = 0n; v < 1100n; v += 7n) {
      const expected = ranges.filter((r) => r.start <= v && v <= r.end);
      const got = ix.at(v);
      assert.equal(got.length, expected.length, `at ${v}`);
      assert.ok(
        got.every((r) => expected.includes(r)),
        `at ${v}`,
      );
    }
  });
});

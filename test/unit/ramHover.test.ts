/** Hover on guest RAM: the whole story of one mapping, on the `ram` line or the `machine` line. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hover } from '../../server/src/ide';
import { analyze, cursor, slice, uri } from '../helpers';

/** An Altra-like host whose IORT reports the GICv3 ITS doorbell page as a hardware MSI region. */
const ARM_HOST = `platform arm-its {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; page-sizes 4K 2M 1G }
  ram dram0 0x80000000 size 64G
  reserved its-doorbell msi 0x08000000 size 64K
  device vf0 { bdf 0000:01:00.2; iommu smmu0 stream 0x102; group 14 }
  device vf1 { bdf 0000:01:00.3; iommu smmu0 stream 0x103; group 15 }
}
`;

/** The guest's low RAM starts at 0 and runs over the doorbell page at 0x08000000. */
const ARM_GUEST = `guest vm-arm on arm-its {
  <|>ram low 0x0 size 2G
  ram high 0x1_0000_0000 size 2G
  // the SMMU's own sw-msi window is fixed at 0x8000000 too
  assign vf0
}
timeline grow {
  start vm-arm
  hotplug vf1 into vm-arm
}
`;

describe('guest RAM over the ITS doorbell (arm64)', () => {
  const { text, offset } = cursor(ARM_GUEST);
  const a = analyze({ 'host.iommu': ARM_HOST, 'guest.iommu': text });
  const h = hover(a, uri('guest.iommu'), offset)!;
  const md = h.markdown;

  test('anywhere on the line: heading, range and size exactly, and the statement as the span', () => {
    assert.equal(md.split('\n')[0], '**guest RAM low** of guest vm-arm: `0x0..0x7fffffff` (2G), guest-physical');
    assert.equal(slice(text, h.span), 'ram low 0x0 size 2G');
    // The name gives the same story.
    assert.equal(hover(a, uri('guest.iommu'), text.indexOf('low') + 1)!.markdown.split('\n---\n')[0], md.split('\n---\n')[0]);
  });

  test('which container would map it, and for whom', () => {
    assert.ok(
      md.includes(
        [
          'When the guest starts (VFIO type1 container, IOVA = GPA):',
          '- not mapped: vf0 (group 14) is attached, but the map was refused (below)',
        ].join('\n'),
      ),
      md,
    );
  });

  test('the timeline hot-add is listed with its line', () => {
    assert.ok(
      md.includes(
        [
          'Timeline **grow**:',
          '- line 8 `start vm-arm`: on arm-its, no device: not mapped',
          '- line 9 `hotplug vf1 into vm-arm`: on arm-its, no device: not mapped',
        ].join('\n'),
      ),
      md,
    );
  });

  test("the overlap as both groups print it: the ITS page and the SMMU driver's sw-msi window", () => {
    assert.ok(
      md.includes(
        [
          'Overlaps:',
          '- `0x0000000008000000 0x000000000800ffff msi` (reserved region its-doorbell), groups 14, 15 on arm-its: cut from the usable IOVA list, so this RAM cannot be mapped there',
          '- `0x0000000008000000 0x00000000080fffff msi` (the sw-msi window of IOMMU smmu0), groups 14, 15 on arm-its: cut from the usable IOVA list, so this RAM cannot be mapped there',
          '',
        ].join('\n'),
      ),
      md,
    );
  });

  test('what the real system does is quoted from the findings about this RAM, here and on the timeline step', () => {
    const here = a.all.find((f) => f.code === 'ram-over-doorbell' && f.span.start === text.indexOf('ram low'))!;
    const step = a.all.find((f) => f.code === 'ram-over-doorbell' && f.span.start === text.indexOf('hotplug'))!;
    assert.match(here.message, /vfio_container_dma_map\(<container>, 0x0, 0x80000000, <vaddr>\) = -22 \(Invalid argument\)/);
    assert.ok(
      md.includes(
        [
          'What the real system does (the findings about this RAM):',
          `- \`ram-over-doorbell\`: ${here.message}`,
          `- \`ram-over-doorbell\` at line 9: ${step.message}`,
        ].join('\n'),
      ),
      md,
    );
  });

  test('the finding on the line adds its related locations, not its message again', () => {
    const [why, sources] = md.split('\n---\n')[1]!.split('\n\nSource:\n');
    assert.match(sources!, /arm_smmu_get_resv_regions/);
    assert.equal(
      why,
      [
        '',
        '**`ram-over-doorbell`**: why',
        '',
        '- host.iommu line 5: reserved region its-doorbell: msi 0x8000000..0x800ffff',
        '- host.iommu line 3: the sw-msi window 0x8000000..0x80fffff: the SMMUv3 driver reserves a software MSI window at MSI_IOVA_BASE for every device',
        '- line 5: vf0 (group 14) is assigned here',
      ].join('\n'),
    );
  });

  test('RAM clear of every region is mapped for the assigned device', () => {
    const clean = ARM_GUEST.replace('<|>ram low 0x0 size 2G', 'ram low 0x4000_0000 size 2G').replace('ram high', '<|>ram high');
    const c = cursor(clean);
    const b = analyze({ 'host.iommu': ARM_HOST, 'guest.iommu': c.text });
    const m = hover(b, uri('guest.iommu'), c.offset)!.markdown;
    assert.ok(m.includes('- mapped at IOVA `0x100000000..0x17fffffff` for vf0 (group 14)'), m);
    assert.ok(m.includes('- line 9 `hotplug vf1 into vm-arm`: on arm-its, mapped for vf0 (group 14), vf1 (group 15)'), m);
    assert.doesNotMatch(m, /Overlaps:|What the real system does/);
  });
});

const TURIN = `platform turin {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  ram dram-low  0x0 size 2G
  ram dram-high 0x1_0000_0000 size 766G
  device nvme0 { bdf 0000:41:00.0; iommu amdvi0; group 60; tdisp }
  device nvme1 { bdf 0000:42:00.0; iommu amdvi0; group 61; tdisp }
}
`;

describe('an SEV-SNP guest with vTOM and a DMA window (x86)', () => {
  const { text, offset } = cursor(`guest cvm on turin {
  confidential sev-snp { vtom 0x2_0000_0000 }
  container iommufd
  ram low 0x0 size 2G
  ram high 0x1_0000_0000 si<|>ze 0x1_8000_0000
  assign nvme0 as private dma-window 0x1_0000_0000 size 4G
}
`);
  const a = analyze({ 'host.iommu': TURIN, 'guest.iommu': text });
  const md = hover(a, uri('guest.iommu'), offset)!.markdown;

  test('private below vTOM, shared above, for the part of the range on each side', () => {
    assert.ok(
      md.includes(
        'SEV-SNP, vTOM `0x200000000`: private `0x100000000..0x1ffffffff`, shared `0x200000000..0x27fffffff` (device DMA below vTOM is private, at or above shared)',
      ),
      md,
    );
  });

  test('the iommufd IOAS maps it at IOVA = GPA; the DMA window says which part the device reaches', () => {
    assert.ok(
      md.includes(
        [
          'When the guest starts (iommufd IOAS, IOVA = GPA):',
          '- mapped at IOVA `0x100000000..0x27fffffff` for nvme0 (group 60, private)',
          "- nvme0's `dma-window` `0x100000000..0x1ffffffff`: its DMA reaches only `0x100000000..0x1ffffffff` of this RAM",
        ].join('\n'),
      ),
      md,
    );
    const low = hover(a, uri('guest.iommu'), text.indexOf('ram low') + 1)!.markdown;
    assert.ok(low.includes("- nvme0's `dma-window` `0x100000000..0x1ffffffff`: its DMA does not reach this RAM"), low);
  });

  test('the AMD-Vi regions are clear of it, so there is no overlap and no finding', () => {
    assert.doesNotMatch(md, /Overlaps:|What the real system does|---/);
  });
});

test('a vIOMMU: the guest picks the IOVAs; the host map is the nesting parent or a shadow', () => {
  const host = ARM_HOST.replace('ram low 0x0', 'ram low 0x4000_0000');
  const { text, offset } = cursor(`guest vm-v on arm-its {
  <|>ram low 0x4000_0000 size 2G
  viommu vsmmu0 smmuv3
  assign vf0
}
`);
  const md = hover(analyze({ 'host.iommu': host, 'guest.iommu': text }), uri('guest.iommu'), offset)!.markdown;
  assert.ok(
    md.includes(
      "- vIOMMU vsmmu0 (smmuv3): the guest's driver picks the IOVAs its devices use. QEMU shadows each mapping the guest makes (guest IOVA → this RAM) into the container, so device IOVAs equal GPAs only where the guest maps them 1:1",
    ),
    md,
  );
});

test('the machine line tells the story of the RAM it lays out (seed 002: the map chosen on armsrv-0 fails on armsrv-1)', () => {
  const hosts = {
    'armsrv-0.iommu': `platform armsrv-0 {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; page-sizes 4K 2M 1G }
  reserved swmsi sw-msi 0x8000000 size 1M
  device vf1 { bdf 0000:01:00.3; iommu smmu0 stream 0x103; group 15 }
}
`,
    'armsrv-1.iommu': `platform armsrv-1 {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; page-sizes 64K 512M }
  reserved swmsi     sw-msi   0x8000000..0x80fffff
  reserved pci-win32 reserved 0xe0000000..0xf7feffff
  device vf1 { bdf 0000:01:00.3; iommu smmu0 stream 0x103; group 17 }
}
`,
    'evacuate.iommu': `timeline evacuate-vm-db {
  start vm-db
  migrate vm-db to armsrv-1
  hotplug vf1 into vm-db
}
`,
  };
  const { text, offset } = cursor('guest vm-db on armsrv-0 {\n  machine <|>virt memory 4G\n  container type1\n}\n');
  const a = analyze({ ...hosts, 'vm-db.iommu': text });
  const md = hover(a, uri('vm-db.iommu'), offset)!.markdown;
  const step = a.all.find((f) => f.code === 'ram-over-reserved')!;
  assert.ok(md.startsWith("**machine virt**: QEMU's guest RAM for 4G"), md);
  assert.ok(
    md.includes(
      [
        'When the guest starts (VFIO type1 container, IOVA = GPA):',
        '- not mapped: no assigned device is in the container',
        '',
        'Timeline **evacuate-vm-db** (evacuate.iommu):',
        '- line 2 `start vm-db`: on armsrv-0, no device: not mapped',
        '- line 3 `migrate vm-db to armsrv-1`: on armsrv-1, no device: not mapped',
        '- line 4 `hotplug vf1 into vm-db`: on armsrv-1, no device: not mapped',
        '',
        'Overlaps:',
        '- `0x00000000e0000000 0x00000000f7feffff reserved` (reserved region pci-win32), group 17 on armsrv-1: cut from the usable IOVA list, so this RAM cannot be mapped there',
        '',
        'What the real system does (the findings about this RAM):',
        `- \`ram-over-reserved\` at evacuate.iommu line 4: ${step.message}`,
      ].join('\n'),
    ),
    md,
  );
  assert.match(step.message, /QEMU fails: vfio 0000:01:00\.3: failed to setup container for group 17/);
});

test('a guest RAM line with a syntax error or no platform does not throw', () => {
  for (const body of [
    'guest g on nowhere {\n  ram r 0x1000 size 4K\n}\n',
    'guest g {\n  ram r 0x1000 size\n}\n',
    'guest g on arm-its {\n  ram r\n}\n',
  ]) {
    const a = analyze({ 'host.iommu': ARM_HOST, 'g.iommu': body });
    for (let i = 0; i <= body.length; i++) {
      const h = hover(a, uri('g.iommu'), i);
      if (h) assert.ok(h.span.start >= 0 && h.span.end <= body.length, `${i}: ${JSON.stringify(h.span)}`);
    }
  }
});

test('an x86 machine line (QEMU pc-q35-7.0, 1 TiB on AMD): each range its own line, the HT hole on the one it crosses', () => {
  const host = `platform epyc-genoa {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  ram dram0 0x0 size 3T
  device gpu1 { bdf 0000:61:00.0; iommu amdvi0; group 52 }
}
`;
  const { text, offset } = cursor(
    'guest train-old on epyc-genoa {\n  machine <|>q35 version 7.0 memory 1T cpu amd phys-bits 48\n  assign gpu1\n}\n',
  );
  const a = analyze({ 'host.iommu': host, 'g.iommu': text });
  const md = hover(a, uri('g.iommu'), offset)!.markdown;
  const f = a.all.find((x) => x.code === 'ram-over-reserved')!;
  assert.ok(
    md.includes(
      [
        'When the guest starts (VFIO type1 container, IOVA = GPA):',
        '- ram-below-4g: mapped at IOVA `0x0..0x7fffffff` for gpu1 (group 52)',
        '- ram-above-4g: not mapped: gpu1 (group 52) is attached, but the map was refused (below)',
        '',
        'Overlaps:',
        '- ram-above-4g: `0x000000fd00000000 0x000000ffffffffff reserved` (the HyperTransport hole of IOMMU amdvi0), group 52 on epyc-genoa: cut from the usable IOVA list, so this RAM cannot be mapped there',
        '',
        'What the real system does (the findings about this RAM):',
        `- \`ram-over-reserved\`: ${f.message}`,
      ].join('\n'),
    ),
    md,
  );
  assert.match(f.message, /vfio_container_dma_map\(<container>, 0x100000000, 0xff80000000, <vaddr>\) = -22/);
});

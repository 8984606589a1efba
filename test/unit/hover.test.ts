/** Hover: the simulator's view of the name under the cursor. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hover } from '../../server/src/ide';
import { analyze, cursor, slice, uri } from '../helpers';

const HOST = `platform armsrv-1 {
  arch arm64
  iommu smmu0 smmuv3 {
    address-width 48
    page-sizes 64K 512M
  }
  reserved swmsi     sw-msi   0x8000000..0x80fffff
  reserved pci-win32 reserved 0xe0000000..0xf7feffff
  reserved pci-win64 reserved 0x80000000000..0x82fffffffff
  device vf0 { bdf 0000:01:00.2; iommu smmu0 stream 0x102; group 13 }
}
guest g on armsrv-1 {
  machine virt memory 2G
  assign vf0
}
`;

const at = (text: string, needle: string, nth = 0) => {
  let i = -1;
  for (let k = 0; k <= nth; k++) i = text.indexOf(needle, i + 1);
  return i + 1;
};

test('a device shows its group exactly as sysfs prints it, and the usable IOVA list', () => {
  const a = analyze({ 'h.iommu': HOST });
  const h = hover(a, uri('h.iommu'), at(HOST, 'vf0'))!;
  assert.ok(
    h.markdown.includes(
      [
        '`/sys/kernel/iommu_groups/13/reserved_regions`:',
        '```text',
        '0x0000000008000000 0x00000000080fffff msi',
        '0x00000000e0000000 0x00000000f7feffff reserved',
        '0x0000080000000000 0x0000082fffffffff reserved',
        '```',
      ].join('\n'),
    ),
    h.markdown,
  );
  assert.ok(h.markdown.includes('0x8100000-0xdfffffff\n0xf7ff0000-0x7ffffffffff\n0x83000000000-0xffffffffffff'), h.markdown);
  assert.match(h.markdown, /Assigned to guest g\./);
  // The same from the reference in `assign vf0`.
  assert.equal(hover(a, uri('h.iommu'), at(HOST, 'assign vf0') + 7)!.markdown, h.markdown);
});

test('a guest shows its RAM map, container and usable IOVA', () => {
  const a = analyze({ 'h.iommu': HOST });
  const h = hover(a, uri('h.iommu'), at(HOST, 'guest g') + 6)!;
  assert.match(h.markdown, /mach-virt\.ram +0x40000000\.\.0xbfffffff {2}2G/);
  assert.match(h.markdown, /VFIO type1 container: attached group 13/);
  assert.match(h.markdown, /0x0-0x7ffffff\n0x8100000-0xdfffffff\n0xf7ff0000-0x7ffffffffff/);
});

test('a region says what its type means and where it applies; an IOMMU its aperture and own regions', () => {
  const a = analyze({ 'h.iommu': HOST });
  const r = hover(a, uri('h.iommu'), at(HOST, 'pci-win32'))!;
  assert.match(r.markdown, /\*\*reserved region pci-win32\*\*: `reserved` `0xe0000000\.\.0xf7feffff`/);
  assert.match(r.markdown, /Applies to every device of the platform\.\n\nIn the reserved regions of group 13\./);
  const i = hover(a, uri('h.iommu'), at(HOST, 'smmu0'))!;
  assert.match(i.markdown, /Aperture `0x0\.\.0xffffffffffff` \(48 bits\)/);
  assert.match(i.markdown, /Page sizes: 64K 512M/);
  assert.equal(hover(a, uri('h.iommu'), at(HOST, 'address-width')), undefined);
});

/** A DL388 Gen10 (seed 003): a USB controller with an RMRR and a dual-port NIC in one group. */
const DL388 = `platform dl388 {
  arch x86_64
  iommu dmar0 vt-d { address-width 39 }
  reserved rmrr-usb direct-relaxable 0x7b80_0000..0x7b9f_ffff for usb0
  reserved ioapic msi 0xfee0_0000 size 1M
  device usb0 { bdf 0000:00:14.0; iommu dmar0; group 3 }
  device nic0 { bdf 0000:02:00.0; iommu dmar0; group 24 }
  device nic1 { bdf 0000:02:00.1; iommu dmar0; group 24 }
}
`;

test('a reserved region: its kernel type, and the line each group prints after the merge', () => {
  const { text, offset } = cursor(DL388.replace('reserved ioapic', 'reserved io<|>apic'));
  const md = hover(analyze({ 'h.iommu': text }), uri('h.iommu'), offset)!.markdown;
  assert.equal(
    md,
    [
      '**reserved region ioapic**: `msi` `0xfee00000..0xfeefffff` (1M)',
      '',
      '`IOMMU_RESV_MSI`: a hardware MSI doorbell, not translated by the IOMMU; cut from the usable IOVA list.',
      '',
      'Applies to every device of the platform.',
      '',
      'In the reserved regions of group 3, group 24.',
      '',
      // The VT-d driver reserves the same interrupt range for every device: the kernel merges the two.
      '`reserved_regions` of group 3, group 24, merged with the x86 interrupt range of IOMMU dmar0:',
      '```text',
      '0x00000000fee00000 0x00000000feefffff msi',
      '```',
    ].join('\n'),
  );
  const rmrr = hover(analyze({ 'h.iommu': DL388 }), uri('h.iommu'), DL388.indexOf('rmrr-usb') + 1)!.markdown;
  assert.ok(
    rmrr.includes(
      '`IOMMU_RESV_DIRECT_RELAXABLE`: identity-mapped, but the mapping may be dropped for device assignment (USB and graphics RMRRs); not cut from the usable IOVA list.\n\nApplies to device usb0.\n\nIn the reserved regions of group 3.\n\n`reserved_regions` of group 3:\n```text\n0x000000007b800000 0x000000007b9fffff direct-relaxable\n```',
    ),
    rmrr,
  );
});

test('a reserved region no group holds still shows its sysfs line', () => {
  const { text, offset } = cursor('platform bare {\n  reserved <|>lonely reserved 0x1000 size 4K\n}\n');
  const md = hover(analyze({ 'h.iommu': text }), uri('h.iommu'), offset)!.markdown;
  assert.ok(md.endsWith("No device's group holds it; sysfs would print it as `0x0000000000001000 0x0000000000001fff reserved`."), md);
});

test('a finding: its related locations as the why and its sources, after what the step shows', () => {
  const files = {
    'h.iommu': DL388,
    'g.iommu': 'guest vm on dl388 {\n  machine q35 memory 4G\n  assign nic0\n}\ntimeline t {\n  start vm\n  unplug usb0\n}\n',
  };
  const a = analyze(files);
  // group-partly-assigned on `assign nic0` relates nic1; the name under the cursor shows the device first.
  const why =
    '**`group-partly-assigned`**: why\n\n- h.iommu line 8: device nic1: also in group 24\n\n' +
    'Source:\n- QEMU hw/vfio/container.c, vfio_group_get: "group %d is not viable" (VFIO_GROUP_FLAGS_VIABLE)';
  const assign = hover(a, uri('g.iommu'), files['g.iommu'].indexOf('assign') + 1)!;
  assert.equal(assign.markdown, why);
  assert.equal(slice(files['g.iommu'], assign.span), 'assign nic0');
  const onName = hover(a, uri('g.iommu'), files['g.iommu'].indexOf('nic0') + 1)!.markdown;
  assert.ok(onName.startsWith('**device nic0**'), onName);
  assert.ok(onName.endsWith(`\n\n---\n\n${why}`), onName);
  // device-not-plugged has no related location and no trace: after the step hover, only its source.
  const unplug = hover(a, uri('g.iommu'), files['g.iommu'].indexOf('unplug') + 1)!.markdown;
  assert.ok(unplug.startsWith('**after `unplug usb0`**'), unplug);
  assert.ok(
    unplug.endsWith('---\n\n**`device-not-plugged`**\n\nSource:\n- QEMU qdev-monitor.c, qmp_device_del: "Device \'%s\' not found"'),
    unplug,
  );
});

test("hovering a finding shows its rule's upstream sources, with the releases where they matter (RULES §0.3)", () => {
  // An SMMUv3 host: the driver reserves MSI_IOVA_BASE 0x8000000 (arm_smmu_get_resv_regions); RAM from 0 covers it.
  const text = `platform altra {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48 }
  device nic0 { bdf 0000:01:00.0; iommu smmu0 stream 0x100; group 3 }
}
guest g on altra {
  ram low 0x0 size 512M
  assign nic0
}
`;
  const a = analyze({ 'g.iommu': text });
  assert.ok(a.all.some((f) => f.code === 'ram-over-doorbell'));
  const h = hover(a, uri('g.iommu'), at(text, 'ram low'));
  assert.ok(h);
  assert.match(h.markdown, /Source:\n(- .*\n)*- Linux drivers\/iommu\/arm\/arm-smmu-v3\/arm-smmu-v3\.c, arm_smmu_get_resv_regions/);
  assert.match(h.markdown, /vfio_dma_do_map .* \(since Linux 5\.4/);
});

/** Hover: the simulator's view of the name under the cursor. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hover } from '../../server/src/ide';
import { analyze, uri } from '../helpers';

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
  msi-window 0xfee00000 size 1M
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
  assert.ok(h.markdown.includes([
    '`/sys/kernel/iommu_groups/13/reserved_regions`:',
    '```text',
    '0x0000000008000000 0x00000000080fffff msi',
    '0x00000000e0000000 0x00000000f7feffff reserved',
    '0x0000080000000000 0x0000082fffffffff reserved',
    '```',
  ].join('\n')), h.markdown);
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
  assert.match(h.markdown, /0xf7ff0000-0xfedfffff\n0xfef00000-0x7ffffffffff/);
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

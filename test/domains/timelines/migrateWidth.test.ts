/**
 * Issue 24 item 4 (RULES §4): migration itself does not involve the IOMMU. Migrating a guest
 * without devices to a host whose IOMMU is narrower than its RAM succeeds; what fails is a
 * later hot-add there, whose DMA map of the RAM above the aperture is -EINVAL (Linux
 * drivers/vfio/vfio_iommu_type1.c, vfio_iommu_type1_attach_group / vfio_iommu_iova_dma_valid).
 * So the migrate step gets a warning at most, and the hot-add step the error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, codesAt } from '../../helpers';

const files = {
  'hosts.iommu': `platform wide48 {
  arch x86_64
  iommu dmar0 vt-d { address-width 48 }
  device nic1 { bdf 0000:17:00.0; iommu dmar0; group 9 }
}
platform narrow39 {
  arch x86_64
  iommu dmar0 vt-d { address-width 39 }
  device nic9 { bdf 0000:17:00.0; iommu dmar0; group 9 }
}
`,
  'big.iommu': `guest big on wide48 {
  machine q35 memory 768G cpu intel phys-bits 46   // RAM ends 0xc07fffffff
}
timeline t {
  start big
  migrate big to narrow39
  hotplug nic9 into big
}
`,
};

test('migrating to a narrower IOMMU is a warning; the hot-add after it is the error', () => {
  const a = analyze(files);
  assert.deepEqual(codesAt(a, files), ['migrate-address-width@migrate big to narrow39', 'ram-beyond-aperture@hotplug nic9 into big']);
  const [migrate, hotAdd] = a.all;
  assert.equal(migrate!.severity, 'warning');
  assert.match(migrate!.message, /the migration itself succeeds/);
  assert.match(migrate!.message, /dmar0 \(39 bits, up to 0x7fffffffff\) on narrow39/);
  assert.equal(hotAdd!.severity, 'error');
});

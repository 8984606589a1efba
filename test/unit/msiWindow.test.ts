/**
 * Issue 24 item 1 (RULES §1.5, §4): the Arm SMMUv3 driver reserves its software MSI window at
 * the fixed MSI_IOVA_BASE 0x8000000, 1 MiB (Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c,
 * arm_smmu_get_resv_regions; include/linux/iommu.h MSI_IOVA_BASE/MSI_IOVA_LENGTH), and no
 * interface lets a VMM or a user move it. Seed 002's idea of a doorbell at 0xfee00000 that
 * moves on conflict was not merged. So a guest `msi-window` changes nothing: it is explained
 * (information), never reported as a failure, never offered as a fix.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../../server/src/model';
import { CODES } from '../../server/src/domains';
import { analyze, codesAt } from '../helpers';

// armsrv-0 of seed 002: an Ampere Altra whose only reserved region is the SMMU's sw-msi window.
const ARMSRV0 = `platform armsrv-0 {
  arch arm64
  kernel 6.8
  iommu smmu0 smmuv3 { address-width 48; msi remapped; page-sizes 4K 2M 1G }
  device vf2 { bdf 0000:01:00.4; iommu smmu0 stream 0x104; group 16 }
}
`;
// armsrv-1: the CentOS 7 host whose kernel exports the 32-bit PCI window as reserved.
const ARMSRV1 = `platform armsrv-1 {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; msi remapped; page-sizes 64K 512M }
  reserved pci-win32 reserved 0xe0000000..0xf7feffff
  device vf2 { bdf 0000:01:00.4; iommu smmu0 stream 0x104; group 18 }
}
`;

const retired = ['msi-window-missing', 'msi-window-conflict', 'migrate-doorbell-conflict', 'pool-doorbell-conflict'];

function noWindowStory(all: readonly Finding[]): void {
  for (const f of all) {
    assert.ok(!retired.includes(f.code), `${f.code} is no longer reported: ${f.message}`);
    for (const fix of f.fixes) for (const e of fix.edits) assert.doesNotMatch(e.newText, /msi-window/, `${f.code} fix '${fix.title}'`);
    assert.ok(!f.fixes.some((x) => /doorbell window/i.test(x.title)), `${f.code} offers to move the window`);
  }
}

describe('the sw-msi window is where the SMMU driver puts it (issue 24 item 1)', () => {
  test('RAM over 0x8000000 is refused even when the guest names an msi-window elsewhere', () => {
    const files = {
      'h.iommu': ARMSRV0,
      'g.iommu': `guest low-ram on armsrv-0 {   // a hand-written map reaching the window
  ram low 0x0 size 512M
  msi-window 0xfee00000 size 1M
  assign vf2
}
`,
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files).sort(), [
      'msi-window-ignored@msi-window 0xfee00000 size 1M',
      'ram-over-doorbell@ram low 0x0 size 512M',
    ]);
    const door = a.all.find((f) => f.code === 'ram-over-doorbell')!;
    assert.equal(door.severity, 'error');
    assert.match(door.message, /sw-msi 0x8000000\.\.0x80fffff/);
    const ignored = a.all.find((f) => f.code === 'msi-window-ignored')!;
    assert.equal(ignored.severity, 'information');
    assert.match(ignored.message, /MSI_IOVA_BASE 0x8000000\.\.0x80fffff/);
    assert.match(ignored.message, /arm_smmu_get_resv_regions/);
    assert.match(ignored.message, /seed 002 .*not merged/i);
    // Its one fix deletes the line; nothing moves a window.
    assert.deepEqual(
      ignored.fixes.map((f) => [f.title, f.edits.map((e) => e.newText)]),
      [['Remove the msi-window line', ['']]],
    );
    noWindowStory(a.all);
  });

  test('the container cuts the driver window, not the msi-window: the usable list is the real one', () => {
    const files = {
      'h.iommu': ARMSRV1,
      'g.iommu': 'guest vm on armsrv-1 {\n  machine virt memory 2G\n  msi-window 0xfee00000 size 1M\n  assign vf2\n}\n',
    };
    const a = analyze(files);
    const g = a.model.guests.get('vm')!;
    const usable = a.sim.guests
      .get(g)!
      .container.usable()
      .map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`);
    assert.deepEqual(usable, ['0-7ffffff', '8100000-dfffffff', 'f7ff0000-ffffffffffff']);
    assert.deepEqual(codesAt(a, files), ['msi-window-ignored@msi-window 0xfee00000 size 1M']);
  });

  test('an arm64 guest without msi-window gets no finding about it', () => {
    const files = { 'h.iommu': ARMSRV0, 'g.iommu': 'guest vm on armsrv-0 {\n  machine virt memory 4G\n  assign vf2\n}\n' };
    assert.deepEqual(analyze(files).all, []);
  });

  test('a migration or a pool never reports the msi-window, and no fix writes one', () => {
    const files = {
      'h0.iommu': ARMSRV0,
      'h1.iommu': ARMSRV1,
      'g.iommu': `pool rack { armsrv-0, armsrv-1 }
guest vm-msi on armsrv-0 {
  machine virt memory 2G
  msi-window 0xf0000000 size 1M   // inside armsrv-1's pci-win32: what seed 002 worried about
}
timeline t { start vm-msi; migrate vm-msi to armsrv-1 }
`,
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['msi-window-ignored@msi-window 0xf0000000 size 1M']);
    noWindowStory(a.all);
  });

  test('the retired codes stay registered (settings may name them) and say they are no longer reported', () => {
    for (const code of retired) assert.match(CODES[code]?.summary ?? '', /^No longer reported/);
  });
});

/** Inlay hints: each range shows what it does not spell out; a machine shows QEMU's RAM. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inlayHints } from '../../server/src/ide';
import { analyze, markers, uri } from '../helpers';

/** The hints of a file as `[text before the hint on its line, label]`. */
function hintsOf(text: string, span?: { start: number; end: number }) {
  const a = analyze({ 'p.iommu': text });
  return inlayHints(a, uri('p.iommu'), span).map((h) => [text.slice(0, h.offset).split('\n').pop(), h.label]);
}

test('START..END gets its size, START size SIZE its inclusive end, to the last byte of the address space', () => {
  const text = `platform p {
  arch arm64
  iommu smmu0 smmuv3
  ram dram 0x80000000 size 0x1_0000_0000
  reserved its msi 0x8080000..0x809ffff
  reserved top reserved 0xffff_ffff_ffff_f000..0xffff_ffff_ffff_ffff
  reserved tail reserved 0xffff_ffff_ffff_f000 size 4K
  reserved bad reserved 0x10..0x1
}
`;
  assert.deepEqual(hintsOf(text), [
    ['  ram dram 0x80000000 size 0x1_0000_0000', ' ..0x17fffffff'],
    ['  reserved its msi 0x8080000..0x809ffff', ' (128K)'],
    ['  reserved top reserved 0xffff_ffff_ffff_f000..0xffff_ffff_ffff_ffff', ' (4K)'],
    ['  reserved tail reserved 0xffff_ffff_ffff_f000 size 4K', ' ..0xffffffffffffffff'],
  ]);
});

test('only hints inside the requested range; a machine line gets its RAM layout', () => {
  const { text, ranges } = markers(`platform p { arch x86_64 }
guest g on p {
[[  machine q35 memory 6G
  msi-window 0xfee00000 size 1M]]
  ram extra 0x30000000000 size 4K
}
`);
  assert.deepEqual(hintsOf(text, ranges[0]), [
    ['  machine q35 memory 6G', ' → ram-below-4g 0x0..0x7fffffff, ram-above-4g 0x100000000..0x1ffffffff'],
    ['  msi-window 0xfee00000 size 1M', ' ..0xfeefffff'],
  ]);
});

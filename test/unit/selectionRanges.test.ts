import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, type Span } from '@iommu-lens/grammar';
import { selectionRanges, type SelectionRange } from '../../server/src/ide/selectionRanges';
import { cursor, markers, parseClean, slice } from '../helpers';

/** The chain's spans, innermost first. */
function spans(r: SelectionRange | undefined): Span[] {
  const out: Span[] = [];
  for (let s = r; s; s = s.parent) out.push(s.span);
  return out;
}

/** The chain at the one `<|>` of `marked` as the text each step selects. */
function chainText(marked: string): string[] {
  const { text, offset } = cursor(marked);
  return spans(selectionRanges(parse(text), [offset])[0]).map((s) => slice(text, s));
}

const HOST = `// armsrv-1 ("system 1")
platform armsrv-1 {
  arch arm64
  reserved pci-win32 reserved 0xe0000000..0xf7feffff  // 32-bit MMIO window
  device vf2 { bdf 0000:01:00.4; vf-of pf0; iommu smmu0 stream 0x104; group 18 }
}
`;

test('a number in a reserved line: number, range, statement, platform body, platform, file', () => {
  // Every [[range]] is one step of the chain; the outermost step is the whole file.
  const m = markers(`// armsrv-1 ("system 1")
[[platform armsrv-1 {
  [[arch arm64
  [[reserved pci-win32 reserved [[[[0xe00<|>00000]]..0xf7feffff]]]]  // 32-bit MMIO window
  device vf2 { bdf 0000:01:00.4; vf-of pf0; iommu smmu0 stream 0x104; group 18 }]]
}]]
`);
  assert.equal(m.text, HOST);
  parseClean(m.text);
  const expected = [...m.ranges].sort((x, y) => x.end - x.start - (y.end - y.start));
  expected.push({ start: 0, end: m.text.length });
  assert.deepEqual(spans(selectionRanges(parse(m.text), m.cursors)[0]), expected);
  assert.deepEqual(
    expected.slice(0, 3).map((s) => slice(m.text, s)),
    ['0xe0000000', '0xe0000000..0xf7feffff', 'reserved pci-win32 reserved 0xe0000000..0xf7feffff'],
  );
});

test('a statement inside a device inside a platform: device body and device come before the platform', () => {
  const chain = chainText(HOST.replace('group 18', 'group 1<|>8'));
  assert.deepEqual(chain.slice(0, 4), [
    '18',
    'group 18',
    'bdf 0000:01:00.4; vf-of pf0; iommu smmu0 stream 0x104; group 18',
    'device vf2 { bdf 0000:01:00.4; vf-of pf0; iommu smmu0 stream 0x104; group 18 }',
  ]);
  assert.equal(chain.length, 7); // then the platform body, the platform, the file
  assert.equal(chain[6], HOST);
});

test('a name in a guest: the name, the statement, the guest body, the guest, the file', () => {
  const guest = `guest vm-analytics on armsrv-1 {
  machine virt memory 4G
  assign v<|>f2
}
`;
  assert.deepEqual(chainText(guest), [
    'vf2',
    'assign vf2',
    'machine virt memory 4G\n  assign vf2',
    'guest vm-analytics on armsrv-1 {\n  machine virt memory 4G\n  assign vf2\n}',
    guest.replace('<|>', ''),
  ]);
  // The guest's own name and its platform are outside the body.
  assert.deepEqual(chainText(guest.replace('<|>', '').replace('on armsrv-1', 'on arm<|>srv-1')).slice(0, 2), [
    'armsrv-1',
    'guest vm-analytics on armsrv-1 {\n  machine virt memory 4G\n  assign vf2\n}',
  ]);
});

test('a qualified name, a keyword, an option and a comment', () => {
  const tl = `timeline evacuate-vm-cache {
  // after the migration every name resolves on armsrv-1
  migrate vm-cache to armsrv-1
  hotplug armsrv-1.vf<|>0 into vm-cache
}
`;
  assert.deepEqual(chainText(tl).slice(0, 3), ['vf0', 'armsrv-1.vf0', 'hotplug armsrv-1.vf0 into vm-cache']);
  // A keyword is not a node of its own: the statement is the first step.
  assert.equal(chainText(tl.replace('<|>', '').replace('migrate', 'mig<|>rate'))[0], 'migrate vm-cache to armsrv-1');
  // The body starts at its first comment.
  assert.deepEqual(chainText(tl.replace('<|>', '').replace('every name', 'every <|>name')).slice(0, 2), [
    '// after the migration every name resolves on armsrv-1',
    '// after the migration every name resolves on armsrv-1\n  migrate vm-cache to armsrv-1\n  hotplug armsrv-1.vf0 into vm-cache',
  ]);
  assert.deepEqual(chainText('guest g on p {\n  machine q35 memory 1<|>6G cpu amd\n}\n').slice(0, 3), [
    '16G',
    'memory 16G',
    'machine q35 memory 16G cpu amd',
  ]);
});

test('a cursor at the end of a word selects that word; several offsets give several chains', () => {
  const { text, cursors } = markers('platform p {\n  ram low<|> 0x0..0x7fffffff\n}\n<|>');
  const [atEnd, atEof] = selectionRanges(parseClean(text), cursors);
  assert.deepEqual(
    spans(atEnd)
      .map((s) => slice(text, s))
      .slice(0, 2),
    ['low', 'ram low 0x0..0x7fffffff'],
  );
  assert.deepEqual(spans(atEof), [{ start: 0, end: text.length }]);
});

test('every chain at every offset of realistic and broken text strictly widens and stays in the file', () => {
  const texts = [
    HOST,
    `firmware ovmf-rfc-v1 for sev-web-rfc {
  driver VirtioNetDxe for vnet0 {
    map tx-ring common-buffer size 12K from allocate-buffer pending
    on exit-boot-services tpl callback {   // VirtioNetExitBoot()
      stop-dma
      unmap tx-ring
    }
  }
}`,
    'platform p {\n  reserved r direct 0x1000..\n  device d { bdf 00:1f.',
    '}} guest { assign . ..',
    '',
  ];
  for (const text of texts) {
    const ast = parse(text);
    const offsets = Array.from({ length: text.length + 3 }, (_, i) => i - 1);
    for (const [i, r] of selectionRanges(ast, offsets).entries()) {
      const chain = spans(r);
      const at = Math.max(0, Math.min(offsets[i]!, text.length));
      assert.deepEqual(chain.at(-1), { start: 0, end: text.length });
      for (const [k, s] of chain.entries()) {
        assert.ok(s.start <= at && at <= s.end, `${JSON.stringify(s)} holds ${at}`);
        const parent = chain[k + 1];
        if (parent) assert.ok(parent.start <= s.start && s.end <= parent.end && parent.end - parent.start > s.end - s.start);
      }
    }
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from '@iommu-lens/grammar';
import { foldingRanges, type FoldingRange } from '../../server/src/ide/folding';
import { parseClean } from '../helpers';

/** `[start, end]` or `[start, end, kind]` per range, lines 0-based. */
function folds(text: string): (number | string)[][] {
  return foldingRanges(parse(text), text).map((r: FoldingRange) => (r.kind ? [r.start, r.end, r.kind] : [r.start, r.end]));
}

test('nested platform blocks fold from their declaration to the line before their brace', () => {
  const text = [
    'platform armsrv-0 {', //                          0
    '  arch arm64',
    '  iommu smmu0 smmuv3 {', //                       2
    '    address-width 48',
    '    msi remapped',
    '  }', //                                          5
    '  device pf0 { bdf 0000:01:00.0; group 10 }', //  6: one line, no fold
    '  device vf0 {', //                               7
    '    bdf 0000:01:00.2; vf-of pf0',
    '    iommu smmu0 stream 0x102; group 14 }', //     9: `}` after text
    '  device empty {',
    '  }', //                                          11: nothing between the braces
    '}',
  ].join('\n');
  parseClean(text);
  assert.deepEqual(folds(text), [
    [0, 11],
    [2, 4],
    [7, 8],
  ]);
});

test('firmware > driver > handler folds at every level', () => {
  const text = [
    'firmware ovmf-rfc-v1 for sev-web-rfc {', //                           0
    '  driver VirtioNetDxe for vnet0 {', //                                1
    '    map tx-ring common-buffer size 12K from allocate-buffer pending',
    '    on exit-boot-services tpl callback {', //                         3
    '      stop-dma',
    '      unmap tx-ring',
    '    }',
    '  }',
    '',
    '  iommu-protocol {', //                                               9
    '    on exit-boot-services tpl callback unmap-all',
    '  }',
    '}',
    '',
  ].join('\n');
  parseClean(text);
  assert.deepEqual(folds(text), [
    [0, 11],
    [1, 6],
    [3, 5],
    [9, 10],
  ]);
});

test('a block that opens on the next line folds from its declaration line', () => {
  const text = 'timeline t\n{\n  start g\n  stop g\n}\n';
  assert.deepEqual(folds(text), [[0, 3]]);
});

test('comments: multi-line block comments and runs of two or more whole-line comments', () => {
  const text = [
    '// armsrv-1: older arm64 server', //                 0  run 0-2
    '// /sys/kernel/iommu_groups/13/reserved_regions:',
    '//   0x0000000008000000 0x00000000080fffff msi',
    'platform armsrv-1 { // a trailing comment', //       3
    '  // a single comment: no fold',
    '  arch arm64',
    '  /* PCI windows the CentOS 7', //                   6  block 6-8
    '     kernel exports as reserved',
    '     regions */',
    '  reserved w32 reserved 0xe0000000..0xf7feffff  // trailing', // 9
    '  // not a run with the trailing comment above', //  10 run 10-11
    '  // but with this one',
    '  /* one line */',
    '}',
  ].join('\n');
  parseClean(text);
  assert.deepEqual(folds(text), [
    [0, 2, 'comment'],
    [3, 12],
    [6, 8, 'comment'],
    [10, 11, 'comment'],
  ]);
});

test('region markers fold from marker to end marker, nested; a lone marker folds nothing', () => {
  const text = [
    '// region hosts', //                     0
    'platform a { arch x86_64 }',
    '  //#region inner', //                   2
    'platform b { arch x86_64 }',
    '  // #endregion', //                     4
    '// endregion', //                        5
    '// endregion without a start', //        6
    '// region never closed', //              7
    'platform c { arch x86_64 }',
  ].join('\n');
  assert.deepEqual(folds(text), [
    [0, 5, 'region'],
    [2, 4, 'region'],
  ]);
});

test('an unclosed block folds to the last line with text, nested ones too', () => {
  const text = [
    'firmware f for g {', //     0
    '  driver d for nic {', //   1
    '    map m common-buffer size 4K',
    '    on exit-boot-services tpl callback stop-dma',
    '',
    '',
  ].join('\n');
  const ast = parse(text);
  assert.ok(ast.diagnostics.some((d) => d.code === 'unclosed-block'));
  assert.deepEqual(folds(text), [
    [0, 3],
    [1, 3],
  ]);
});

test('an unterminated block comment folds to the end; nothing crashes on junk or empty text', () => {
  const text = 'platform p {\n  arch x86_64\n}\n/* never\nclosed\n\n';
  assert.deepEqual(folds(text), [
    [0, 1],
    [3, 4, 'comment'],
  ]);
  assert.deepEqual(folds(''), []);
  assert.deepEqual(folds('}}} {{{ platform {\n'), []);
});

test("the host's folding, joined from its declarations', equals the whole file's: regions across declarations, CRLF, an unclosed last block", async () => {
  const { AnalysisHost } = await import('../../server/src/ide');
  const { DOMAINS } = await import('../../server/src/domains');
  const texts = [
    '// region hosts\nplatform a {\n  arch x86\n}\n\n// a note\n// more\nplatform b {\n  arch x86\n}\n// endregion\n\n// region\nguest g on a {\n}\n/* two\nlines */\nplatform c {\n  arch x86\n',
    '//#region x\r\nplatform a {\r\n  arch x86\r\n}\r\n//#endregion\r\nplatform b {\r\n}\r\n/* never closed\r\n\r\n',
  ];
  for (const text of texts) {
    const host = new AnalysisHost(DOMAINS);
    host.setFile('file:///f.iommu', text);
    assert.deepEqual(host.analyze().folding('file:///f.iommu'), foldingRanges(parse(text), text));
  }
});

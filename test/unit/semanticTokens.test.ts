import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnalysisHost } from '../../server/src/ide/analysis';
import {
  encodeSemanticTokens,
  semanticTokens,
  SEMANTIC_TOKEN_MODIFIERS,
  SEMANTIC_TOKEN_TYPES,
  type SemanticTokenType,
} from '../../server/src/ide/semanticTokens';
import { analyze, markers, uri } from '../helpers';
import { DOMAINS } from '../../server/src/domains';

type Tuple = [line: number, char: number, length: number, type: string, modifiers: string, text: string];

/**
 * Analyses `text` as a.iommu and decodes LSP's relative data back into tuples, each with
 * the text it covers, so an expectation reads like the file.
 */
function decode(text: string, range?: { start: number; end: number }): Tuple[] {
  const a = analyze({ 'a.iommu': text });
  const data = encodeSemanticTokens(semanticTokens(a, uri('a.iommu'), range), a.lineIndex(uri('a.iommu')));
  const lines = text.split(/\r?\n/);
  const out: Tuple[] = [];
  let line = 0,
    char = 0;
  for (let i = 0; i < data.length; i += 5) {
    const [dl, dc, len, type, mods] = data.slice(i, i + 5) as [number, number, number, number, number];
    line += dl;
    char = dl ? dc : char + dc;
    const names = SEMANTIC_TOKEN_MODIFIERS.filter((_, bit) => mods & (1 << bit)).join(',');
    out.push([line, char, len, SEMANTIC_TOKEN_TYPES[type]!, names, lines[line]!.slice(char, char + len)]);
  }
  return out;
}

const FILE = `// armsrv-0
platform h {
  iommu vtd0 vt-d { address-width 39 }
  reserved ir msi 0xfee00000..0xfeefffff
  device msi { bdf 00:01.0; iommu vtd0; group 1 }
}
guest g on h {
  ram low 0x0 size 2G
  assign msi
}
/* steps:
   start, then stop */
timeline t {
  start g
  stop g
}
`;

test('a platform, a guest and a timeline, token by token; a device called msi is a device', () => {
  assert.deepEqual(decode(FILE), [
    [0, 0, 11, 'comment', '', '// armsrv-0'],
    [1, 0, 8, 'keyword', '', 'platform'],
    [1, 9, 1, 'namespace', 'declaration,definition', 'h'],
    [2, 2, 5, 'keyword', '', 'iommu'],
    [2, 8, 4, 'interface', 'declaration', 'vtd0'],
    [2, 13, 4, 'enumMember', 'defaultLibrary', 'vt-d'],
    [2, 20, 13, 'keyword', '', 'address-width'],
    [2, 34, 2, 'number', '', '39'],
    [3, 2, 8, 'keyword', '', 'reserved'],
    [3, 11, 2, 'property', 'declaration,readonly', 'ir'],
    [3, 14, 3, 'enumMember', 'defaultLibrary', 'msi'], // the region type
    [3, 18, 10, 'number', '', '0xfee00000'],
    [3, 28, 2, 'operator', '', '..'],
    [3, 30, 10, 'number', '', '0xfeefffff'],
    [4, 2, 6, 'keyword', '', 'device'],
    [4, 9, 3, 'variable', 'declaration', 'msi'], // the device
    [4, 15, 3, 'keyword', '', 'bdf'],
    [4, 19, 7, 'number', '', '00:01.0'],
    [4, 28, 5, 'keyword', '', 'iommu'],
    [4, 34, 4, 'interface', '', 'vtd0'],
    [4, 40, 5, 'keyword', '', 'group'],
    [4, 46, 1, 'number', '', '1'],
    [6, 0, 5, 'keyword', '', 'guest'],
    [6, 6, 1, 'class', 'declaration,definition', 'g'],
    [6, 8, 2, 'keyword', '', 'on'],
    [6, 11, 1, 'namespace', '', 'h'],
    [7, 2, 3, 'keyword', '', 'ram'],
    [7, 6, 3, 'property', 'declaration', 'low'],
    [7, 10, 3, 'number', '', '0x0'],
    [7, 14, 4, 'keyword', '', 'size'],
    [7, 19, 2, 'number', '', '2G'],
    [8, 2, 6, 'keyword', '', 'assign'],
    [8, 9, 3, 'variable', '', 'msi'], // a use of the device
    [10, 0, 9, 'comment', '', '/* steps:'], // one block comment, one token per line
    [11, 0, 22, 'comment', '', '   start, then stop */'],
    [12, 0, 8, 'keyword', '', 'timeline'],
    [12, 9, 1, 'function', 'declaration,definition', 't'],
    [13, 2, 5, 'keyword', '', 'start'],
    [13, 8, 1, 'class', '', 'g'],
    [14, 2, 4, 'keyword', '', 'stop'],
    [14, 7, 1, 'class', '', 'g'],
  ]);
});

test('the relative encoding itself: delta line, delta start, length, type index, modifier bits', () => {
  const a = analyze({ 'a.iommu': 'platform p {\n  arch x86_64\n}\n' });
  const data = encodeSemanticTokens(semanticTokens(a, uri('a.iommu')), a.lineIndex(uri('a.iommu')));
  const T = (t: SemanticTokenType) => SEMANTIC_TOKEN_TYPES.indexOf(t);
  assert.deepEqual(data, [
    0,
    0,
    8,
    T('keyword'),
    0,
    0,
    9,
    1,
    T('namespace'),
    0b11, // declaration | definition
    1,
    2,
    4,
    T('keyword'),
    0,
    0,
    5,
    6,
    T('enumMember'),
    0b1000, // defaultLibrary
  ]);
});

test('a range request returns only the tokens that overlap it', () => {
  const m = markers(FILE.replace('guest g on h {\n  ram low', '[[guest g on h {\n  ram lo]]w'));
  assert.deepEqual(
    decode(m.text, m.ranges[0]).map((t) => t[5]),
    ['guest', 'g', 'on', 'h', 'ram', 'low'],
  );
});

test('firmware: events declared and used, enumerated values, keywords spelt as names that resolve to nothing', () => {
  const text = `platform h {
  device nvme2 { bdf 00:02.0; group 2 }
}
guest g on h { assign nvme2 }
firmware fw for g {
  driver NvmExpressDxe for nvme2 {
    map admin-sq common-buffer size 4K from allocate-buffer pending
    on exit-boot-services tpl callback signal nvme-shutdown
    on event nvme-shutdown tpl callback stop-dma
  }
}
guest g2 on h { assign start }
`;
  const tokens = decode(text).filter((t) => t[0] >= 5);
  assert.deepEqual(tokens, [
    [5, 2, 6, 'keyword', '', 'driver'],
    [5, 9, 13, 'class', 'declaration', 'NvmExpressDxe'],
    [5, 23, 3, 'keyword', '', 'for'],
    [5, 27, 5, 'variable', '', 'nvme2'],
    [6, 4, 3, 'keyword', '', 'map'],
    [6, 8, 8, 'variable', 'declaration', 'admin-sq'],
    [6, 17, 13, 'enumMember', 'defaultLibrary', 'common-buffer'],
    [6, 31, 4, 'keyword', '', 'size'],
    [6, 36, 2, 'number', '', '4K'],
    [6, 39, 4, 'keyword', '', 'from'],
    [6, 44, 15, 'enumMember', 'defaultLibrary', 'allocate-buffer'],
    [6, 60, 7, 'keyword', '', 'pending'],
    [7, 4, 2, 'keyword', '', 'on'],
    [7, 7, 18, 'keyword', '', 'exit-boot-services'],
    [7, 26, 3, 'keyword', '', 'tpl'],
    [7, 30, 8, 'enumMember', 'defaultLibrary', 'callback'],
    [7, 39, 6, 'keyword', '', 'signal'],
    [7, 46, 13, 'event', '', 'nvme-shutdown'],
    [8, 4, 2, 'keyword', '', 'on'],
    [8, 7, 5, 'keyword', '', 'event'],
    [8, 13, 13, 'event', 'declaration', 'nvme-shutdown'], // declared and used here: the declaration wins
    [8, 27, 3, 'keyword', '', 'tpl'],
    [8, 31, 8, 'enumMember', 'defaultLibrary', 'callback'],
    [8, 40, 8, 'keyword', '', 'stop-dma'],
    // `start` names a device that does not exist: not a keyword, so no token at all
    [11, 0, 5, 'keyword', '', 'guest'],
    [11, 6, 2, 'class', 'declaration,definition', 'g2'],
    [11, 9, 2, 'keyword', '', 'on'],
    [11, 12, 1, 'namespace', '', 'h'],
    [11, 16, 6, 'keyword', '', 'assign'],
  ]);
});

test('a multi-line block comment with CRLF and a blank line: one token per non-empty line, no line breaks', () => {
  const text = 'platform p {\r\n  /* two\r\n\r\n     lines */ arch arm64\r\n}\r\n';
  assert.deepEqual(decode(text), [
    [0, 0, 8, 'keyword', '', 'platform'],
    [0, 9, 1, 'namespace', 'declaration,definition', 'p'],
    [1, 2, 6, 'comment', '', '/* two'],
    [3, 0, 13, 'comment', '', '     lines */'],
    [3, 14, 4, 'keyword', '', 'arch'],
    [3, 19, 5, 'enumMember', 'defaultLibrary', 'arm64'],
  ]);
});

test('broken, unknown and oversized files give tokens inside the text or none', () => {
  const broken = 'platform {\n  reserved r direct 0x1000..\n  device msi { bdf 00:1f.\n/* open';
  const tokens = decode(broken);
  assert.ok(tokens.length > 0);
  for (const [line, char, len] of tokens) assert.ok(char + len <= broken.split('\n')[line]!.length);
  assert.deepEqual(semanticTokens(analyze({ 'a.iommu': FILE }), uri('other.iommu')), []);
  const host = new AnalysisHost(DOMAINS, { maxFileSize: 10 });
  host.setFile(uri('a.iommu'), FILE);
  assert.deepEqual(semanticTokens(host.analyze(), uri('a.iommu')), []);
});

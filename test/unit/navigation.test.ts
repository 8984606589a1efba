/**
 * Go to definition, references, highlights, rename, document and workspace symbols, on
 * inline text with `<|>` cursors and `[[ranges]]` (the spans expected back).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  definition,
  documentHighlights,
  documentSymbols,
  prepareRename,
  references,
  rename,
  workspaceSymbols,
  type OutlineSymbol,
} from '../../server/src/ide';
import { analyze, applyEdits, markers, slice, uri } from '../helpers';

/** seed 002's shape: two ARM hosts with a VF of the same name, a guest that migrates. */
const HOSTS = `platform armsrv-0 {
  arch arm64
  iommu smmu0 smmuv3
  device [[vf0]] { bdf 0000:01:00.2; iommu smmu0 stream 0x102; group 15 }
  device vf1 { bdf 0000:01:00.3; iommu smmu0 stream 0x103; group 16 }
}
platform armsrv-1 {
  arch arm64
  iommu smmu0 smmuv3
  device vf0 { bdf 0000:01:00.2; iommu smmu0 stream 0x102; group 15 }
}
`;
const GUEST = `guest vm-cache on armsrv-0 {
  ram mem 0x40000000..0xbfffffff
  assign [[v<|>f0]]
}
`;
const TIMELINE = `timeline evacuate {
  start vm-cache
  unplug [[vf0]] from vm-cache
  hotplug [[vf0]] into vm-cache
  unplug [[vf0]] from vm-cache
  migrate vm-cache to armsrv-1
  hotplug armsrv-1.vf0 into vm-cache
}
`;

function workspace() {
  const h = markers(HOSTS),
    g = markers(GUEST),
    t = markers(TIMELINE);
  const files = { 'hosts.iommu': h.text, 'guest.iommu': g.text, 'timeline.iommu': t.text };
  return { a: analyze(files), files, h, g, t };
}

describe('navigation', () => {
  test("definition of a device use is its declaration on the guest's platform", () => {
    const { a, h, g } = workspace();
    assert.deepEqual(
      a.all.map((f) => f.code),
      [],
    );
    assert.deepEqual(definition(a, uri('guest.iommu'), g.cursors[0]!), { uri: uri('hosts.iommu'), span: h.ranges[0] });
    // On the declaration itself: the declaration.
    assert.deepEqual(definition(a, uri('hosts.iommu'), h.ranges[0]!.start + 1), { uri: uri('hosts.iommu'), span: h.ranges[0] });
    // Whitespace and keywords are not names.
    assert.equal(definition(a, uri('guest.iommu'), 2), undefined);
  });

  test('references span files and stop at the migration: armsrv-1.vf0 is another device', () => {
    const { a, h, g, t } = workspace();
    const found = references(a, uri('guest.iommu'), g.cursors[0]!);
    assert.deepEqual(found, [
      { uri: uri('hosts.iommu'), span: h.ranges[0] },
      { uri: uri('guest.iommu'), span: g.ranges[0] },
      { uri: uri('timeline.iommu'), span: t.ranges[0] },
      { uri: uri('timeline.iommu'), span: t.ranges[1] },
      { uri: uri('timeline.iommu'), span: t.ranges[2] },
    ]);
    assert.equal(references(a, uri('guest.iommu'), g.cursors[0]!, false).length, 4);
    const other = TIMELINE.replace(/\[\[|\]\]/g, '').indexOf('armsrv-1.vf0') + 'armsrv-1.'.length;
    const second = references(a, uri('timeline.iommu'), other);
    assert.deepEqual(
      second.map((l) => [l.uri, l.span.start]),
      [
        [uri('hosts.iommu'), HOSTS.replace(/\[\[|\]\]/g, '').lastIndexOf('vf0')],
        [uri('timeline.iommu'), other],
      ],
    );
  });

  test('highlights: the declaration is a write, uses are reads, this file only', () => {
    const { a, t } = workspace();
    const hl = documentHighlights(a, uri('timeline.iommu'), t.ranges[0]!.start);
    assert.deepEqual(
      hl,
      [0, 1, 2].map((i) => ({ span: t.ranges[i], kind: 'read' })),
    );
    const { text, cursors, ranges } = markers('guest [[g]] on p {\n}\ntimeline t {\n  start [[<|>g]]\n  stop [[g]]\n}\nplatform p {\n}\n');
    const b = analyze({ 'x.iommu': text });
    assert.deepEqual(documentHighlights(b, uri('x.iommu'), cursors[0]!), [
      { span: ranges[0], kind: 'write' },
      { span: ranges[1], kind: 'read' },
      { span: ranges[2], kind: 'read' },
    ]);
  });
});

describe('rename', () => {
  test("renames the declaration and every resolved use, across files, not the other platform's vf0", () => {
    const { a, files, g } = workspace();
    const prep = prepareRename(a, uri('guest.iommu'), g.cursors[0]!);
    assert.deepEqual(prep, { span: g.ranges[0], placeholder: 'vf0' });
    const r = rename(a, uri('guest.iommu'), g.cursors[0]!, 'cache-vf');
    assert.ok('edits' in r);
    const byFile = (name: string) => r.edits.filter((e) => e.uri === uri(name));
    const after = Object.fromEntries(Object.entries(files).map(([n, text]) => [n, applyEdits(text, byFile(n))]));
    assert.match(after['hosts.iommu']!, /device cache-vf \{ bdf 0000:01:00\.2; iommu smmu0 stream 0x102; group 15 \}\n {2}device vf1/);
    assert.match(after['hosts.iommu']!, /platform armsrv-1 \{\n {2}arch arm64\n {2}iommu smmu0 smmuv3\n {2}device vf0 /);
    assert.match(after['guest.iommu']!, /assign cache-vf\n/);
    assert.match(
      after['timeline.iommu']!,
      /unplug cache-vf from vm-cache\n {2}hotplug cache-vf into vm-cache\n {2}unplug cache-vf from vm-cache\n {2}migrate vm-cache to armsrv-1\n {2}hotplug armsrv-1\.vf0 into/,
    );
    // The renamed workspace means the same: still clean, same number of resolved uses.
    const b = analyze(after);
    assert.deepEqual(
      b.all.map((f) => f.code),
      [],
    );
    assert.equal(b.model.references.length, a.model.references.length);
  });

  test('renaming a platform rewrites qualified uses and `on`/`to` targets', () => {
    const { a, files, t } = workspace();
    const at = TIMELINE.replace(/\[\[|\]\]/g, '').indexOf('armsrv-1.vf0') + 2;
    assert.ok(t.text.length > at);
    const r = rename(a, uri('timeline.iommu'), at, 'armsrv-9');
    assert.ok('edits' in r);
    const after = Object.fromEntries(
      Object.entries(files).map(([n, text]) => [
        n,
        applyEdits(
          text,
          r.edits.filter((e) => e.uri === uri(n)),
        ),
      ]),
    );
    assert.match(after['timeline.iommu']!, /migrate vm-cache to armsrv-9\n {2}hotplug armsrv-9\.vf0 into/);
    assert.match(after['hosts.iommu']!, /platform armsrv-9 \{/);
    assert.deepEqual(
      analyze(after).all.map((f) => f.code),
      [],
    );
  });

  test('refuses a taken name in the same namespace, allows it in another', () => {
    const { a, g } = workspace();
    const taken = rename(a, uri('guest.iommu'), g.cursors[0]!, 'vf1');
    assert.deepEqual(taken, { error: "'vf1' is already a device of armsrv-0 (line 5 of file:///ws/hosts.iommu)." });
    const member = rename(a, uri('guest.iommu'), g.cursors[0]!, 'smmu0');
    assert.ok('error' in member && /already an IOMMU of armsrv-0/.test(member.error));
    // Global names share one namespace: a guest cannot take a platform's name.
    const guestAt = GUEST.indexOf('vm-cache') + 1;
    const global = rename(a, uri('guest.iommu'), guestAt, 'armsrv-1');
    assert.ok('error' in global && /already a platform/.test(global.error));
    // A guest RAM region may share a device's name: different namespaces.
    const memAt = GUEST.indexOf('mem ') + 1;
    assert.ok('edits' in rename(a, uri('guest.iommu'), memAt, 'vf0'));
  });

  test("namespaces belong to declarations, not to names: two firmwares' drivers D, a guest and a Xen domain both called g1", () => {
    const { text, cursors } = markers(`platform p {
  arch x86_64
  iommu i amd-vi
  device nic0 { bdf 00:01.0; iommu i; group 1 }
}
guest g1 on p {
  ram l<|>ow 0x0..0xfffff
  ram other 0x100000..0x1fffff
}
firmware fa for g1 {
  driver D for nic0 {
    map m1 common-buffer size 4K from allocate-buffer pending
  }
}
firmware fb for g1 {
  driver D for nic0 {
    map m<|>2 common-buffer size 4K from allocate-buffer pending
    map m3 common-buffer size 4K from allocate-buffer pending
  }
}
xen x on p {
  domain g1 {
    ram low 0x0..0xfff
  }
}
`);
    const a = analyze({ 'w.iommu': text });
    // fa's D has an m1; fb's D does not.
    assert.ok('edits' in rename(a, uri('w.iommu'), cursors[1]!, 'm1'));
    assert.deepEqual(rename(a, uri('w.iommu'), cursors[1]!, 'm3'), { error: "'m3' is already a DMA mapping of D (line 18)." });
    // The Xen domain g1's RAM is not the guest g1's.
    assert.deepEqual(rename(a, uri('w.iommu'), cursors[0]!, 'other'), { error: "'other' is already a guest RAM region of g1 (line 8)." });
    const xenLow = text.lastIndexOf('low') + 1;
    assert.ok('edits' in rename(a, uri('w.iommu'), xenLow, 'other'));
  });

  test("dom0 is the language's own name: no rename", () => {
    const { text, cursors } = markers('platform p { arch x86_64 }\nxen x on p {\n  do<|>m0 {\n    mode pvh\n  }\n}\n');
    const a = analyze({ 'x.iommu': text });
    assert.deepEqual(prepareRename(a, uri('x.iommu'), cursors[0]!), { error: "'dom0' is fixed by the language; it cannot be renamed." });
    assert.ok('error' in rename(a, uri('x.iommu'), cursors[0]!, 'zzq'));
  });

  test('refuses what is not a name, and places without a name', () => {
    const { a, g } = workspace();
    for (const bad of ['', '0x10', 'two words', 'a.b', '-x']) {
      const r = rename(a, uri('guest.iommu'), g.cursors[0]!, bad);
      assert.ok('error' in r && /is not a name/.test(r.error), bad);
    }
    assert.deepEqual(prepareRename(a, uri('guest.iommu'), 0), { error: 'There is no declared name here to rename.' });
  });
});

describe('symbols', () => {
  const names = (list: OutlineSymbol[], depth = 0): string[] =>
    list.flatMap((s) => [`${'  '.repeat(depth)}${s.kind} ${s.name}${s.detail ? ` (${s.detail})` : ''}`, ...names(s.children, depth + 1)]);

  test('the outline nests as the blocks nest, with what each name is', () => {
    const { a, h } = workspace();
    const outline = documentSymbols(a, uri('hosts.iommu'));
    assert.deepEqual(names(outline), [
      'platform armsrv-0 (arm64)',
      '  iommu smmu0 (smmuv3)',
      '  device vf0 (0000:01:00.2, behind smmu0, group 15)',
      '  device vf1 (0000:01:00.3, behind smmu0, group 16)',
      'platform armsrv-1 (arm64)',
      '  iommu smmu0 (smmuv3)',
      '  device vf0 (0000:01:00.2, behind smmu0, group 15)',
    ]);
    assert.equal(slice(h.text, outline[0]!.children[1]!.nameSpan), 'vf0');
    assert.equal(slice(h.text, outline[0]!.span).split('\n').length, 6);
    assert.deepEqual(names(documentSymbols(a, uri('guest.iommu'))), [
      'guest vm-cache (on armsrv-0)',
      '  guest-ram mem (0x40000000..0xbfffffff)',
    ]);
  });

  test('workspace symbols: exact, prefix, then subsequence; all files', () => {
    const { a } = workspace();
    assert.deepEqual(
      workspaceSymbols(a, 'vf0').map((s) => `${s.container}.${s.name}`),
      ['armsrv-0.vf0', 'armsrv-1.vf0'],
    );
    assert.deepEqual(
      workspaceSymbols(a, 'arm').map((s) => s.name),
      ['armsrv-0', 'armsrv-1'],
    );
    assert.deepEqual(
      workspaceSymbols(a, 'vmc').map((s) => s.name),
      ['vm-cache'],
    );
    assert.deepEqual(workspaceSymbols(a, 'zz'), []);
    assert.equal(workspaceSymbols(a, '').length, a.model.symbols.length);
  });
});

/**
 * The host's side of a progressive analysis (the server's start-up in a large folder):
 * `prepare` does the open documents' components first, then the others smallest first,
 * and hands out each component's findings as `analyze` will report them; a slow component
 * holds back none of those before it; `analyze(need)` answers from the components done
 * plus those of `need`; an incomplete workspace (files left unread) reports no
 * `unknown-name`; a file held by its size alone is `file-too-large`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnalysisHost, type Stages } from '../../server/src/ide';
import { buildModel, type Finding } from '../../server/src/model';
import { simulate } from '../../server/src/sim';
import { parse } from '@iommu-lens/grammar';
import { exampleFiles, uri } from '../helpers';
import { DOMAINS } from '../../server/src/domains';

const codes = (list: readonly Finding[] | undefined) => (list ?? []).map((f) => f.code);

/** Runs `prepare` to the end, one component per call, recording what each call hands out. */
function prepareAll(host: AnalysisHost, first: ReadonlySet<string> = new Set()): Map<string, Finding[]>[] {
  const handed: Map<string, Finding[]>[] = [];
  // A deadline already past: every call does one unit of work.
  for (let i = 0; host.prepare(-1, undefined, { first, finished: (f) => handed.push(new Map(f)) }); i++) assert.ok(i < 10_000);
  return handed;
}

describe('prepare, component by component', () => {
  test("the open documents' components first, then the smallest; each handed out as analyze reports it", () => {
    const host = new AnalysisHost(DOMAINS);
    host.setFile(uri('big.iommu'), `platform big {\n  arch x86_64\n${'  // padding\n'.repeat(200)}}\n`);
    host.setFile(uri('mid.iommu'), `platform mid {\n  arch x86_64\n${'  // padding\n'.repeat(20)}}\n`);
    host.setFile(uri('small.iommu'), 'platform small { arch sparc }\n');
    host.setFile(uri('guest.iommu'), 'guest g on mid {\n  ram r 0x0 size 1G\n}\n');
    const handed = prepareAll(host, new Set([uri('guest.iommu')]));
    assert.deepEqual(
      handed.map((m) => [...m.keys()]),
      [[uri('guest.iommu'), uri('mid.iommu')], [uri('small.iommu')], [uri('big.iommu')]],
    );
    const a = host.analyze();
    assert.equal(a.stats.components, 3);
    for (const m of handed) for (const [u, list] of m) assert.deepEqual(list, a.findings.get(u), u);
    assert.deepEqual(codes(a.findings.get(uri('small.iommu'))), ['syntax-error']);
  });

  test('a slow component holds back none before it, and a partial analysis needs only the open one', () => {
    let slow = 0;
    const stages: Stages = {
      parse,
      simulate,
      buildModel: (files, schema, names) => {
        if (files.some((f) => f.uri.endsWith('slow.iommu'))) slow++;
        return buildModel(files, schema, names);
      },
    };
    const host = new AnalysisHost(DOMAINS, undefined, stages);
    for (const f of exampleFiles('seed-002-arm-msi-migration')) host.setFile(f.uri, f.text);
    host.setFile(uri('slow.iommu'), `platform slow {\n  arch x86_64\n${'  // a large file\n'.repeat(5000)}}\n`);
    const open = exampleFiles('seed-002-arm-msi-migration').find((f) => f.uri.endsWith('vm-analytics.iommu'))!.uri;
    const partial = host.analyze(undefined, undefined, new Set([open]));
    assert.equal(slow, 0, 'the slow component is not modelled for a request on another');
    assert.ok(partial.leftOut?.has(uri('slow.iommu')));
    assert.ok(!partial.leftOut?.has(open));
    assert.deepEqual(codes(partial.findings.get(open)), ['ram-over-reserved']);
    const handed = prepareAll(host, new Set([open]));
    assert.equal(slow, 1);
    assert.deepEqual([...handed.at(-1)!.keys()], [uri('slow.iommu')], 'the largest component last');
    assert.equal(host.analyze().leftOut, undefined);
  });
  test('a partial analysis that needs every component drops the runs of components gone, as a whole one does', () => {
    // The server adopts such an analysis as its run (most edits); it kept every component
    // ever modelled, so the soak test's heap doubled under load. The runs are private: read
    // them here, since the memory they hold is the point.
    const runs = (h: AnalysisHost) => (h as unknown as { runs: Map<string, unknown> }).runs.size;
    const host = new AnalysisHost(DOMAINS);
    host.setFile(uri('p.iommu'), 'platform p { arch x86_64 }\n');
    host.setFile(uri('g.iommu'), 'guest g on p {\n  ram r 0x0 size 1G\n}\n');
    host.analyze();
    assert.equal(runs(host), 1);
    for (let i = 0; i < 5; i++) {
      host.setFile(uri('g.iommu'), `guest g on q${i} {\n  ram r 0x0 size 1G\n}\n`);
      const a = host.analyze(undefined, undefined, new Set(host.uris()));
      assert.equal(a.leftOut, undefined, 'every component was needed');
    }
    assert.equal(runs(host), 2, 'the two components of the last split only');
  });
});

describe('a workspace with files left unread', () => {
  test('reports no unknown-name, and reports it again once complete', () => {
    const host = new AnalysisHost(DOMAINS, { maxFileSize: 2 ** 21, incomplete: true });
    host.setFile(uri('g.iommu'), 'guest g on elsewhere {\n  ram r 0x0 size 1G\n}\n}\n');
    assert.deepEqual(codes(host.analyze().findings.get(uri('g.iommu'))), ['syntax-error']);
    host.setOptions({ maxFileSize: 2 ** 21 });
    assert.deepEqual(codes(host.analyze().findings.get(uri('g.iommu'))), ['unknown-name', 'syntax-error']);
  });

  test('a file held by its size alone is file-too-large, and its names are unknown', () => {
    const host = new AnalysisHost(DOMAINS, { maxFileSize: 100 });
    assert.equal(host.setOversized(uri('huge.iommu'), 10_000), true);
    assert.equal(host.setOversized(uri('huge.iommu'), 10_000), false, 'the same size again is no change');
    assert.deepEqual(host.size(), { files: 1, chars: 0 });
    const [f] = host.analyze().findings.get(uri('huge.iommu'))!;
    assert.equal(
      f!.message,
      'file is 10000 bytes, more than three times the limit of 100 characters (setting iommuLens.maxFileSize); it was not read',
    );
    host.setFile(uri('huge.iommu'), 'platform p { }\n');
    assert.deepEqual(host.size(), { files: 1, chars: 15 });
    assert.deepEqual(codes(host.analyze().findings.get(uri('huge.iommu'))), []);
  });
});

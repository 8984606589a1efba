/**
 * `check` component by component (server/src/cli/stream.ts): the findings of every example
 * are exactly those of one host holding every file, whether the ASTs are kept from the first
 * pass or parsed again, and the shards of a split, put back in file order, are the whole.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from '@iommu-lens/grammar';
import { AnalysisHost, type Stages } from '../../server/src/ide';
import { buildModel } from '../../server/src/model';
import { simulate } from '../../server/src/sim';
import type { InputFile } from '../../server/src/cli/files';
import type { PlacedFinding } from '../../server/src/cli/report';
import { assignShards, checkStreamed, placeAll, type StreamOptions, type Streamed } from '../../server/src/cli/stream';
import { DEFAULT_OPTIONS } from '../../server/src/ide';
import { exampleFiles, uri } from '../helpers';
import { DOMAINS } from '../../server/src/domains';

function inputs(files: { uri: string; text: string }[]): InputFile[] {
  return files
    .map((f) => ({
      path: f.uri.slice('file://'.length),
      uri: f.uri,
      display: f.uri.slice('file:///ws/'.length),
      text: f.text,
      invalidUtf8: [],
    }))
    .sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
}

/** One host with every file, as `check` was before it streamed. */
function whole(files: InputFile[]): PlacedFinding[] {
  const host = new AnalysisHost(DOMAINS);
  for (const f of files) host.setFile(f.uri, f.text);
  return placeAll(host.analyze(), files);
}

const streamed = (files: InputFile[], o: Partial<StreamOptions> = {}): Streamed => {
  const r = checkStreamed(files, { options: DEFAULT_OPTIONS, shard: { index: 0, count: 1 }, jobs: 1, ...o });
  assert.ok(!(r instanceof Promise), 'without a worker script, the run is synchronous');
  return r;
};

/** The stages with their parses counted. */
function counting(): { stages: Stages; parses: () => number } {
  let n = 0;
  return {
    stages: {
      parse: (t) => {
        n++;
        return parse(t);
      },
      buildModel,
      simulate,
    },
    parses: () => n,
  };
}

describe('check component by component', () => {
  const examples = inputs(exampleFiles());

  test('every example: the findings of one host with every file, each file parsed once', () => {
    const { stages, parses } = counting();
    const r = streamed(examples, { stages });
    assert.deepEqual(r.findings, whole(examples));
    assert.equal(r.files, examples.length);
    assert.ok(r.findings.length > 10, `${r.findings.length} findings`);
    assert.equal(parses(), examples.length, 'the ASTs of the first pass are used by the second');
  });

  test('with no room for ASTs, files are parsed again per component: the same findings', () => {
    const { stages, parses } = counting();
    assert.deepEqual(streamed(examples, { stages, astBudget: 0 }).findings, whole(examples));
    assert.ok(parses() >= 2 * examples.length, `${parses()} parses`);
  });

  test('shards: every file in exactly one; put back in file order they are the whole output', () => {
    for (const count of [2, 3, 7]) {
      const shards = Array.from({ length: count }, (_, index) => streamed(examples, { shard: { index, count } }));
      assert.equal(
        shards.reduce((n, s) => n + s.files, 0),
        examples.length,
      );
      const order = new Map(examples.map((f, i) => [f.uri, i]));
      const merged = shards.flatMap((s) => s.findings).sort((a, b) => order.get(a.uri)! - order.get(b.uri)!);
      assert.deepEqual(merged, whole(examples), `${count} shards`);
      assert.ok(shards.filter((s) => s.files > 0).length > 1, 'the work is split');
    }
  });

  test('a timeline device with no guest in play: the workspace is one component, as in the host', () => {
    // t.iommu names gpu0 (a device, not a global name): without the fallback it would be its own component, and gpu0 unknown.
    const files = inputs([
      { uri: uri('a.iommu'), text: 'platform epyc-a {\n  device gpu0 { bdf 0000:41:00.0 }\n}\n' },
      { uri: uri('t.iommu'), text: 'timeline t {\n  config gpu0 command MSE\n}\n' },
      { uri: uri('z.iommu'), text: 'guest g on nosuch {\n}\n' },
    ]);
    const expected = whole(files);
    assert.ok(!expected.some((f) => f.uri === uri('t.iommu')), 'gpu0 resolves on epyc-a');
    assert.deepEqual(streamed(files).findings, expected);
    const shards = [0, 1].map((index) => streamed(files, { shard: { index, count: 2 } }));
    assert.deepEqual(
      shards.map((s) => s.files),
      [3, 0],
      'one component: all in one shard',
    );
  });

  test('a file over the size limit and one the parser fails on: reported as the host does', () => {
    const files = inputs([
      { uri: uri('big.iommu'), text: `platform p {\n${'  // filler\n'.repeat(50)}}\n` },
      { uri: uri('g.iommu'), text: 'guest g on p {\n}\n' },
      { uri: uri('bad.iommu'), text: 'platform boom {\n}\n' },
    ]);
    const stages: Stages = {
      parse: (t) => {
        if (t.includes('boom')) throw new Error('parser bug');
        return parse(t);
      },
      buildModel,
      simulate,
    };
    const options = { maxFileSize: 100 };
    const host = new AnalysisHost(DOMAINS, options, stages);
    for (const f of files) host.setFile(f.uri, f.text);
    const expected = placeAll(host.analyze(), files);
    assert.deepEqual(expected.map((f) => f.code).sort(), ['file-too-large', 'internal-error', 'unknown-name']);
    // The internal error's stack (for stderr) differs by its call path only.
    const noStack = (list: PlacedFinding[]) => list.map(({ cause, ...f }) => ({ ...f, cause: cause?.split('\n')[0] }));
    assert.deepEqual(noStack(streamed(files, { options, stages }).findings), noStack(expected));
  });

  test('the split depends on the components, not the order they come in', () => {
    const sizes = [5, 9, 9, 1, 4, 7];
    const keys = ['e', 'b', 'a', 'f', 'd', 'c'];
    const shards = assignShards(sizes, keys, 3);
    const perm = [3, 1, 5, 0, 2, 4];
    const again = assignShards(
      perm.map((i) => sizes[i]!),
      perm.map((i) => keys[i]!),
      3,
    );
    assert.deepEqual(
      perm.map((i) => shards[i]),
      again,
    );
    // Largest first, each to the least loaded: a 9 -> 0, b 9 -> 1, c 7 -> 2, e 5 -> 2, d 4 -> 0, f 1 -> 1.
    assert.deepEqual(shards, [2, 1, 0, 1, 0, 2]);
    const load = [0, 0, 0];
    sizes.forEach((s, i) => {
      load[shards[i]!] = load[shards[i]!]! + s;
    });
    assert.ok(Math.max(...load) - Math.min(...load) <= 9, `balanced: ${load}`);
  });
});

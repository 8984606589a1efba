/**
 * The host models a workspace by components (files linked by names) and reuses the
 * components an edit does not touch. The findings must be exactly those of modelling the
 * workspace as one piece; suggestions still see every file's names; a lookup across
 * every platform falls back to one component.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from '@iommu-lens/grammar';
import { AnalysisHost, type Analysis } from '../../server/src/ide';
import { components } from '../../server/src/ide/workspacePartition';
import { buildModel, compareFindings, fileNames } from '../../server/src/model';
import { simulate } from '../../server/src/sim';
import { analyze, exampleFiles, uri } from '../helpers';
import { DOMAINS, ENGINES, GUEST_CHECKS, MODEL_SCHEMA } from '../../server/src/domains';

const examples = exampleFiles();
const key = (a: Analysis) =>
  [...a.findings.values()].flat().map((f) => `${f.uri}:${f.span.start}-${f.span.end} ${f.severity} ${f.code} ${f.message}`);

/** The same workspace modelled and simulated as one piece, without the host (the examples have no syntax errors). */
function wholeFindings(files: { uri: string; text: string }[]): string[] {
  const m = buildModel(
    files.map((f) => ({ uri: f.uri, ast: parse(f.text) })),
    MODEL_SCHEMA,
  );
  return [...m.findings, ...simulate(m.model, ENGINES, undefined, GUEST_CHECKS).findings]
    .sort(compareFindings)
    .map((f) => `${f.uri}:${f.span.start}-${f.span.end} ${f.severity} ${f.code} ${f.message}`);
}

describe('components', () => {
  test('files join through the global names they mention; unrelated files stay apart', () => {
    const names = [
      'platform a { device d0 { bdf 0000:01:00.0 } }',
      'guest g1 on a { assign d0 }',
      'platform b { device d0 { bdf 0000:01:00.0 } }',
      'timeline t { start g1 }',
      'xen x on b { domain web { } }',
      'timeline u { balloon web 0x1000 size 4K }',
    ].map((t) => fileNames(parse(t), MODEL_SCHEMA));
    assert.deepEqual(components(names), [
      [0, 1, 3],
      [2, 4, 5],
    ]);
  });

  test('duplicate declarations share a component, so duplicate-name is still found', () => {
    const names = ['platform a { }', 'platform a { }'].map((t) => fileNames(parse(t), MODEL_SCHEMA));
    assert.deepEqual(components(names), [[0, 1]]);
  });

  test('every example: the same findings as modelling the workspace as one piece', () => {
    const host = new AnalysisHost(DOMAINS);
    for (const f of examples) host.setFile(f.uri, f.text);
    const a = host.analyze();
    assert.ok(a.stats.components >= 7, `the examples split into components (${a.stats.components})`);
    assert.deepEqual(key(a), wholeFindings(examples));
  });

  test("an edit re-models only its component; the findings equal a fresh host's", () => {
    const host = new AnalysisHost(DOMAINS);
    for (const f of examples) host.setFile(f.uri, f.text);
    const first = host.analyze();
    const target = examples.find((f) => f.uri.endsWith('seed-002-arm-msi-migration/guests/vm-analytics.iommu'))!;
    const edited = target.text.replace('memory 4G', 'memory 1G');
    assert.notEqual(edited, target.text);
    host.setFile(target.uri, edited);
    const second = host.analyze();
    assert.equal(second.stats.reused, first.stats.components - 1, 'every other component is reused');
    assert.ok(!second.findings.get(target.uri)!.some((f) => f.code === 'ram-over-reserved'), 'the edit fixed the guest');
    const fresh = new AnalysisHost(DOMAINS);
    for (const f of examples) fresh.setFile(f.uri, f.uri === target.uri ? edited : f.text);
    assert.deepEqual(key(second), key(fresh.analyze()));
  });

  test('suggestions look at the whole workspace: a platform and a device in another component', () => {
    const a = analyze({
      'a.iommu': 'platform epyc-a {\n  device gpu0 { bdf 0000:41:00.0 }\n}\n',
      'b.iommu': 'platform epyc-b {\n  device nic0 { bdf 0000:01:00.0 }\n}\n',
      'g.iommu': 'guest vm on epyc-b {\n  assign gpu0\n}\nguest vm2 on epyc-c {\n}\n',
    });
    const messages = a.findings.get(uri('g.iommu'))!.map((f) => f.message);
    assert.ok(messages.includes("no device 'gpu0' on platform epyc-b; epyc-a has one"), messages.join('\n'));
    assert.ok(
      messages.some((m) => m.startsWith("unknown platform 'epyc-c' (did you mean 'epyc-")),
      messages.join('\n'),
    );
    // Components are made of declarations: vm joins epyc-b; vm2 (on no platform) and epyc-a stay apart.
    assert.equal(a.stats.components, 3, 'vm joins epyc-b; epyc-a and vm2 stay apart');
  });

  test('a timeline device with no guest in play searches every platform: the workspace is modelled as one piece', () => {
    const a = analyze({
      'a.iommu': 'platform epyc-a {\n  device gpu0 { bdf 0000:41:00.0 }\n}\n',
      't.iommu': 'timeline t {\n  config gpu0 command MSE\n}\n',
    });
    assert.equal(a.stats.components, 1);
    assert.deepEqual(
      a.findings.get(uri('t.iommu'))!.map((f) => f.code),
      [],
    );
    assert.equal(a.model.references.filter((r) => r.uri === uri('t.iommu')).length, 1, 'gpu0 resolved on epyc-a');
  });

  test('merged maps list declarations in file order, as modelling in one piece does', () => {
    const files = {
      'a.iommu': 'guest g on pz {\n}\n',
      'z.iommu': 'platform pz {\n}\n',
      'b.iommu': 'platform pb {\n}\nguest h on pb {\n}\n',
      'c.iommu': 'timeline t {\n  start nosuch\n}\n',
    };
    const a = analyze(files);
    assert.equal(a.stats.components, 3);
    const whole = buildModel(
      Object.entries(files).map(([name, text]) => ({ uri: uri(name), ast: parse(text) })),
      MODEL_SCHEMA,
    ).model;
    assert.deepEqual([...a.model.platforms.keys()], [...whole.platforms.keys()]);
    assert.deepEqual([...a.model.platforms.keys()], ['pb', 'pz']);
    assert.deepEqual(
      [...a.sim.guests.keys()].map((g) => g.sym.name),
      ['g', 'h'],
    );
  });

  test('editing a number moves no component and keeps suggestions current: the other components are reused', () => {
    const host = new AnalysisHost(DOMAINS);
    host.setFile(uri('a.iommu'), 'platform pa {\n  device d0 { bdf 0000:01:00.0 }\n}\nguest ga on pa {\n  ram low 0x0 size 1G\n}\n');
    // A typo whose suggestion reads the workspace's names.
    host.setFile(uri('b.iommu'), 'platform pb {\n}\nguest gb on pbb {\n}\n');
    const first = host.analyze();
    // a.iommu's two declarations are linked by pa; b.iommu's are not (gb names pbb).
    assert.equal(first.stats.components, 3);
    assert.ok(first.findings.get(uri('b.iommu'))!.some((f) => f.message.includes("did you mean 'pb'")));
    host.setFile(uri('a.iommu'), host.text(uri('a.iommu'))!.replace('size 1G', 'size 2G'));
    assert.equal(host.analyze().stats.reused, 2, 'b.iommu is not modelled again');
    host.setFile(uri('a.iommu'), host.text(uri('a.iommu'))!.replace('platform pa', 'platform pbc'));
    const renamed = host.analyze();
    assert.ok(renamed.findings.get(uri('b.iommu'))!.some((f) => f.message.includes("did you mean 'pb")));
    // Only pb, whose findings read no names, is reused: gb's suggestion may change with the new name.
    assert.equal(renamed.stats.reused, 1, "a new name may change b.iommu's suggestion: modelled again");
  });

  test('typing a word that names nothing keeps the split; one that names a declaration elsewhere joins it', () => {
    const host = new AnalysisHost(DOMAINS);
    const a = 'platform pa {\n  device d0 { bdf 0000:01:00.0 }\n}\nguest ga on pa {\n  machine q35 memory 1G\n}\n';
    const b = 'platform pb {\n}\nguest gb on pb {\n}\n';
    host.setFile(uri('a.iommu'), a);
    host.setFile(uri('b.iommu'), b);
    assert.equal(host.analyze().stats.components, 2);
    const sameAsFresh = (texts: Record<string, string>) => {
      const got = host.analyze();
      const fresh = new AnalysisHost(DOMAINS);
      for (const [name, text] of Object.entries(texts)) fresh.setFile(uri(name), text);
      const want = fresh.analyze();
      assert.equal(got.stats.components, want.stats.components);
      assert.deepEqual(key(got), key(want));
      return got;
    };
    // A typo in a value word: it names nothing, so the split stands and its findings are current.
    const typo = a.replace('machine q35', 'machine q3');
    host.setFile(uri('a.iommu'), typo);
    assert.equal(sameAsFresh({ 'a.iommu': typo, 'b.iommu': b }).stats.reused, 1, 'b.iommu is not modelled again');
    // The same word now names b.iommu's platform: the two files join.
    const linked = a.replace('machine q35', 'machine pb');
    host.setFile(uri('a.iommu'), linked);
    assert.equal(sameAsFresh({ 'a.iommu': linked, 'b.iommu': b }).stats.components, 1);
    // And part again when the word goes.
    host.setFile(uri('a.iommu'), typo);
    assert.equal(sameAsFresh({ 'a.iommu': typo, 'b.iommu': b }).stats.components, 2);
  });
});

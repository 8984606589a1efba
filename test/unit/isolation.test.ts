/**
 * A check that throws (a bug in IOMMU Lens) costs only its own findings: it leaves an
 * `internal-error` at the top of each file it covered, and every other check still runs
 * and reports exactly what it reports without the failure. Each stage is broken on
 * purpose through the host's stages, on the bundled examples (every engine has findings
 * there). When a whole run fails, the server answers from the last good analysis, which
 * must then place ranges in the texts it analysed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from '@iommu-lens/grammar';
import { AnalysisHost, type Analysis } from '../../server/src/ide';
import { buildModel, type Finding } from '../../server/src/model';
import { simulate } from '../../server/src/sim';
import { exampleFiles } from '../helpers';
import { DOMAINS, ENGINE_IDS } from '../../server/src/domains';

const files = exampleFiles();

function analyse(stages?: Partial<ConstructorParameters<typeof AnalysisHost>[2]>): Analysis {
  const host = new AnalysisHost(DOMAINS, undefined, stages && { parse, buildModel, simulate, ...stages });
  for (const f of files) host.setFile(f.uri, f.text);
  return host.analyze();
}
const all = (a: Analysis) => [...a.findings.values()].flat();
const line = (f: Finding) => `${f.uri}:${f.span.start}-${f.span.end} ${f.code} ${f.message}`;
const boom = () => {
  throw new TypeError('boom');
};

const healthy = analyse();

describe('a check that throws never hides the others', () => {
  test('the examples exercise every engine, and nothing fails', () => {
    for (const e of ENGINE_IDS)
      assert.ok(
        all(healthy).some((f) => engineOf(healthy, f) === e),
        `no ${e} finding in the examples`,
      );
    assert.deepEqual(
      all(healthy).filter((f) => f.code === 'internal-error'),
      [],
    );
  });

  for (const engine of ENGINE_IDS) {
    test(`the ${engine} engine throws: its findings become internal-error, every other finding stays`, () => {
      // Break the engine's own input, so only its code trips over it.
      const broken = analyse({ simulate: (model, ...rest) => simulate(breakFor(engine, model), ...rest) });
      const errors = all(broken).filter((f) => f.code === 'internal-error');
      const failed = new Set(errors.map((e) => /^the (\w+) check failed/.exec(e.message)?.[1]));
      assert.ok(failed.has(engine), 'the failure is reported');
      for (const e of errors) {
        assert.match(
          e.message,
          /^the \w+ check failed inside IOMMU Lens \((TypeError: boom|Error: it needs the vfio check, which failed)\); its findings are missing here/,
        );
        assert.deepEqual(e.span, { start: 0, end: 0 });
      }
      // Engines reading the same broken input may fail too; every engine that did not fail
      // reports exactly what it reports when nothing fails.
      const survivors = ENGINE_IDS.filter((e) => !failed.has(e));
      assert.ok(survivors.length >= 3, `only ${survivors.join(', ')} survived`);
      const expected = all(healthy)
        .filter((f) => !failed.has(engineOf(healthy, f)!))
        .map(line);
      assert.deepEqual(
        all(broken)
          .filter((f) => f.code !== 'internal-error')
          .map(line),
        expected,
      );
      if (engine === 'vfio') assert.ok(failed.has('pools'), 'pools, which weigh the guests, say why they did not run');
    });
  }

  test('resolving one component throws: its files get internal-error, the other components keep their findings', () => {
    const victim = files.find((f) => f.uri.includes('seed-004'))!.uri;
    const broken = analyse({
      buildModel: (fs, schema, names) => (fs.some((f) => f.uri === victim) ? boom() : buildModel(fs, schema, names)),
    });
    const hit = new Set(
      all(broken)
        .filter((f) => f.code === 'internal-error')
        .map((f) => f.uri),
    );
    assert.ok(hit.has(victim));
    for (const u of hit) assert.ok(u.includes('seed-004'), `${u} is not in the failed component`);
    const keep = (f: Finding) => !hit.has(f.uri);
    assert.deepEqual(all(broken).filter(keep).map(line), all(healthy).filter(keep).map(line));
    assert.ok(all(broken).filter(keep).length > 20);
  });

  test('parsing one file throws: that file gets internal-error, the others still parse and resolve', () => {
    const victim = files.find((f) => f.uri.includes('seed-000'))!;
    const broken = analyse({ parse: (text) => (text === victim.text ? boom() : parse(text)) });
    assert.deepEqual(
      broken.findings.get(victim.uri)!.map((f) => f.code),
      ['internal-error'],
    );
    const [failure] = broken.findings.get(victim.uri)!;
    assert.match(failure!.message, /^parsing failed inside IOMMU Lens \(TypeError: boom\)/);
    // The stack goes to the server log and the CLI's stderr, for the bug report.
    assert.match(failure!.cause!, /^parsing: TypeError: boom\n\s+at boom \(.*isolation\.test\.ts:/);
    const elsewhere = [...broken.findings]
      .filter(([u]) => !u.includes('seed-000'))
      .flatMap(([, l]) => l)
      .map(line);
    assert.deepEqual(
      elsewhere,
      [...healthy.findings]
        .filter(([u]) => !u.includes('seed-000'))
        .flatMap(([, l]) => l)
        .map(line),
    );
  });
});

/** The engine that reported a finding (undefined for syntax and names). */
function engineOf(a: Analysis, f: Finding): string | undefined {
  // Read the simulation again (components keep only their findings), so the same finding, not the same object.
  const key = line(f);
  for (const [e, list] of a.sim.byEngine) if (list.some((x) => line(x) === key)) return e;
  return undefined;
}

/** The model with one engine's input made to throw when read. */
function breakFor(engine: string, model: Parameters<typeof simulate>[0]): Parameters<typeof simulate>[0] {
  const trap = <T extends object>(o: T, key: string) => Object.defineProperty(o, key, { get: boom, configurable: true });
  switch (engine) {
    case 'vfio':
      for (const g of model.guests.values()) trap(g, 'assigns');
      break;
    case 'timelines':
      for (const t of model.timelines.values()) trap(t, 'steps');
      break;
    case 'pools':
      for (const p of model.pools.values()) trap(p, 'hosts');
      break;
    case 'firmware':
      for (const fw of model.firmwares.values()) trap(fw, 'drivers');
      break;
    case 'xen':
      for (const x of model.xens.values()) trap(x, 'domains');
      break;
    case 'cmdqv':
      for (const c of model.commands) trap(c, 'batches');
      break;
  }
  return model;
}

test('an analysis keeps the lines of the texts it analysed (a request answered from it after an edit places ranges there)', () => {
  const host = new AnalysisHost(DOMAINS);
  host.setFile('file:///a.iommu', 'platform a {\n  arch x86_64\n}\n');
  const old = host.analyze();
  host.setFile('file:///a.iommu', '\n\n\nplatform a {\n  arch x86_64\n}\n');
  assert.deepEqual(old.lineIndex('file:///a.iommu').range({ start: 0, end: 8 }), {
    start: { line: 0, character: 0 },
    end: { line: 0, character: 8 },
  });
  assert.deepEqual(host.analyze().lineIndex('file:///a.iommu').range({ start: 3, end: 11 }), {
    start: { line: 3, character: 0 },
    end: { line: 3, character: 8 },
  });
});

/**
 * The model parts (server/src/model/part.ts): the registry assembles the core's and each
 * domain's into one schema, and a domain is one registry line: without it, its declarations
 * and the statements it reads resolve to nothing, and nothing else changes or fails.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DOMAINS, MODEL_SCHEMA } from '../../server/src/domains';
import { AnalysisHost, looksOf, type Analysis } from '../../server/src/ide';
import { CORE_MODEL, modelSchema, type Finding } from '../../server/src/model';
import { exampleFiles } from '../helpers';

function analyse(domains: typeof DOMAINS, files = exampleFiles('seed-004-smmu-cmdqv')): Analysis {
  const host = new AnalysisHost(domains);
  for (const f of files) host.setFile(f.uri, f.text);
  return host.analyze();
}
const all = (a: Analysis): Finding[] => [...a.findings.values()].flat();
const line = (f: Finding) => `${f.uri}:${f.span.start}-${f.span.end} ${f.code} ${f.message}`;

describe('the model schema of the registry', () => {
  test('the global kinds share one namespace, in the order of the parts, and the duplicate-name message lists them', () => {
    assert.deepEqual(MODEL_SCHEMA.globalKinds, ['platform', 'guest', 'timeline', 'pool', 'firmware', 'xen', 'vintf']);
    assert.equal(MODEL_SCHEMA.globalPlurals, 'platforms, guests, timelines, pools, firmware, Xen hosts and VINTFs');
  });

  test('every kind of name has a noun and a look (token, outline icon), and every look is of a kind', () => {
    const looks = looksOf(DOMAINS);
    assert.deepEqual(Object.keys(looks).sort(), Object.keys(MODEL_SCHEMA.kinds).sort());
    for (const [kind, info] of Object.entries(MODEL_SCHEMA.kinds)) assert.ok(info.noun, kind);
  });

  test('two parts resolving one kind of declaration are refused when the schema is made', () => {
    const twice = { kinds: {}, passes: { guests: { decls: { guest: () => {} } } } };
    assert.throws(() => modelSchema([CORE_MODEL, twice]), /two model parts resolve 'guest' declarations/);
  });
});

describe('a domain is one registry line', () => {
  const full = analyse(DOMAINS);
  const without = analyse(DOMAINS.filter((d) => d.id !== 'cmdqv'));

  test("with CMDQV's line, seed 004's guests get their VINTFs and its findings", () => {
    const via = full.model.guests.get('gvm-a')?.viommus[0]?.via;
    assert.equal(via?.sym.kind, 'vintf');
    assert.equal(via?.sym.name, 'vi-a');
    assert.ok(all(full).some((f) => f.code.startsWith('cmdqv-')));
  });

  test('without it, VINTFs and command blocks are not modelled, a vIOMMU names nothing, and the rest is the same', () => {
    assert.equal(without.model.guests.get('gvm-a')?.viommus[0]?.via, undefined);
    assert.equal((without.model as unknown as Record<string, unknown>).vintfs, undefined);
    const lines = all(without).map(line);
    assert.deepEqual(
      lines.filter((l) => / (cmdqv-|internal-error)/.test(l)),
      [],
    );
    // What the core and the other domains find does not depend on CMDQV's line.
    const fullLines = new Set(all(full).map(line));
    assert.deepEqual(
      lines.filter((l) => !fullLines.has(l)),
      [],
    );
    assert.deepEqual(
      all(full)
        .filter((f) => !f.code.startsWith('cmdqv-'))
        .map(line)
        .filter((l) => !lines.includes(l)),
      [],
    );
  });
});

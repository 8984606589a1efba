/**
 * The bundled examples: every file parses, every name resolves (the examples'
 * problems are for the simulator to find, not typos), and the README lists every folder.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { AnalysisHost } from '../../server/src/ide';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.iommu') ? [p] : [];
  });
}

const files = walk(EXAMPLES);
const folders = readdirSync(EXAMPLES).filter((n) => statSync(join(EXAMPLES, n)).isDirectory()).sort();

test('there is a workspace for each seed scenario', () => {
  assert.deepEqual(folders.map((f) => f.slice(0, 8)), ['seed-000', 'seed-001', 'seed-002', 'seed-003', 'seed-004']);
  const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
  for (const f of folders) assert.ok(readme.includes(f), `examples/README.md does not mention ${f}`);
});

test('each workspace, and all of them together, parse and resolve without findings', () => {
  const groups = [...folders.map((f) => files.filter((p) => p.startsWith(join(EXAMPLES, f) + '/'))), files];
  for (const group of groups) {
    const host = new AnalysisHost();
    for (const f of group) host.setFile(pathToFileURL(f).href, readFileSync(f, 'utf8'));
    const found = [...host.analyze().findings.values()].flat();
    assert.deepEqual(found.map((x) => `${relative(EXAMPLES, new URL(x.uri).pathname)}: ${x.code} ${x.message}`), []);
  }
});

test('each scenario has clean files and files whose problems are marked', () => {
  for (const f of folders) {
    const texts = files.filter((p) => p.startsWith(join(EXAMPLES, f) + '/')).map((p) => readFileSync(p, 'utf8'));
    assert.ok(texts.some((t) => /\/\/ problem: /.test(t)), `${f} marks no problem`);
    assert.ok(texts.some((t) => !/\/\/ problem: /.test(t)), `${f} has no clean file`);
  }
});

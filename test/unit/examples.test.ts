/**
 * The bundled examples: every finding sits on a line marked `// problem:`, every marked
 * problem the simulator can already see is found, and the README lists every folder.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { AnalysisHost } from '../../server/src/ide';
import { EXAMPLES, iommuFiles } from '../files';
import { DOMAINS } from '../../server/src/domains';

/** Every .iommu under `dir`, sorted, as full paths. */
const walk = (dir: string): string[] => iommuFiles(dir).map((f) => join(dir, f));

const files = walk(EXAMPLES);
const folders = readdirSync(EXAMPLES)
  .filter((n) => statSync(join(EXAMPLES, n)).isDirectory())
  .sort();

test('there is a workspace for each seed scenario, and each is in examples/README.md', () => {
  const seeds = folders.filter((f) => f.startsWith('seed-')).map((f) => f.slice(0, 8));
  assert.deepEqual(seeds, ['seed-000', 'seed-001', 'seed-002', 'seed-003', 'seed-004']);
  const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
  for (const f of folders) assert.ok(readme.includes(f), `examples/README.md does not mention ${f}`);
});

/** The RULES.md sections the simulator implements so far: markers citing only these must be found. */
const IMPLEMENTED = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]);

interface Marker {
  file: string;
  line: number;
  sections: number[];
  text: string;
}

/** `// problem: ... (RULES 2.2c, 3.5)` marks the next statement line (0-based line numbers). */
function markers(file: string): Marker[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Marker[] = [];
  lines.forEach((l, i) => {
    const m = /\/\/ problem: (.*)$/.exec(l);
    if (!m) return;
    let line = i + 1;
    while (line < lines.length && /^\s*(\/\/.*)?$/.test(lines[line]!)) line++;
    const cited = /\(RULES ([^)]*)\)\s*$/.exec(m[1]!)?.[1] ?? '';
    out.push({ file, line, sections: [...cited.matchAll(/(\d+)(?:\.\d+)?/g)].map((x) => Number(x[1])), text: m[1]! });
  });
  return out;
}

function findingsOf(group: string[]): { file: string; line: number; what: string }[] {
  const host = new AnalysisHost(DOMAINS);
  for (const f of group) host.setFile(pathToFileURL(f).href, readFileSync(f, 'utf8'));
  const a = host.analyze();
  return [...a.findings.values()].flat().map((x) => {
    const file = new URL(x.uri).pathname;
    return { file, line: a.lineIndex(x.uri).position(x.span.start).line, what: `${relative(EXAMPLES, file)}: ${x.code} ${x.message}` };
  });
}

test('every finding in the examples is on a line marked `// problem:`, and each workspace finds the same alone', () => {
  const marked = new Set(files.flatMap(markers).map((m) => `${m.file}:${m.line}`));
  const all = findingsOf(files);
  assert.deepEqual(
    all.filter((f) => !marked.has(`${f.file}:${f.line}`)).map((f) => f.what),
    [],
  );
  const alone = folders.flatMap((f) => findingsOf(files.filter((p) => p.startsWith(`${join(EXAMPLES, f)}/`))));
  assert.deepEqual(alone.map((f) => f.what).sort(), all.map((f) => f.what).sort());
});

test('every marked problem of an implemented RULES section is found on its line', () => {
  const found = new Set(findingsOf(files).map((f) => `${f.file}:${f.line}`));
  const due = files.flatMap(markers).filter((m) => m.sections.length && m.sections.every((s) => IMPLEMENTED.has(s)));
  assert.ok(due.length >= 2, 'the examples mark problems of the implemented sections');
  assert.deepEqual(
    due.filter((m) => !found.has(`${m.file}:${m.line}`)).map((m) => `${relative(EXAMPLES, m.file)}:${m.line + 1}: ${m.text}`),
    [],
  );
});

test('each scenario has clean files and files whose problems are marked', () => {
  for (const f of folders) {
    const texts = files.filter((p) => p.startsWith(`${join(EXAMPLES, f)}/`)).map((p) => readFileSync(p, 'utf8'));
    assert.ok(
      texts.some((t) => /\/\/ problem: /.test(t)),
      `${f} marks no problem`,
    );
    assert.ok(
      texts.some((t) => !/\/\/ problem: /.test(t)),
      `${f} has no clean file`,
    );
  }
});

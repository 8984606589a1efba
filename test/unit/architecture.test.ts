/**
 * The pipeline's dependency direction (docs/architecture.md):
 * grammar → model → sim → ide → lsp / cli (which share workspace/, the files of a workspace), and the client apart: it may import only the
 * protocol file (server/src/lsp/protocol.ts). Checked on import lines.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { DOMAINS } from '../../server/src/domains';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The layer of a file or an import target, e.g. 'grammar', 'server/model', 'client'. */
function layer(path: string): string {
  const rel = relative(ROOT, path).split('\\').join('/');
  if (rel === PROTOCOL) return 'protocol';
  // A domain's files belong to the pipeline layer of their subfolder (domains/xen/sim/... is sim);
  // its codes table is model-level (it imports only the finding types). The registry that lists
  // the domains is a layer of its own, above ide, that only the top layers import.
  if (rel === 'server/src/domains/index.ts') return 'server/domains';
  if (/^server\/src\/domains\/[a-z]+\/codes\.ts$/.test(rel)) return 'server/model';
  // Its engine (the SimEngine the registry lists) is sim-level.
  if (/^server\/src\/domains\/[a-z]+\/engine\.ts$/.test(rel)) return 'server/sim';
  const inDomain = /^server\/src\/domains\/[a-z]+\/(model|sim|ide)\//.exec(rel);
  if (inDomain) return `server/${inDomain[1]}`;
  if (rel === ESCAPE) return 'escape';
  const m = /^(grammar|client)\//.exec(rel) ?? /^server\/src\/([a-z]+)\//.exec(rel);
  if (!m) return rel;
  return m[1] === 'grammar' || m[1] === 'client' ? m[1] : `server/${m[1]}`;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)].map(
    (m) => (m[1] ?? m[2])!,
  );
}

/** The messages IOMMU Lens adds to LSP: the one server file the client may import (it imports nothing). */
const PROTOCOL = 'server/src/lsp/protocol.ts';

/** Making outside text safe to show or to put in a comment: the CLI and the importers share it (it imports nothing). */
const ESCAPE = 'server/src/cli/escape.ts';

/** What each layer may import, besides itself and node built-ins. */
const ALLOWED: Record<string, { layers: string[]; packages: RegExp }> = {
  grammar: { layers: [], packages: /^chevrotain$/ },
  'server/model': { layers: ['grammar'], packages: /^$/ },
  'server/sim': { layers: ['grammar', 'server/model'], packages: /^$/ },
  'server/ide': { layers: ['grammar', 'server/model', 'server/sim'], packages: /^$/ },
  'server/domains': { layers: ['grammar', 'server/model', 'server/sim', 'server/ide'], packages: /^$/ },
  protocol: { layers: [], packages: /^$/ },
  // Which files make up a workspace, and reading them: the server and the CLI share it.
  'server/workspace': { layers: [], packages: /^$/ },
  'server/lsp': {
    layers: ['grammar', 'server/model', 'server/sim', 'server/ide', 'server/domains', 'server/workspace', 'protocol'],
    packages: /^vscode-languageserver(-textdocument)?(\/node|\/browser)?$/,
  },
  escape: { layers: [], packages: /^$/ },
  // Importers: bytes or text in, typed results and description text out; no I/O.
  'server/import': { layers: ['grammar', 'server/model', 'server/sim', 'escape'], packages: /^fast-xml-parser$/ },
  'server/cli': {
    layers: ['grammar', 'server/model', 'server/sim', 'server/ide', 'server/domains', 'server/workspace', 'server/import', 'escape'],
    packages: /^diff$/,
  },
  client: { layers: ['protocol'], packages: /^(vscode|vscode-languageclient(\/node|\/browser)?)$/ },
};

test('every import follows the pipeline direction', () => {
  const files = [
    ...sources(join(ROOT, 'grammar', 'src')),
    ...sources(join(ROOT, 'server', 'src')),
    ...sources(join(ROOT, 'client', 'src')),
  ];
  assert.ok(files.length > 15);
  const violations: string[] = [];
  for (const file of files) {
    const from = layer(file);
    const rule = ALLOWED[from];
    if (!rule) {
      violations.push(`${relative(ROOT, file)}: not in a known layer`);
      continue;
    }
    for (const spec of imports(file)) {
      if (spec.startsWith('node:')) continue;
      let to: string;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        to = layer(existsSync(target) && statSync(target).isDirectory() ? join(target, 'index.ts') : `${target}.ts`);
      } else if (spec === '@iommu-lens/grammar') to = 'grammar';
      else if (rule.packages.test(spec)) continue;
      else {
        violations.push(`${relative(ROOT, file)} imports package '${spec}'`);
        continue;
      }
      if (to !== from && !rule.layers.includes(to)) violations.push(`${relative(ROOT, file)} (${from}) imports ${spec} (${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

/** The domain a file belongs to (its folder under server/src/domains), if any. */
function domainOf(path: string): string | undefined {
  return /^server\/src\/domains\/([a-z]+)\//.exec(relative(ROOT, path).split('\\').join('/'))?.[1];
}

test('every domain is in the registry, and a domain imports another only when it declares that need', () => {
  const folders = readdirSync(join(ROOT, 'server', 'src', 'domains')).filter((n) => !n.endsWith('.ts'));
  assert.deepEqual([...folders].sort(), DOMAINS.map((d) => d.id).sort());
  const needs = new Map(DOMAINS.map((d) => [d.id, d.needs]));
  const violations: string[] = [];
  for (const file of sources(join(ROOT, 'server', 'src', 'domains'))) {
    const from = domainOf(file);
    if (!from) continue; // the registry itself
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) continue;
      const to = domainOf(resolve(dirname(file), spec));
      if (to && to !== from && !needs.get(from)!.includes(to)) {
        violations.push(`${relative(ROOT, file)} (${from}) imports ${spec} (${to}), not among its needs`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the core knows the domains only through the registry: no file outside a domain folder imports one', () => {
  const violations: string[] = [];
  for (const root of ['server/src', 'client/src', 'grammar/src']) {
    for (const file of sources(join(ROOT, root))) {
      if (domainOf(file) || relative(ROOT, file).split('\\').join('/') === 'server/src/domains/index.ts') continue;
      for (const spec of imports(file)) {
        if (!spec.startsWith('.')) continue;
        const to = domainOf(resolve(dirname(file), spec));
        if (to) violations.push(`${relative(ROOT, file)} imports ${spec} (${to}): go through server/src/domains/index.ts`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

/** What a domain's grammar file may import: the grammar's bottom layer, below the registry and what assembles it. */
const GRAMMAR_BOTTOM = ['tokens', 'nodes', 'cst', 'sharedRules', 'contribution'].map((m) => `grammar/src/${m}.ts`);

test('the grammar: each domain file is in its registry, and imports only the bottom layer', () => {
  const dir = join(ROOT, 'grammar', 'src', 'domains');
  const files = readdirSync(dir).filter((n) => n !== 'index.ts');
  const registry = readFileSync(join(dir, 'index.ts'), 'utf8');
  const violations: string[] = [];
  for (const name of files) {
    if (!registry.includes(`from './${name.replace(/\.ts$/, '')}'`)) violations.push(`${name} is not in grammar/src/domains/index.ts`);
    for (const spec of imports(join(dir, name))) {
      if (!spec.startsWith('.')) continue;
      const target = relative(ROOT, `${resolve(dir, spec)}.ts`)
        .split('\\')
        .join('/');
      if (!GRAMMAR_BOTTOM.includes(target)) violations.push(`grammar/src/domains/${name} imports ${spec}`);
    }
  }
  assert.ok(files.length >= 7);
  assert.deepEqual(violations, []);
});

test('only the client imports vscode, only the lsp layer imports vscode-languageserver', () => {
  for (const file of [...sources(join(ROOT, 'grammar', 'src')), ...sources(join(ROOT, 'server', 'src'))]) {
    for (const spec of imports(file)) {
      assert.notEqual(spec, 'vscode', file);
      if (spec.startsWith('vscode-languageserver')) assert.equal(layer(file), 'server/lsp', file);
    }
  }
});

test('the import layer does no I/O: it imports no node built-in', () => {
  const files = sources(join(ROOT, 'server', 'src', 'import'));
  assert.ok(files.length > 3);
  for (const file of files)
    for (const spec of imports(file)) assert.ok(!spec.startsWith('node:'), `${relative(ROOT, file)} imports ${spec}`);
});

/** Each source file's imports of other source files, resolved to paths. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets: string[] = [];
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      targets.push(existsSync(target) && statSync(target).isDirectory() ? join(target, 'index.ts') : `${target}.ts`);
    }
    graph.set(file, targets);
  }
  return graph;
}

test('no two source files import each other, directly or through others (no import cycles)', () => {
  const files = [
    ...sources(join(ROOT, 'grammar', 'src')),
    ...sources(join(ROOT, 'server', 'src')),
    ...sources(join(ROOT, 'client', 'src')),
  ];
  const graph = importGraph(files);
  // Tarjan's strongly connected components: any with two or more files is a cycle.
  const index = new Map<string, number>(),
    low = new Map<string, number>(),
    onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(relative(ROOT, w));
      } while (w !== v);
      if (scc.length > 1) cycles.push(scc.sort().join(' <-> '));
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});

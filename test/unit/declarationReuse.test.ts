/**
 * The host parses and models a file declaration by declaration (grammar/src/chunks.ts,
 * ide/analysis.ts) and reuses the declarations an edit does not touch, moving their
 * spans. Random edits on one-file fleets must give exactly what a host that parses and
 * models every file whole gives: findings (with related locations and fixes), the parse
 * (declarations, comments, syntax diagnostics), hovers, document symbols, definitions,
 * semantic tokens, folding, formatting and line tables.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chunkStarts, parse } from '@iommu-lens/grammar';
import {
  AnalysisHost,
  DEFAULT_OPTIONS,
  definition,
  documentSymbols,
  foldingRanges,
  formatDocument,
  hover,
  semanticTokens,
  type Analysis,
} from '../../server/src/ide';
import { generateWorkspace } from '../../bench/workspace.mjs';
import { prng } from '../prng.mjs';
import { exampleFiles, uri } from '../helpers';
import { DOMAINS } from '../../server/src/domains';

const findingsKey = (a: Analysis) => JSON.stringify([...a.findings]);

/** Everything the editor shows of `file`, from one analysis (hovers and definitions at `offsets`). */
function observed(a: Analysis, file: string, text: string, offsets: readonly number[]) {
  const ast = a.ast(file)!;
  return {
    ast: JSON.stringify(ast, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
    // The host joins its units' line tables: the same as scanning the text.
    lines: lineTable(a, file, text, offsets),
    symbols: JSON.stringify(documentSymbols(a, file)),
    tokens: JSON.stringify(semanticTokens(a, file)),
    folding: JSON.stringify(foldingRanges(ast, text)),
    unitFolding: JSON.stringify(a.folding(file)),
    format: JSON.stringify(formatDocument(text, {}, ast)),
    hovers: offsets.map((o) => JSON.stringify(hover(a, file, o) ?? null)),
    definitions: offsets.map((o) => JSON.stringify(definition(a, file, o) ?? null)),
  };
}

/** What the line table says: every line's start, and where each of `offsets` is. */
function lineTable(a: Analysis, file: string, text: string, offsets: readonly number[]) {
  const lines = a.lineIndex(file);
  const last = lines.position(text.length).line;
  return {
    eol: lines.eol,
    starts: Array.from({ length: last + 2 }, (_, line) => lines.offset({ line, character: 0 })),
    at: offsets.map((o) => [lines.position(o), lines.lineAround(o)]),
  };
}

/** A host that parses and models each file whole: the reference. */
function wholeAnalysis(texts: ReadonlyMap<string, string>): Analysis {
  const host = new AnalysisHost(DOMAINS, { ...DEFAULT_OPTIONS, wholeFiles: true });
  for (const [u, t] of texts) host.setFile(u, t);
  return host.analyze();
}

/** One random edit of `text`, of the kinds that move, merge, split or break declarations. */
function edit(text: string, rand: () => number): string {
  const at = (n = text.length) => Math.floor(rand() * (n + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const kind = Math.floor(rand() * 10);
  const p = at();
  switch (kind) {
    case 0: {
      // A digit changed (the common keystroke): the length stays.
      const digits = [...text.matchAll(/\d/g)];
      const m = pick(digits);
      return `${text.slice(0, m.index)}${pick([...'0123456789'])}${text.slice(m.index! + 1)}`;
    }
    case 1:
      // A character typed: everything after moves.
      return text.slice(0, p) + pick(['x', ' ', '\n', '0', 'G', '-', 'a']) + text.slice(p);
    case 2:
      // A short stretch deleted (may merge declarations or unbalance braces).
      return text.slice(0, p) + text.slice(Math.min(text.length, p + 1 + Math.floor(rand() * 40)));
    case 3:
      return text.slice(0, p) + pick(['{', '}', '}\n', '{\n', '\n}\n']) + text.slice(p);
    case 4:
      return text.slice(0, p) + pick(['// note {\n', '/* { */', '/*', '*/', '// }', '\n// region r\n', '\n// endregion\n']) + text.slice(p);
    case 5: {
      // A declaration cut and pasted elsewhere (the order of first declarations changes).
      const starts = chunkStarts(text);
      if (!starts || starts.length < 3) return `${text}\n`;
      const i = Math.floor(rand() * (starts.length - 1));
      const decl = text.slice(starts[i], starts[i + 1]);
      const rest = text.slice(0, starts[i]) + text.slice(starts[i + 1]);
      const to = pick(chunkStarts(rest) ?? [0]);
      return rest.slice(0, to) + decl + rest.slice(to);
    }
    case 6: {
      // A declaration duplicated (duplicate names: the first wins).
      const starts = chunkStarts(text);
      if (!starts || starts.length < 2) return `${text}\n`;
      const i = Math.floor(rand() * (starts.length - 1));
      return text.slice(0, starts[i + 1]) + text.slice(starts[i], starts[i + 1]) + text.slice(starts[i + 1]);
    }
    case 7:
      // A line of junk inside or between blocks.
      return `${text.slice(0, p)}\nnonsense here ${Math.floor(rand() * 100)}\n${text.slice(p)}`;
    case 8: {
      // A name changed (components and suggestions move).
      const names = [...text.matchAll(/\b(?:platform|guest|pool|timeline) ([\w-]+)/g)];
      if (!names.length) return text;
      const m = pick(names);
      const from = m.index! + m[0].length - m[1]!.length;
      return `${text.slice(0, from)}${m[1]}z${text.slice(from + m[1]!.length)}`;
    }
    default:
      // A memory size changed: RAM findings come and go.
      return text.replace(/size (\d+)G/, (_, n) => `size ${Number(n) === 2 ? 4 : 2}G`);
  }
}

/** One fleet of bench/workspace.mjs in one file (hosts, guests, pools and timelines). */
function fleet(lines: number): string {
  const ws = generateWorkspace(lines);
  return [...ws.files.keys()]
    .sort()
    .map((p) => ws.files.get(p))
    .join('\n');
}

/** Replays `steps` random edits on `texts` (uri → text), checking each against the whole-file reference. */
function replay(texts: Map<string, string>, seed: number, steps: number, samples = 12): void {
  const rand = prng(seed);
  const host = new AnalysisHost(DOMAINS);
  for (const [u, t] of texts) host.setFile(u, t);
  host.analyze();
  const uris = [...texts.keys()];
  for (let step = 0; step < steps; step++) {
    const target = uris[Math.floor(rand() * uris.length)]!;
    if (uris.length > 1 && rand() < 0.15) {
      // A declaration moved from one file to another.
      const from = texts.get(target)!;
      const starts = chunkStarts(from);
      const to = uris.find((u) => u !== target)!;
      if (starts && starts.length > 2) {
        const i = Math.floor(rand() * (starts.length - 1));
        texts.set(target, from.slice(0, starts[i]) + from.slice(starts[i + 1]));
        texts.set(to, texts.get(to)! + from.slice(starts[i], starts[i + 1]));
      }
    } else {
      texts.set(target, edit(texts.get(target)!, rand));
    }
    for (const [u, t] of texts) host.setFile(u, t);
    const got = host.analyze();
    const want = wholeAnalysis(texts);
    const where = `seed ${seed}, step ${step}`;
    assert.equal(findingsKey(got), findingsKey(want), `findings, ${where}`);
    for (const u of uris) {
      const text = texts.get(u)!;
      const offsets = Array.from({ length: samples }, () => Math.floor(rand() * text.length));
      assert.deepEqual(observed(got, u, text, offsets), observed(want, u, text, offsets), `${u}, ${where}`);
    }
  }
}

describe('declaration-level reuse', () => {
  test('a file splits after each line where its braces close; unbalanced braces do not split', () => {
    const text = '// a\nplatform a {\n}\n\nguest g on a { } // c\n/* { */\nplatform b\n{\n}\n';
    assert.deepEqual(chunkStarts(text), [0, 20, 43]);
    assert.equal(chunkStarts('platform a {\n}\n}\nplatform b { }\n'), undefined);
    assert.deepEqual(chunkStarts('platform a {\n}\n/* never closed {\n}\n'), [0, 15]);
  });

  test('a one-file fleet: the same parse and findings as parsing the file whole', () => {
    const text = fleet(1500);
    const file = uri('fleet.iommu');
    const host = new AnalysisHost(DOMAINS);
    host.setFile(file, text);
    const got = host.analyze();
    // One component per rack (its hosts, guests, pool and timeline name each other).
    assert.ok(got.stats.components >= 2, `the fleet splits into components (${got.stats.components})`);
    assert.deepEqual(got.ast(file), parse(text));
    assert.equal(findingsKey(got), findingsKey(wholeAnalysis(new Map([[file, text]]))));
  });

  test('an edit of one host re-parses and re-models its component only; moved findings equal a fresh analysis', () => {
    const file = uri('fleet.iommu');
    let text = fleet(1500);
    const host = new AnalysisHost(DOMAINS);
    host.setFile(file, text);
    const first = host.analyze();
    // A line typed early in the file: every later declaration moves but is not parsed or modelled again.
    const at = text.indexOf('\n', text.indexOf('guest ')) + 1;
    text = `${text.slice(0, at)}  // a note\n${text.slice(at)}`;
    host.setFile(file, text);
    const second = host.analyze();
    assert.equal(second.stats.reused, first.stats.components - 1, 'every other component is reused');
    assert.equal(findingsKey(second), findingsKey(wholeAnalysis(new Map([[file, text]]))));
    assert.ok([...second.findings.get(file)!].length > 0, 'the fleet has findings to move');
  });

  test('random edits on a one-file fleet give what a whole-file analysis gives', () => {
    replay(new Map([[uri('fleet.iommu'), fleet(600)]]), 1, 40);
  });

  test('random edits on the examples joined into one file (duplicates, every construct)', () => {
    const joined = exampleFiles()
      .map((f) => f.text)
      .join('\n');
    replay(new Map([[uri('all.iommu'), joined]]), 2, 30, 6);
  });

  test('random edits across two files, declarations moving between them', () => {
    const text = fleet(400);
    const starts = chunkStarts(text)!;
    const half = starts[Math.floor(starts.length / 2)]!;
    replay(
      new Map([
        [uri('a.iommu'), text.slice(0, half)],
        [uri('b.iommu'), text.slice(half)],
      ]),
      3,
      30,
    );
  });
});

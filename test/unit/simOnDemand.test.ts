/**
 * Components keep only their findings between analyses; a hover simulates again the
 * components of its file (`forFile`, `simOf`), the address hover those of the guests it
 * writes out, the CLI's layout all of them (`sim`). What they read must be what one
 * simulation of the whole workspace holds: the same findings, and the same hovers, inlay
 * hints and address maps on every file of a fleet with many components, before and after
 * edits that move declarations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressMap, addressMapTargetAt, AnalysisHost, forFile, hover, inlayHints, type Analysis } from '../../server/src/ide';
import { generateWorkspace } from '../../bench/workspace.mjs';
import { DOMAINS } from '../../server/src/domains';
import { exampleFiles, uri } from '../helpers';
import { prng } from '../prng.mjs';

/** The same analysis with every file's simulation the whole workspace's: what requests read when components kept theirs. */
function wholeView(a: Analysis): Analysis {
  return Object.create(a, { simOf: { value: () => a.simOf() } }) as Analysis;
}

const json = (x: unknown) => JSON.stringify(x ?? null, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** What the editor shows of `file` at `offsets`, read as the server reads it (`forFile`). */
function shown(a: Analysis, file: string, offsets: readonly number[]) {
  const on = forFile(a, file);
  const target = addressMapTargetAt(on, file, 0);
  return {
    hovers: offsets.map((o) => json(hover(on, file, o))),
    hints: json(inlayHints(on, file)),
    map: json(target && addressMap(on, target)),
  };
}

function fleetHost(): { host: AnalysisHost; texts: Map<string, string> } {
  const ws = generateWorkspace(3000);
  const texts = new Map<string, string>();
  for (const [p, t] of ws.files) texts.set(uri(`fleet/${p}`), t);
  // The examples too: every domain's hovers (Xen, CMDQV, firmware, timelines, pools).
  for (const f of exampleFiles()) texts.set(f.uri, f.text);
  const host = new AnalysisHost(DOMAINS);
  for (const [u, t] of texts) host.setFile(u, t);
  return { host, texts };
}

/** Every file: hovers at `samples` offsets (and every number literal's start, where the address hover is), hints, maps. */
function compare(a: Analysis, texts: ReadonlyMap<string, string>, rand: () => number, samples: number): void {
  const whole = wholeView(a);
  for (const [file, text] of texts) {
    const numbers = [...text.matchAll(/\b0x[0-9a-f_]+|\b\d[\w]*/gi)].map((m) => m.index!);
    const offsets = [...numbers.filter(() => rand() < 0.2), ...Array.from({ length: samples }, () => Math.floor(rand() * text.length))];
    assert.deepEqual(shown(a, file, offsets), shown(whole, file, offsets), file);
  }
}

test('simulated again on demand: the findings of one simulation, and the same hovers, hints and maps per file', () => {
  const { host, texts } = fleetHost();
  const a = host.analyze();
  assert.ok(a.stats.components >= 5, `several components (${a.stats.components})`);
  // The findings kept from the first simulation are those a second one gives.
  const kept = [...a.findings.values()].flat().filter((f) => !f.code.startsWith('syntax'));
  const again = a.sim.findings;
  const key = (f: { code: string; uri: string; span: unknown; message: string }) => json([f.code, f.uri, f.span, f.message]);
  for (const f of again)
    assert.ok(
      kept.some((k) => key(k) === key(f)),
      `simulated again: ${f.code} ${f.message}`,
    );
  // A file's view holds its components' guests only, and the same objects as the whole.
  const file = [...texts.keys()].find((u) => u.includes('/guests/'))!;
  const scoped = a.simOf(file);
  assert.ok(scoped.guests.size > 0 && scoped.guests.size < a.sim.guests.size, 'a file sees its components');
  for (const [g, s] of scoped.guests) assert.equal(a.sim.guests.get(g), s);
  compare(a, texts, prng(7), 6);
});

test('after edits that move declarations (their components modelled again where they stand): the same as the whole', () => {
  const { host, texts } = fleetHost();
  host.analyze();
  const rand = prng(11);
  const files = [...texts.keys()].filter((u) => u.includes('/fleet/'));
  for (let step = 0; step < 3; step++) {
    const file = files[Math.floor(rand() * files.length)]!;
    // A line added at the top: every declaration of the file moves.
    texts.set(file, `// edit ${step}\n${texts.get(file)!}`);
    host.setFile(file, texts.get(file)!);
    const a = host.analyze();
    compare(a, new Map([...texts].filter(([u]) => u === file || rand() < 0.05)), rand, 4);
  }
});

/**
 * Soak (issue 11): thousands of random edits through the real protocol on a copy of the
 * examples, with requests interleaved (test/protocol/soak.ts says what is sent). Fixed
 * seed and a short run here; `bench/soak.mjs` runs it for longer.
 *
 * Asserted: the server never exits; every request is answered (a result or a
 * cancellation) and hover within a generous liveness bound; no run fails and nothing is
 * logged as an error; after the last edit the diagnostics settle and equal those of a
 * fresh server given the same texts; the heap kept after a full collection (the server
 * runs with --expose-gc) grows by no more than a generous bound between the warm-up and
 * the end, so nothing is kept per edit.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DidChangeConfigurationNotification, MessageType } from 'vscode-languageserver-protocol/node';
import type { Client, MemoryReport } from './client';
import { diagnosticsOf, iommuFiles, settle, soak, startOn } from './soak';
import { ENGINE_IDS } from '../../server/src/domains';

const SEED = 20261121;
const EDITS = 6000;
const WARM_UP = 800;
const HOVER_BOUND_MS = 10_000;
const MiB = 2 ** 20;

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-soak-'));
const clients: Client[] = [];
after(async () => {
  for (const c of clients) if (!c.exited) await c.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(`${EDITS} random edits: the server stays up and answers, its diagnostics match a fresh server's, its heap stays flat`, async () => {
  cpSync(join(import.meta.dirname, '..', '..', 'examples'), dir, { recursive: true, filter: (p) => !p.endsWith('.md') });
  const corpus = iommuFiles(dir)
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l.trim());
  const client = await startOn(dir, { nodeArgs: ['--expose-gc'] });
  clients.push(client);

  let warm: MemoryReport | undefined;
  const run = await soak({
    client,
    dir,
    seed: SEED,
    edits: EDITS,
    corpus,
    answerBoundMs: HOVER_BOUND_MS,
    sampleEvery: WARM_UP,
    onSample: async (s) => {
      if (s.edits >= WARM_UP && !warm) warm = await client.memory();
    },
  });
  assert.equal(client.exited, undefined, `the server exited: ${client.stderr}`);
  assert.deepEqual(run.failures, [], 'every request answered with a result or a cancellation, within the bound');
  assert.ok(run.edits >= EDITS && run.hovers.length > 500, `${run.edits} edits, ${run.hovers.length} hovers`);
  assert.ok(run.hovers.every((ms) => ms < HOVER_BOUND_MS));

  // Every check again while typing (the run switched them), then let the server settle.
  await client.conn.sendNotification(DidChangeConfigurationNotification.type, {
    settings: { iommuLens: { checksWhileTyping: [...ENGINE_IDS] } },
  });
  const anyUri = [...run.open.keys()][0]!;
  await settle(client, anyUri);
  assert.deepEqual(
    client.statuses.filter((s) => s.state === 'failed'),
    [],
    'no analysis failed',
  );
  assert.deepEqual(
    client.logs.filter((l) => l.type === MessageType.Error).map((l) => l.message),
    [],
    'nothing logged as an error',
  );

  const end = await client.memory();
  assert.ok(warm?.collected && end.collected);
  const grown = (end.heapUsed - warm.heapUsed) / MiB;
  assert.ok(
    end.heapUsed <= warm.heapUsed * 1.25 + 4 * MiB,
    `heap kept ${(warm.heapUsed / MiB).toFixed(1)} MiB after the warm-up, ${(end.heapUsed / MiB).toFixed(1)} MiB at the end (+${grown.toFixed(1)} MiB)`,
  );
  assert.ok(end.rss <= warm.rss + 128 * MiB, `rss ${(warm.rss / MiB).toFixed(0)} -> ${(end.rss / MiB).toFixed(0)} MiB`);

  // The same disk and the same open texts in a fresh server: the same diagnostics.
  const fresh = await startOn(dir);
  clients.push(fresh);
  for (const [uri, text] of run.open) await fresh.open(uri, text);
  await settle(fresh, anyUri);
  const mine = diagnosticsOf(client);
  const theirs = diagnosticsOf(fresh);
  assert.ok(theirs.size > 10, 'the workspace has findings to compare');
  assert.deepEqual([...mine.keys()], [...theirs.keys()], 'the same files have diagnostics');
  for (const [uri, list] of theirs) assert.deepEqual(mine.get(uri), list, uri);
});

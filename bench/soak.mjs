// Soak, the long run (issue 11): random edits through the real protocol against the
// bundled server, for a number of edits or minutes, on a generated fleet
// (bench/workspace.mjs) or on the examples. The session is test/protocol/soak.ts, the same
// the CI test (test/protocol/soak.test.ts) runs briefly; here it runs long and prints, per
// interval, edits/s, hover latency (p50/p95/max) and the server's memory: the heap kept
// after a full collection (the server runs with --expose-gc) and its RSS. At the end the
// diagnostics must equal a fresh server's for the same texts; exit 1 if anything failed.
//
// Run on demand (after `npm run build`):
//   node bench/soak.mjs [--seed N] [--edits N | --minutes M] [--lines 20k | --lines examples]
//                       [--every 2000] [--open 6]
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';
import { flag, REPO } from './throughput.mjs';
import { generateWorkspace, parseSize, writeWorkspace } from './workspace.mjs';

register();
const { diagnosticsOf, iommuFiles, percentile, settle, soak, startOn } = await import('../test/protocol/soak.ts');

const seed = Number(flag('seed', '1'));
const minutes = flag('minutes', undefined);
const edits = minutes === undefined ? Number(flag('edits', '50000')) : undefined;
const lines = flag('lines', '20k');
const every = Number(flag('every', '2000'));
const openDocs = Number(flag('open', '6'));
const MiB = 2 ** 20;
/** The largest value (a spread of hundreds of thousands of numbers overflows the stack). */
const max = (xs) => xs.reduce((a, x) => (x > a ? x : a), -Infinity);

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-soak-'));
if (lines === 'examples') {
  cpSync(join(REPO, 'examples'), dir, { recursive: true, filter: (p) => !p.endsWith('.md') });
} else {
  writeWorkspace(dir, generateWorkspace(parseSize(lines)));
}
const files = iommuFiles(dir);
const corpus = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n')).filter((l) => l.trim());
console.log(
  `workspace: ${lines === 'examples' ? 'the examples' : `a generated fleet of ${lines} lines`}, ${files.length} files; seed ${seed}; ` +
    `${edits !== undefined ? `${edits} edits` : `${minutes} minutes`}; ${openDocs} documents open`,
);

const failures = [];
let client;
let fresh;
try {
  const t0 = performance.now();
  client = await startOn(dir, { nodeArgs: ['--expose-gc'] });
  const first = await client.memory();
  console.log(
    `first analysis: ${((performance.now() - t0) / 1000).toFixed(1)} s; heap kept ${(first.heapUsed / MiB).toFixed(1)} MiB, rss ${(first.rss / MiB).toFixed(0)} MiB`,
  );
  console.log('\n| edits | s | edits/s | hover p50 | p95 | max (ms) | heap kept (MiB) | rss (MiB) |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  let last = { edits: 0, ms: 0 };
  const samples = [];
  const run = await soak({
    client,
    dir,
    seed,
    edits,
    deadline: minutes === undefined ? undefined : performance.now() + Number(minutes) * 60_000,
    openDocs,
    corpus,
    sampleEvery: every,
    onSample: async (s) => {
      const m = await client.memory();
      const rate = (s.edits - last.edits) / ((s.ms - last.ms) / 1000);
      last = s;
      samples.push({ edits: s.edits, heap: m.heapUsed, rss: m.rss });
      const f = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
      console.log(
        `| ${s.edits} | ${(s.ms / 1000).toFixed(0)} | ${f(rate)} | ${f(percentile(s.hovers, 50))} | ${f(percentile(s.hovers, 95))} | ${f(max(s.hovers))} | ` +
          `${(m.heapUsed / MiB).toFixed(1)} | ${(m.rss / MiB).toFixed(0)} |`,
      );
    },
  });
  failures.push(...run.failures);
  console.log(
    `\n${run.edits} edits in ${(run.ms / 1000).toFixed(0)} s (${(run.edits / (run.ms / 1000)).toFixed(0)}/s), ${run.requests} requests (${run.cancelled} cancelled); ` +
      `hover p50 ${percentile(run.hovers, 50).toFixed(0)} ms, p95 ${percentile(run.hovers, 95).toFixed(0)} ms, max ${max(run.hovers).toFixed(0)} ms`,
  );
  if (samples.length >= 2) {
    // The trend of the heap over the second half of the samples, per 10k edits: a leak shows as a steady slope.
    const half = samples.slice(Math.floor(samples.length / 2));
    const n = half.length;
    const mx = half.reduce((a, s) => a + s.edits, 0) / n;
    const my = half.reduce((a, s) => a + s.heap, 0) / n;
    const slope =
      half.reduce((a, s) => a + (s.edits - mx) * (s.heap - my), 0) /
      Math.max(
        1,
        half.reduce((a, s) => a + (s.edits - mx) ** 2, 0),
      );
    console.log(
      `heap kept: ${(samples[0].heap / MiB).toFixed(1)} MiB at ${samples[0].edits} edits, ${(samples.at(-1).heap / MiB).toFixed(1)} MiB at the end; ` +
        `second-half trend ${((slope * 10_000) / MiB).toFixed(2)} MiB per 10k edits`,
    );
  }

  await client.conn.sendNotification('workspace/didChangeConfiguration', {
    settings: { iommuLens: { checksWhileTyping: ['vfio', 'timelines', 'pools', 'firmware', 'xen', 'cmdqv'] } },
  });
  const anyUri = [...run.open.keys()][0];
  await settle(client, anyUri);
  if (client.exited) failures.push(`the server exited: ${JSON.stringify(client.exited)}`);
  for (const s of client.statuses.filter((x) => x.state === 'failed')) failures.push(`analysis failed: ${s.message}`);
  for (const l of client.logs.filter((x) => x.type === 1)) failures.push(`logged: ${l.message.slice(0, 500)}`);

  fresh = await startOn(dir);
  for (const [uri, text] of run.open) await fresh.open(uri, text);
  await settle(fresh, anyUri);
  const mine = diagnosticsOf(client);
  const theirs = diagnosticsOf(fresh);
  let differ = 0;
  for (const uri of new Set([...mine.keys(), ...theirs.keys()])) {
    if (JSON.stringify(mine.get(uri) ?? []) !== JSON.stringify(theirs.get(uri) ?? [])) {
      differ++;
      failures.push(`diagnostics of ${uri} differ from a fresh server's`);
    }
  }
  console.log(
    `final diagnostics: ${mine.size} files with findings; ${differ === 0 ? "equal to a fresh server's" : `${differ} files differ from a fresh server's`}`,
  );
} finally {
  for (const c of [client, fresh]) if (c && !c.exited) await c.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (failures.length) {
  console.log(`\nFAILED (${failures.length}):\n${failures.slice(0, 30).join('\n')}`);
  process.exit(1);
}
console.log('\nok');

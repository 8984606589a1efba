/**
 * The long fuzz run (started by bench/fuzz.mjs, which also watches it for hangs):
 *
 *   node bench/fuzz.mjs [--seed N] [--minutes M | --runs N] [--out DIR] [--no-cli]
 *   node bench/fuzz.mjs --replay DIR      (check one saved input again, print its problems)
 *
 * Generates inputs from the seed (random when not given, and printed), checks each one
 * (check.ts), and every few hundred inputs runs the CLI over the batch. A failure is
 * shrunk by fast-check, then minimised as text, written to DIR/<n>/ with a PROBLEM.txt,
 * and the run goes on with the next seed, looking for other failures; a failure like one
 * already found does not count again. Exit status 1 if anything failed.
 */
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { workspaceAt } from '../files';
import { checkCliBatch, checkInput, describe, DEFAULT_CHECK, signature, type Problem } from './check';
import { loadCorpus, unitTestSnippets } from './corpus';
import { minimise } from './minimise';
import { fuzzInput, type Input } from './mutate';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    minutes: { type: 'string' },
    runs: { type: 'string' },
    out: { type: 'string' },
    'no-cli': { type: 'boolean' },
    replay: { type: 'string' },
    'cli-every': { type: 'string', default: '400' },
    // Tries the failure path (shrink, minimise, save, replay) on a fault planted in the harness: text that counts as a failure.
    plant: { type: 'string' },
  },
});

const options = { ...DEFAULT_CHECK, plant: values.plant };

/** Tells the watchdog (bench/fuzz.mjs) that an input is starting, and where it was saved. */
const beat = (msg: object) => process.send?.(msg);

function readInputDir(dir: string): Input {
  const files = statSync(dir).isDirectory() ? workspaceAt(dir) : { [dir.replace(/.*\//, '')]: readFileSync(dir, 'utf8') };
  return { label: dir, files };
}

function saveInput(dir: string, input: Input, note: string): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, text] of Object.entries(input.files)) {
    const path = join(dir, name.endsWith('.iommu') ? name : `${name}.iommu`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  writeFileSync(join(dir, 'PROBLEM.txt'), note);
}

if (values.replay) {
  const input = readInputDir(values.replay);
  const r = checkInput(input, options);
  console.log(r.problems.length ? describe(r.problems) : `no problems (${Math.round(r.ms)} ms)`);
  process.exit(r.problems.length ? 1 : 0);
}

const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const deadline = performance.now() + (values.minutes ? Number(values.minutes) * 60_000 : Infinity);
const maxRuns = values.runs ? Number(values.runs) : values.minutes ? Infinity : 2000;
const out = values.out ?? mkdtempSync(join(tmpdir(), 'iommu-lens-fuzz-'));
const cliEvery = Number(values['cli-every']);
const current = join(out, 'current');
const corpus = [...loadCorpus({ regressions: true }), ...unitTestSnippets()];
const arb = fuzzInput(corpus, { bigShare: 0.05 });

console.log(
  `fuzz: seed ${seed}, ${corpus.length} seed workspaces, ${values.minutes ? `${values.minutes} min` : `${maxRuns} inputs`}; failures go to ${out}`,
);
const planted = values.plant !== undefined ? ` --plant ${JSON.stringify(values.plant)}` : '';
console.log(
  `replay this run: node bench/fuzz.mjs --seed ${seed}${values.minutes ? ` --minutes ${values.minutes}` : ` --runs ${maxRuns}`}${planted}`,
);

let runs = 0;
let failures = 0;
const known = new Set<string>();
const slowest: { ms: number; label: string }[] = [];
let batch: Input[] = [];
const started = performance.now();
let lastReport = started;

function progress(force = false): void {
  const now = performance.now();
  if (!force && now - lastReport < 15_000) return;
  lastReport = now;
  const s = (now - started) / 1000;
  console.log(
    `  ${runs} inputs in ${s.toFixed(0)} s (${(runs / s).toFixed(1)}/s), ${failures} failure(s); slowest ${slowest[0] ? `${Math.round(slowest[0].ms)} ms` : '-'}`,
  );
}

function noteSlow(ms: number, label: string): void {
  if (slowest.length >= 10 && ms <= slowest[slowest.length - 1]!.ms) return;
  slowest.push({ ms, label });
  slowest.sort((a, b) => b.ms - a.ms);
  slowest.length = Math.min(slowest.length, 10);
}

function record(input: Input, problem: Problem, how: string): void {
  failures++;
  known.add(signature(problem));
  const dir = join(out, String(failures).padStart(2, '0'));
  console.log(`\nFAILURE ${failures}: [${problem.kind}] ${problem.where}: ${problem.detail.split('\n')[0]}`);
  console.log(`  input: ${input.label}; minimising...`);
  const small = minimise(input, problem, options, 2000, () => beat({ runs, label: `minimising ${input.label}` }));
  const sizes = Object.entries(small.files)
    .map(([n, t]) => `${n} (${t.length} chars)`)
    .join(', ');
  saveInput(
    dir,
    small,
    `${describe([problem])}\n\nfound by: ${how}\ninput: ${input.label}\nreplay: node bench/fuzz.mjs --replay ${dir}${planted}\n`,
  );
  console.log(`  minimised to ${sizes}\n  saved in ${dir}\n  replay: node bench/fuzz.mjs --replay ${dir}${planted}\n`);
}

function runCli(): void {
  if (values['no-cli'] || !batch.length) return;
  beat({ runs, label: `the CLI over the last ${batch.length} inputs` });
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fuzz-cli-'));
  try {
    for (const p of checkCliBatch(dir, batch)) {
      if (known.has(signature(p))) continue;
      failures++;
      known.add(signature(p));
      // The batch stays where the CLI read it, for the replay.
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, `${String(failures).padStart(2, '0')}-cli.txt`), `${describe([p])}\n\nbatch kept in ${dir}\n`);
      console.log(`\nFAILURE ${failures}: [cli] ${p.where}: ${p.detail}\n  batch kept in ${dir}\n`);
      return; // keep the directory
    }
    rmSync(dir, { recursive: true, force: true });
  } finally {
    batch = [];
  }
}

let round = 0;
while (runs < maxRuns && performance.now() < deadline) {
  const roundSeed = seed + round++;
  // The property also runs while fast-check shrinks a failure: those calls are not new inputs.
  let shrinking = false;
  const details = fc.check(
    fc.property(arb, (input) => {
      // Saved before it runs, so the watchdog can name an input that hangs (also one tried while shrinking).
      const label = `${shrinking ? 'shrinking: ' : ''}${input.label}`;
      saveInput(current, input, `input ${runs} of seed ${roundSeed}: ${label}\n`);
      beat({ runs, label, saved: current });
      const r = checkInput(input, options);
      if (!shrinking) {
        runs++;
        noteSlow(r.ms, input.label);
        batch.push(input);
        if (batch.length >= cliEvery) runCli();
        progress();
      }
      const fresh = r.problems.filter((p) => !known.has(signature(p)));
      if (!fresh.length) return true;
      shrinking = true;
      throw new Error(describe(fresh));
    }),
    {
      seed: roundSeed,
      numRuns: Math.min(maxRuns - runs, 2 ** 30),
      plugins: Number.isFinite(deadline) ? [fc.interruptAfterTimeLimit(Math.max(1, deadline - performance.now()))] : [],
    },
  ) as fc.RunDetails<[Input]>;
  if (details.failed && details.counterexample) {
    const input = details.counterexample[0];
    const problem = checkInput(input, options).problems.find((p) => !known.has(signature(p)));
    if (problem) record(input, problem, `seed ${roundSeed}, fast-check path ${details.counterexamplePath}`);
    else {
      failures++;
      console.log(`\nFAILURE ${failures} (not reproducible alone): ${details.counterexample[0].label}\n${String(details.errorInstance)}`);
    }
  } else break; // every run passed, or the time is up
}
runCli();
rmSync(current, { recursive: true, force: true });
progress(true);
console.log(`\nslowest inputs:\n${slowest.map((s) => `  ${Math.round(s.ms)} ms  ${s.label}`).join('\n')}`);
console.log(failures ? `\n${failures} failure(s); inputs in ${out}` : '\nno failures');
process.exit(failures ? 1 : 0);

/**
 * The CI fuzz run (issue 11): a fixed seed and a short budget, so every run checks the
 * same inputs. Mutated examples and fixtures, workspaces generated from the grammar and
 * random text go through the analysis host and every IDE feature (check.ts); a sample
 * of them goes through the bundled CLI. A failure prints the minimised input and how to
 * replay it; keep it in test/fixtures/fuzz/ once fixed (regressions.test.ts runs it).
 * The long run with a random seed is `node bench/fuzz.mjs`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { CLI, checkCliBatch, checkInput, describe, DEFAULT_CHECK, type Problem } from './check';
import { loadCorpus } from './corpus';
import { minimise } from './minimise';
import { fuzzInput, type Input } from './mutate';

const SEED = 1111;
/** About 12 s on the 2-core machine (more when it is shared); the CLI part adds about 6 s. */
const RUNS = 200;
const CLI_INPUTS = 80;

const corpus = loadCorpus();

test(`${RUNS} fuzzed inputs through the analysis and every IDE feature (seed ${SEED})`, (t) => {
  const slowest: { ms: number; label: string }[] = [];
  let first: { input: Input; problem: Problem } | undefined;
  const details = fc.check(
    fc.property(fuzzInput(corpus), (input) => {
      const r = checkInput(input);
      slowest.push({ ms: r.ms, label: input.label });
      if (!r.problems.length) return true;
      first ??= { input, problem: r.problems[0]! };
      throw new Error(describe(r.problems));
    }),
    { seed: SEED, numRuns: RUNS },
  );
  slowest.sort((a, b) => b.ms - a.ms);
  t.diagnostic(
    `slowest: ${slowest
      .slice(0, 3)
      .map((s) => `${Math.round(s.ms)} ms ${s.label}`)
      .join('; ')}`,
  );
  if (!details.failed) return;
  const shrunk = details.counterexample?.[0] ?? first!.input;
  const problem = checkInput(shrunk).problems[0] ?? first!.problem;
  const small = minimise(shrunk, problem, DEFAULT_CHECK, 400);
  assert.fail(
    `${describe([problem])}\n\nminimised input (${small.label}):\n${JSON.stringify(small.files, null, 1)}\n\n` +
      `replay: fc seed ${SEED}, path ${details.counterexamplePath}; save the files under test/fixtures/fuzz/ and run node bench/fuzz.mjs --replay DIR`,
  );
});

test('the harness finds a planted fault, shrinks it and minimises it to the text that triggers it', () => {
  const options = { ...DEFAULT_CHECK, plant: 'vf-of' };
  const details = fc.check(
    fc.property(fuzzInput(corpus), (input) => checkInput(input, options).problems.length === 0),
    { seed: SEED, numRuns: 500 },
  );
  assert.ok(details.failed, 'no input held the planted text');
  const input = details.counterexample![0];
  const small = minimise(input, checkInput(input, options).problems[0]!, options);
  assert.deepEqual(Object.values(small.files), ['vf-of']);
});

test(`the CLI exits 0 or 1 on ${CLI_INPUTS} fuzzed inputs (check, check --format json, format --check, single files)`, () => {
  assert.ok(existsSync(CLI), 'run `npm run build` first');
  const inputs = fc.sample(fuzzInput(corpus), { seed: SEED + 1, numRuns: CLI_INPUTS });
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fuzz-cli-'));
  try {
    const problems = checkCliBatch(dir, inputs, 3, 20);
    assert.deepEqual(problems, [], describe(problems));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Every input the fuzzer once failed on, minimised, through the same checks as the fuzz
 * run (check.ts) and the CLI: test/fixtures/fuzz/NAME.iommu alone, or
 * test/fixtures/fuzz/NAME/ as a workspace. Each file says on its first line what it
 * exercises (when the input allows a comment there).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe as suite, test } from 'node:test';
import { CLI, checkInput, DEFAULT_CHECK, describe, runCli } from './check';
import { REGRESSIONS, regressions } from './corpus';

/**
 * Inputs whose fix belongs to a module this suite's owner may not change: name → why.
 * They run as `todo` (reported, not failing) until that module is fixed.
 */
const TODO: Readonly<Record<string, string>> = {};

const inputs = regressions();
/** Fewer code actions re-analysed than the fuzz run: some of these inputs cost a second per analysis by design. */
const OPTIONS = { ...DEFAULT_CHECK, maxActions: 3 };

suite('fuzz regressions', () => {
  test('are kept in test/fixtures/fuzz', () => assert.ok(inputs.length > 0, `no inputs under ${REGRESSIONS}`));

  for (const seed of inputs) {
    test(seed.name, { todo: TODO[seed.name] }, () => {
      const r = checkInput({ label: seed.name, files: seed.files }, OPTIONS);
      assert.deepEqual(r.problems, [], describe(r.problems));
    });
  }

  test('the CLI exits 0 or 1 on all of them (check, check --format json, format --check)', {
    todo: Object.keys(TODO).length ? 'some regressions are still open' : undefined,
  }, () => {
    assert.ok(existsSync(CLI), 'run `npm run build` first');
    for (const args of [
      ['check', REGRESSIONS],
      ['check', '--format', 'json', REGRESSIONS],
      ['format', '--check', REGRESSIONS],
    ]) {
      const p = runCli(args, REGRESSIONS);
      assert.equal(p, undefined, p && describe([p]));
    }
  });
});

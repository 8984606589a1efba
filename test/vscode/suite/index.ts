/**
 * The entry point VS Code's extension host loads for `--extensionTestsPath`: runs every
 * `*.e2e.js` next to it (bundled by ../run.mjs) with mocha and settles with the result.
 * When IOMMU_LENS_SUITE_RESULT names a file, the result is also written there as JSON, for
 * hosts whose exit code does not reach the runner (the code-server extension host).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import { version } from 'vscode';

interface Outcome {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  error?: string;
  ms?: number;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 180_000, color: false, reporter: 'spec' });
  for (const f of readdirSync(__dirname)
    .filter((n) => n.endsWith('.e2e.js'))
    .sort())
    mocha.addFile(join(__dirname, f));
  const outcomes: Outcome[] = [];
  const resultFile = process.env.IOMMU_LENS_SUITE_RESULT;
  const write = (extra: Record<string, unknown>) => {
    if (resultFile) writeFileSync(resultFile, JSON.stringify({ vscode: version, outcomes, ...extra }, null, 1));
  };
  return new Promise<void>((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        write({ failures, done: true });
        if (failures > 0) reject(new Error(`${failures} of ${outcomes.length} tests failed`));
        else resolve();
      });
      runner.on('pass', (t) => outcomes.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
      runner.on('fail', (t, err: unknown) =>
        outcomes.push({ title: t.fullTitle(), state: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
      runner.on('pending', (t) => outcomes.push({ title: t.fullTitle(), state: 'pending' }));
    } catch (e) {
      // A scenario file that fails to load never reaches mocha's callback.
      write({ failures: 1, done: true, loadError: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      reject(e);
    }
  });
}

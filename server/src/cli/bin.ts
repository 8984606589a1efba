/** Entry point of the bundled CLI (dist/cli.cjs). */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { isMainThread, workerData } from 'node:worker_threads';
import { errnoReason } from './errors';
import { run } from './main';
import { isWorkerSetup, serveWorker } from './worker';

/**
 * Output to one of the process's streams. A reader that goes away early (`iommu-lens check
 * | head -1`) closes the pipe and the next write fails with EPIPE: as Unix tools do, the CLI
 * then stops writing there, quietly, and exits with the status the command had (Node ignores
 * SIGPIPE, so there is no 141). Any other failure to write (a full disk behind `> file`) is
 * said on stderr and makes the exit status 2. Node reports these failures as events, after
 * the command has returned, so they adjust `process.exitCode` rather than the returned code.
 */
function sink(stream: NodeJS.WriteStream, name: string): (s: string) => void {
  let broken = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (broken) return;
    broken = true;
    if (e.code === 'EPIPE') return;
    process.exitCode = 2;
    if (stream !== process.stderr) process.stderr.write(`iommu-lens: cannot write ${name}: ${errnoReason(e)}\n`);
  });
  return (s) => {
    if (!broken) stream.write(s);
  };
}

/**
 * V8 lets its heap grow to several times what is live before a full collection; `check`
 * drops each component's analysis, so most of its heap is garbage soon after it is made.
 * Growing by 20% took the peak at 200k lines from 386 to 272 MiB, but while pass 1 keeps
 * its ASTs the live heap only grows, and at 20% V8 marked all of it again every fifth:
 * growing by 50% costs 10 to 20% less CPU at 200k lines for the same peak (about 310 MiB),
 * and a third less at 2M lines (72 s against 106 s) for a peak of 842 MiB against 708
 * (bench/RESULTS.md).
 */
const HEAP_GROWING_PERCENT = 50;

function main(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const code = run(process.argv.slice(2), {
    out: sink(process.stdout, 'standard output'),
    err: sink(process.stderr, 'standard error'),
    cwd: process.cwd(),
    // The bundle is dist/cli.cjs; the docs ship beside dist/ (in the .vsix and the repository).
    docs: pathToFileURL(join(__dirname, '..', 'docs', 'diagnostics.md')).href,
    // `check --jobs N` runs this same bundle on its worker threads.
    worker: __filename,
  });
  if (typeof code === 'number') process.exitCode = code;
  else
    code.then(
      (c) => (process.exitCode = c),
      (e: unknown) => {
        process.stderr.write(`iommu-lens: internal error (please report it): ${e instanceof Error ? e.stack : String(e)}\n`);
        process.exitCode = 2;
      },
    );
}

if (!isMainThread && isWorkerSetup(workerData)) serveWorker(workerData);
else main();

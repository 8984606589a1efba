// The long fuzz run: test/fuzz/run.ts in a child process, watched for hangs.
//
//   node bench/fuzz.mjs [--seed N] [--minutes M | --runs N] [--out DIR] [--no-cli] [--cli-every N]
//   node bench/fuzz.mjs --replay DIR
//
// The seed is random unless given, and printed with the command that replays the run (on
// the same seed inputs: the examples, test fixtures and unit-test snippets of that commit).
// Each input is checked through the parser, model, simulator, every IDE feature and the
// CLI (test/fuzz/check.ts); a failure is minimised and saved with its replay command.
// An input that runs past the hang bound (default 120 s, --hang-seconds) is an
// infinite loop or worse: the child is killed and the input that hung is named.
// Needs dist/cli.cjs for the CLI checks (npm run build). The CI run is test/fuzz/fuzz.test.ts.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const hangAt = args.indexOf('--hang-seconds');
const hangMs = hangAt >= 0 ? Number(args.splice(hangAt, 2)[1]) * 1000 : 120_000;

const runner = fileURLToPath(new URL('../test/fuzz/run.ts', import.meta.url));
const child = fork(runner, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });

let current = { runs: 0, label: '(starting)' };
let lastBeat = Date.now();
child.on('message', (m) => {
  current = m;
  lastBeat = Date.now();
});

// Minimising and the CLI batches do not beat: the bound is generous enough for them.
const watchdog = setInterval(() => {
  if (Date.now() - lastBeat < hangMs) return;
  console.error(`\nHANG: no progress for ${hangMs / 1000} s after input ${current.runs}: ${current.label}`);
  if (current.saved) console.error(`the input is saved in ${current.saved}; replay: node bench/fuzz.mjs --replay ${current.saved}`);
  child.kill('SIGKILL');
}, 1000);

child.on('exit', (code, signal) => {
  clearInterval(watchdog);
  process.exit(signal ? 3 : (code ?? 1));
});

/** Entry point of the bundled CLI (dist/cli.cjs). */
import { run } from './main';

const code = run(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  cwd: process.cwd(),
});
process.exitCode = code;

/** Running the bundled CLI (dist/cli.cjs; `npm run build` first) for the CLI tests. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.cjs');

/** `iommu-lens ARGS` in `cwd`: its exit status and output. */
export function cli(args: string[], cwd = ROOT, maxBuffer = 64 * 2 ** 20) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

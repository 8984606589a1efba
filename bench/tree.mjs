// A commit's tree built apart from the working tree, for benchmarks that compare a "before"
// (--ref) with the working tree in one run (bench/large.mjs, startup.mjs, firmware.mjs, limits.mjs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './throughput.mjs';

/** Exports `ref` into a temp tree with node_modules linking to ours (its own workspace packages) and builds it. */
export function treeAt(ref, tmp) {
  const tree = join(tmp, 'tree');
  mkdirSync(tree);
  const tar = spawnSync('git', ['archive', '--format=tar', ref], { cwd: REPO, maxBuffer: 1 << 30 });
  if (tar.status !== 0) throw new Error(`git archive ${ref}: ${tar.stderr}`);
  const x = spawnSync('tar', ['-x', '-C', tree], { input: tar.stdout });
  if (x.status !== 0) throw new Error(`tar: ${x.stderr}`);
  const nm = join(tree, 'node_modules');
  mkdirSync(nm);
  for (const e of readdirSync(join(REPO, 'node_modules'))) {
    if (e === '@iommu-lens') {
      mkdirSync(join(nm, e));
      for (const p of ['grammar', 'server', 'client']) symlinkSync(join(tree, p), join(nm, e, p));
    } else {
      symlinkSync(join(REPO, 'node_modules', e), join(nm, e));
    }
  }
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: tree, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build of ${ref} failed: ${b.stderr}`);
  return tree;
}

// Benchmark (issue 28 item 1): one large file as fast as many small ones. The fleet of
// bench/workspace.mjs joined into ONE file (hosts, guests, pools and timelines), edited
// through the real server over stdio with debounce 0 as bench/typing.mjs does, before
// (--ref, exported and built apart, bench/tree.mjs) and after (the working tree) in one run.
// Two edits of the same guest's RAM line, each adding or removing a ram-over-doorbell error:
//   digit: `size 2G` <-> `size 4G` (one character: nothing else moves)
//   grow:  `size 2G` <-> `size 4096M` (3 characters more or less: every later declaration moves)
// maxFileSize is raised to the server's cap (8 MiB) so the 100k-line file is analysed.
//
// Run on demand (after `npm run build`):
//   node bench/oneFile.mjs [--sizes 10k,100k] [--edits 30] [--warmup 3] [--ref 042d0ae] [--write LABEL]
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, REPO } from './throughput.mjs';
import { treeAt } from './tree.mjs';
import { measureTyping } from './typing.mjs';
import { generateWorkspace, parseSize } from './workspace.mjs';

const MAX_FILE_SIZE = 8 * 1024 * 1024;
const EDITS = { digit: undefined, grow: ['2G', '4096M'] };

/** The workspace's files joined into fleet.iommu, with the edit target's line moved to match. */
function oneFile(ws) {
  const paths = [...ws.files.keys()].sort();
  let line = 0;
  let editLine;
  for (const p of paths) {
    if (p === ws.edit.path) editLine = line + ws.edit.line;
    line += ws.files.get(p).split('\n').length;
  }
  const text = paths.map((p) => ws.files.get(p)).join('\n');
  return { files: new Map([['fleet.iommu', text]]), edit: { ...ws.edit, path: 'fleet.iommu', line: editLine }, text };
}

const load = () =>
  execFileSync('uptime', { encoding: 'utf8' })
    .trim()
    .replace(/^.*load/, 'load');
const f0 = (x) => x.toFixed(0);

const sizes = flag('sizes', '10k,100k').split(',').map(parseSize);
const edits = Number(flag('edits', '30'));
const warmup = Number(flag('warmup', '3'));
const ref = flag('ref', '042d0ae');
const label = flag('write', undefined);
const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-onefile-'));
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
const roots = { [`before (${ref})`]: treeAt(ref, tmp), [`after (${commit})`]: REPO };
const started = new Date();
const loads = [`start: ${load()}`];
const rows = [];
try {
  for (const lines of sizes) {
    const ws = oneFile(generateWorkspace(lines));
    const dir = join(tmp, `ws-${lines}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'fleet.iommu'), ws.text);
    const shape = { lines: ws.text.split('\n').length, mb: Buffer.byteLength(ws.text) / 1e6 };
    for (const [edit, toggle] of Object.entries(EDITS)) {
      for (const [tree, root] of Object.entries(roots)) {
        const t = await measureTyping({ root, dir, ws, edits, warmup, settings: { maxFileSize: MAX_FILE_SIZE }, toggle });
        rows.push({ ...shape, edit, tree, t });
        console.error(`${shape.lines} lines, ${edit}, ${tree}: p50 ${f0(t.diag.p50)} p95 ${f0(t.diag.p95)} ms`);
      }
    }
    loads.push(`after ${shape.lines} lines: ${load()}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const out = [
  `Run ${started.toISOString()}; before: commit ${ref} (exported and built apart), after: ${commit} (the working tree).`,
  `Machine: ${cpus().length} CPUs, Node ${process.version}. Load (uptime; other jobs share the machine): ${loads.join('; ')}.`,
  `Command: \`node bench/oneFile.mjs --sizes ${sizes.join(',')} --edits ${edits} --warmup ${warmup} --ref ${ref}${label ? ` --write '${label}'` : ''}\``,
  '',
  '| lines | MB | edit | tree | first diagnostics ms | edit -> diagnostics p50 / p95 / max ms | edit -> idle p50 / p95 ms | server main-thread CPU per edit p50 / p95 ms | server peak MiB | diagnostics in file |',
  '|---:|---:|---|---|---:|---:|---:|---:|---:|---|',
  ...rows.map(
    ({ lines, mb, edit, tree, t }) =>
      `| ${lines} | ${mb.toFixed(2)} | ${edit} | ${tree} | ${f0(t.firstMs)} | ${f0(t.diag.p50)} / ${f0(t.diag.p95)} / ${f0(t.diag.max)} | ${f0(t.idle.p50)} / ${f0(t.idle.p95)} | ${f0(t.cpu.p50)} / ${f0(t.cpu.p95)} | ${f0(t.peakMiB)} | ${Object.values(t.counts).join(' / ')} |`,
  ),
].join('\n');
console.log(out);
if (label) appendFileSync(join(REPO, 'bench', 'RESULTS.md'), `\n## ${label}\n\n${out}\n`);

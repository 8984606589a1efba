// `iommu-lens check` at fleet scale, before and after in one run: for each size, the generated
// fleet (bench/workspace.mjs) checked whole (`--format json`), with `--jobs 2`, and in N shards
// (`--shard K/N`, one process each, as a CI matrix runs them) whose outputs `merge-reports`
// joins; the merged output is compared byte for byte with the whole run's (and the "before"'s).
// Wall and CPU time (user + system, every thread) and peak RSS per process, from /usr/bin/time.
//   npm run build && node bench/shards.mjs [--sizes 200k,2M] [--shards 4] [--ref GIT-REF] [--write LABEL]
// --ref: the "before" (a commit exported and built apart, bench/tree.mjs). The "after" is HEAD,
// exported and built the same way, so a build in this checkout meanwhile does not change it.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, REPO, timeNode } from './throughput.mjs';
import { treeAt } from './tree.mjs';
import { generateWorkspace, parseSize, writeWorkspace } from './workspace.mjs';

const sizes = flag('sizes', '200k,2M').split(',').map(parseSize);
const shards = Number(flag('shards', '4'));
const ref = flag('ref', undefined);
const label = flag('write', undefined);
const sh = (cmd, args) => execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8' }).trim();
const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
const load = () => sh('uptime', []).replace(/^.*load average:\s*/, '');
const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-shards-'));

const row = (what, r, bytes) =>
  `| ${what} | ${(r.ms / 1000).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(1)} | ${r.peakMiB.toFixed(0)} | ${(bytes / 1e6 / (r.ms / 1000)).toFixed(1)} |`;

try {
  const before = ref ? join(treeAt(ref, tmp), 'dist', 'cli.cjs') : undefined;
  mkdirSync(join(tmp, 'after'));
  const after = join(treeAt(commit, join(tmp, 'after')), 'dist', 'cli.cjs');
  const out = [
    `Run ${new Date().toISOString()}, after: commit ${commit} (exported and built apart)${ref ? `, before: \`--ref ${ref}\`` : ''}; load average at start ${load()}.`,
    `Command: \`node bench/shards.mjs ${process.argv.slice(2).join(' ')}\``,
    '',
  ];
  for (const lines of sizes) {
    const ws = generateWorkspace(lines);
    const dir = join(tmp, `ws-${lines}`);
    writeWorkspace(dir, ws);
    const bytes = ws.stats.bytes;
    console.error(`${ws.stats.lines} lines (${(bytes / 1e6).toFixed(1)} MB, ${ws.stats.files} files) [load ${load()}]`);
    const check = async (cli, extra) => {
      const r = await timeNode(cli, ['check', dir, '--format', 'json', ...extra]);
      if (r.status !== 0 && r.status !== 1) throw new Error(`check ${extra.join(' ')} failed (${r.status}): ${r.stderr}`);
      return r;
    };
    const rows = [
      `**${ws.stats.lines} lines, ${(bytes / 1e6).toFixed(1)} MB, ${ws.stats.files} files** (\`check DIR --format json\`; MB/s: the fleet's bytes over the wall time)`,
      '',
      '| run | wall s | CPU s | peak RSS MiB | MB/s |',
      '|---|---:|---:|---:|---:|',
    ];
    let old;
    if (before) {
      old = await check(before, []);
      rows.push(row('before: whole', old, bytes));
    }
    const whole = await check(after, []);
    rows.push(row('after: whole', whole, bytes));
    const jobs = await check(after, ['--jobs', '2']);
    rows.push(row('after: --jobs 2', jobs, bytes));
    const files = [];
    let slowest = 0;
    for (let k = 1; k <= shards; k++) {
      const r = await check(after, ['--shard', `${k}/${shards}`]);
      rows.push(row(`after: --shard ${k}/${shards}`, r, bytes));
      slowest = Math.max(slowest, r.ms);
      const f = join(tmp, `shard-${k}.json`);
      writeFileSync(f, r.stdout);
      files.push(f);
    }
    const merged = await timeNode(after, ['merge-reports', ...files.reverse()]);
    rows.push(row(`merge-reports of the ${shards}`, merged, bytes));
    const findings = JSON.parse(whole.stdout).length;
    rows.push(
      '',
      `Findings: ${findings}. Merged shards byte for byte the whole run's output: ${merged.stdout === whole.stdout ? 'yes' : '**no**'}` +
        `${old ? `; the whole run's output the same as before: ${old.stdout === whole.stdout ? 'yes' : '**no**'}` : ''}` +
        `; --jobs 2 the same: ${jobs.stdout === whole.stdout ? 'yes' : '**no**'}. A CI matrix of ${shards} machines would take the slowest shard, ` +
        `${(slowest / 1000).toFixed(1)} s, then the merge. Load average after: ${load()}.`,
      '',
    );
    out.push(...rows);
    console.error(rows.join('\n'));
    rmSync(dir, { recursive: true, force: true });
  }
  const report = out.join('\n');
  console.log(report);
  if (label) appendFileSync(join(REPO, 'bench', 'RESULTS.md'), `\n## ${label}\n\n${report}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

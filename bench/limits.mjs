// Engine budgets (issue 22, docs/limits.md "Engine budgets"): every shape of test/shapes/
// (each module there, read from the folder) at a few sizes through `iommu-lens check`:
// wall time, CPU time and peak RSS, and whether the findings the shape expects came (a
// shape's `expect` is what the size limit must show: a smaller size may not reach a budget).
// A run past --timeout seconds is killed and shown as such. Prints a markdown table.
//   npm run bench:limits -- [--sizes 128K,512K,2M] [--shapes timeline,pool] [--timeout 120]
//       [--ref GIT-REF] [--label TEXT]
// --ref measures a commit built apart from the working tree (bench/tree.mjs), e.g. the
// parent of a fix: the shapes still come from this checkout, so both runs see the same text.
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, REPO } from './throughput.mjs';
import { loadShapes } from '../test/shapes/lib/shapes.mjs';
import { treeAt } from './tree.mjs';

const TIME = '/usr/bin/time';

/** `128K`, `2M`, `2097152`: characters. */
function parseChars(s) {
  const m = /^(\d+(?:\.\d+)?)([KM]?)$/i.exec(s.trim());
  if (!m) throw new Error(`bad size '${s}'`);
  return Math.floor(Number(m[1]) * (m[2].toUpperCase() === 'M' ? 2 ** 20 : m[2].toUpperCase() === 'K' ? 2 ** 10 : 1));
}

/**
 * `node CLI check FILE` under /usr/bin/time, in its own process group so a run past the
 * timeout is killed whole. The text output goes to a file (it can pass a JavaScript
 * string's size) and is read line by line for the findings and their codes.
 */
async function check(cli, file, timeoutMs) {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-limits-out-'));
  const out = join(dir, 'stdout');
  const fd = openSync(out, 'w');
  const argv = [process.execPath, cli, 'check', file];
  const child = existsSync(TIME)
    ? spawn(TIME, ['-f', 'BENCH-TIME %e %M %U %S', ...argv], { stdio: ['ignore', fd, 'pipe'], detached: true })
    : spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-100_000);
  });
  const t0 = process.hrtime.bigint();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, timeoutMs);
  const status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  clearTimeout(timer);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  closeSync(fd);
  const m = /BENCH-TIME [\d.]+ (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  let findings = 0;
  const codes = new Set();
  for await (const line of createInterface({ input: createReadStream(out), crlfDelay: Infinity })) {
    const f = /^\S+:\d+:\d+: (?:error|warning|information|hint) (\S+) /.exec(line);
    if (f) {
      findings++;
      codes.add(f[1]);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    ms,
    killed,
    status,
    findings,
    codes,
    cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : NaN,
    peakMiB: m ? Number(m[1]) / 1024 : NaN,
    stderr: stderr.replace(/BENCH-TIME.*\n?/, '').replace(/Command (exited with non-zero status|terminated by signal) .*\n?/, ''),
  };
}

function outcome(shape, r) {
  if (r.killed) return `killed after ${(r.ms / 1000).toFixed(0)} s`;
  if (r.status !== 0 && r.status !== 1) {
    const how = typeof r.status === 'number' ? `exit ${r.status}` : r.status;
    return `failed (${how}${/heap out of memory/.test(r.stderr) ? ', out of memory' : ''})`;
  }
  // Exit 1 with nothing printed: the CLI gave up (its message is on stderr).
  if (!r.findings && r.stderr.trim()) {
    const lines = r.stderr.trim().split('\n');
    return `failed: ${(lines.find((l) => /Error\b/.test(l)) ?? lines[0]).trim().slice(0, 80)}`;
  }
  const missing = shape.expect.filter((c) => !r.codes.has(c));
  return missing.length ? `missing ${missing.join(', ')}` : 'expected findings';
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const sizes = flag('sizes', '128K,512K,2M').split(',').map(parseChars);
  const only = flag('shapes', '')?.split(',').filter(Boolean) ?? [];
  const timeoutMs = Number(flag('timeout', '120')) * 1000;
  const ref = flag('ref', undefined);
  const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-limits-'));
  try {
    const root = ref ? treeAt(ref, tmp) : REPO;
    const cli = join(root, 'dist', 'cli.cjs');
    const shapes = (await loadShapes()).filter((s) => !only.length || only.includes(s.name));
    const label = flag('label', ref ? `commit ${ref}` : 'working tree');
    console.log(`${label}; ${process.version}; sizes in characters; peak RSS from /usr/bin/time\n`);
    console.log('| shape | size | chars | findings | wall s | CPU s | peak RSS MiB | outcome |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---|');
    for (const shape of shapes) {
      for (const size of sizes) {
        const text = shape.generate(size);
        const file = join(tmp, `${shape.name}-${size}.iommu`);
        writeFileSync(file, text);
        const r = await check(cli, file, timeoutMs);
        const ran = !r.killed && (r.status === 0 || r.status === 1);
        const cells = [
          shape.name,
          size >= 2 ** 20 ? `${size / 2 ** 20}M` : `${size / 2 ** 10}K`,
          text.length,
          ran ? r.findings : '-',
          (r.ms / 1000).toFixed(1),
          Number.isNaN(r.cpuMs) ? '-' : (r.cpuMs / 1000).toFixed(1),
          Number.isNaN(r.peakMiB) ? '-' : r.peakMiB.toFixed(0),
          outcome(shape, r),
        ];
        console.log(`| ${cells.join(' | ')} |`);
        rmSync(file);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// Benchmark: `iommu-lens check DIR` on the generated large workspaces (bench/workspace.mjs):
// wall time, MB/s and peak RSS, next to the floor: the lexer alone and the lexer + parser
// alone (grammar package), and the engine's stages (parse, buildModel, simulate) and its
// per-edit analysis in process (bench/probe.ts). The CLI figure includes Node's start-up
// and loading the bundle, shown apart ("node start"); the floor's "cold" is its first pass
// in a fresh process (what the CLI pays), "warm" the best of three more.
// Run on demand (after `npm run build`):
//   node bench/throughput.mjs [--sizes 10k,50k,200k] [--runs 3] [--root DIR]
// --root: measure another source tree with its own dist/ (bench/large.mjs --ref uses it).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateWorkspace, parseSize, writeWorkspace } from './workspace.mjs';

export const REPO = join(import.meta.dirname, '..');
const TIME = '/usr/bin/time';

/**
 * Bundles this checkout's bench/probe.ts against the grammar and server sources of `root`
 * (esbuild, as scripts/build.mjs bundles dist/) into `outDir`. For another tree the probe is
 * copied into it for the build, so its imports resolve there.
 */
export async function bundleProbe(root, outDir) {
  const { build } = await import(pathToFileURL(join(REPO, 'node_modules', 'esbuild', 'lib', 'main.js')).href);
  const outfile = join(outDir, 'probe.cjs');
  let entry = join(REPO, 'bench', 'probe.ts');
  if (root !== REPO) {
    entry = join(root, 'bench', `probe-${process.pid}.ts`);
    mkdirSync(dirname(entry), { recursive: true });
    copyFileSync(join(REPO, 'bench', 'probe.ts'), entry);
  }
  try {
    await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
  } finally {
    if (root !== REPO) rmSync(entry, { force: true });
  }
  return outfile;
}

/** Runs the bundled probe in a fresh Node and returns its JSON. */
export function runProbe(bundle, args) {
  const r = spawnSync(process.execPath, [bundle, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`probe ${args[0]} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/**
 * One run of `node CLI ARGS`: wall ms and peak RSS (MiB) from /usr/bin/time, or else by
 * polling the child's VmHWM (its high-water mark, so polling only has to see it alive).
 */
export async function timeNode(script, args) {
  const outDir = mkdtempSync(join(tmpdir(), 'iommu-lens-cli-'));
  const out = join(outDir, 'stdout');
  const fd = openSync(out, 'w');
  const haveTime = existsSync(TIME);
  const cmd = haveTime ? TIME : process.execPath;
  const argv = haveTime ? ['-f', 'BENCH-TIME %e %M %U %S', process.execPath, script, ...args] : [script, ...args];
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, argv, { stdio: ['ignore', fd, 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let hwm = 0;
  const poll = haveTime
    ? undefined
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 5);
  const status = await new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (poll) clearInterval(poll);
  closeSync(fd);
  const stdout = readFileSync(out, 'utf8');
  rmSync(outDir, { recursive: true, force: true });
  // CPU time (user + system, every thread) moves less than wall time with the machine's load.
  const m = /BENCH-TIME [\d.]+ (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  if (m) hwm = Number(m[1]);
  const cpuMs = m ? (Number(m[2]) + Number(m[3])) * 1000 : NaN;
  return { ms, cpuMs, peakMiB: hwm / 1024, status, stdout, stderr: stderr.replace(/BENCH-TIME.*\n?/, '') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CLI check of `dir`: median wall of `runs`, the largest peak RSS, the summary line. */
export async function cliCheck(root, dir, runs) {
  const cli = join(root, 'dist', 'cli.cjs');
  const start = [];
  for (let i = 0; i < 3; i++) start.push((await timeNode(cli, ['--version'])).ms);
  const all = [];
  let summary = '';
  for (let i = 0; i < runs; i++) {
    const r = await timeNode(cli, ['check', dir]);
    if (r.status !== 0 && r.status !== 1) throw new Error(`iommu-lens check failed (${r.status}): ${r.stderr}`);
    summary = r.stdout.trimEnd().split('\n').pop();
    all.push(r);
  }
  return {
    ms: median(all.map((r) => r.ms)),
    cpuMs: median(all.map((r) => r.cpuMs)),
    peakMiB: Math.max(...all.map((r) => r.peakMiB)),
    startMs: median(start),
    summary,
  };
}

/** Everything this file measures for one workspace. */
export async function measureThroughput({ root, dir, ws, bundle, runs }) {
  const mb = ws.stats.bytes / 1e6;
  const cli = await cliCheck(root, dir, runs);
  const lexed = runProbe(bundle, ['lex', dir]);
  const parsed = runProbe(bundle, ['parse', dir]);
  const stages = runProbe(bundle, ['stages', dir]);
  const edits = runProbe(bundle, ['edits', dir, ws.edit.path, ws.edit.from, ws.edit.to]);
  return { mb, cli, lexed, parsed, stages, edits };
}

const f0 = (x) => x.toFixed(0);
const f1 = (x) => x.toFixed(1);

export function throughputTable(rows) {
  const out = [];
  out.push(
    '| lines | MB | CLI check wall ms (CPU ms) | node start ms | CLI MB/s | CLI peak MiB | lex MB/s cold / warm | parser set-up ms | lex+parse MB/s cold / warm | parse peak MiB | CLI / parse-only | findings |',
  );
  out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const { lines, t } of rows) {
    const mbs = (ms) => t.mb / (ms / 1000);
    out.push(
      `| ${lines} | ${t.mb.toFixed(2)} | ${f0(t.cli.ms)} (${f0(t.cli.cpuMs)}) | ${f0(t.cli.startMs)} | ${f1(mbs(t.cli.ms))} | ${f0(t.cli.peakMiB)} | ${f1(mbs(t.lexed.coldMs))} / ${f1(mbs(t.lexed.warmMs))} | ${f0(t.parsed.setupMs)} | ${f1(mbs(t.parsed.coldMs))} / ${f1(mbs(t.parsed.warmMs))} | ${f0(t.parsed.peakAfterColdMiB)} | ${(t.cli.ms / (t.cli.startMs + t.parsed.setupMs + t.parsed.coldMs)).toFixed(1)}x | ${t.cli.summary.replace(/^\d+ files checked: /, '')} |`,
    );
  }
  return out.join('\n');
}

export function engineTable(rows) {
  const out = [];
  out.push(
    '| lines | parse ms (cold) | buildModel ms cold / warm | simulate ms cold / warm | AnalysisHost first analysis ms | analysis per edit ms (p50) | AnalysisHost peak MiB |',
  );
  out.push('|---:|---:|---:|---:|---:|---:|---:|');
  for (const { lines, t } of rows) {
    const s = t.stages.stages;
    out.push(
      `| ${lines} | ${f0(s.parse.coldMs)} | ${f0(s.model.coldMs)} / ${f0(s.model.warmMs)} | ${f0(s.simulate.coldMs)} / ${f0(s.simulate.warmMs)} | ${f0(t.edits.hostColdMs)} | ${f0(t.edits.hostEditMs.p50)} | ${f0(t.edits.peakMiB)} |`,
    );
  }
  return out.join('\n');
}

/** --name value from argv, or the default. */
export function flag(name, dflt) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : dflt;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = flag('sizes', '10k,50k,200k').split(',').map(parseSize);
  const runs = Number(flag('runs', '3'));
  const root = flag('root', REPO);
  const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-large-'));
  const bundle = await bundleProbe(root, tmp);
  const rows = [];
  for (const lines of sizes) {
    const ws = generateWorkspace(lines);
    const dir = join(tmp, `ws-${lines}`);
    writeWorkspace(dir, ws);
    rows.push({ lines: ws.stats.lines, t: await measureThroughput({ root, dir, ws, bundle, runs }) });
    rmSync(dir, { recursive: true, force: true });
    console.error(`done: ${ws.stats.lines} lines`);
  }
  rmSync(tmp, { recursive: true, force: true });
  console.log(throughputTable(rows));
  console.log();
  console.log(engineTable(rows));
}

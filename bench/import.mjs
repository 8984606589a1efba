// Benchmark: `iommu-lens import reserved-regions` on a file of N regions that share their
// start and type (the shape whose names were quadratic: 20,000 lines took 56 s), and
// `iommu-lens format --write` on F files (each read twice, written to a temporary file,
// fsynced and renamed). Prints wall ms and ms per thousand lines or per file, which stay
// flat when the cost is linear; Node start-up (~100 ms) is in every figure.
// Run on demand:  npm run build && node bench/import.mjs [--before OLD.cjs] [--max N]
// (--before: also time another build, e.g. dist/cli.cjs of the commit before a change,
// in the same run, and print the ratio.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.cjs');
const BEFORE = arg('--before');
const MAX = Number(arg('--max') ?? 20_000);

const hex16 = (v) => `0x${v.toString(16).padStart(16, '0')}`;

/** N reserved_regions lines with the same start and type, as a broken firmware table might give. */
const sameStart = (n) =>
  Array.from({ length: n }, (_, i) => `${hex16(0x1000n)} ${hex16(0x1fffn + BigInt(i) * 0x1000n)} reserved\n`).join('');

const MESSY = 'platform   p{\n arch x86_64\n      reserved a msi 0xfee00000 .. 0xfeefffff\n  device d { bdf 00:01.0 ; group 1 }\n}\n';

function time(cli, args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`iommu-lens ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function row(cells) {
  console.log(cells.map((c) => String(c).padStart(14)).join(''));
}

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-import-bench-'));
try {
  console.log('import reserved-regions: N regions at one start, one type');
  row(['lines', 'after ms', 'ms/1k lines', ...(BEFORE ? ['before ms', 'before/after'] : [])]);
  for (const n of [2_500, 5_000, 10_000, 20_000].filter((x) => x <= MAX)) {
    const file = join(dir, `same-${n}.reserved_regions`);
    writeFileSync(file, sameStart(n));
    const after = time(CLI, ['import', 'reserved-regions', file]);
    const before = BEFORE ? time(BEFORE, ['import', 'reserved-regions', file]) : undefined;
    row([n, after.toFixed(0), (after / (n / 1000)).toFixed(1), ...(before ? [before.toFixed(0), (before / after).toFixed(1)] : [])]);
  }

  console.log('\nformat --write: F unformatted files in one directory');
  row(['files', 'after ms', 'ms/file', ...(BEFORE ? ['before ms', 'after/before'] : [])]);
  for (const files of [50, 200, 800]) {
    const run = (cli) => {
      const d = mkdtempSync(join(dir, 'fmt-'));
      for (let i = 0; i < files; i++) writeFileSync(join(d, `f${i}.iommu`), MESSY.replace('p{', `p${i}{`));
      return time(cli, ['format', '--write', '.'], d);
    };
    const after = run(CLI);
    const before = BEFORE ? run(BEFORE) : undefined;
    row([files, after.toFixed(0), (after / files).toFixed(2), ...(before ? [before.toFixed(0), (after / before).toFixed(2)] : [])]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

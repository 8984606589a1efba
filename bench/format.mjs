// Benchmark: the formatter on large generated hosts, through `iommu-lens format --check`
// (lex + parse + format), next to `iommu-lens check` on the same file for scale.
// Prints wall time, MB/s and the ratio; Node start-up (~100 ms) is in every figure.
// Run on demand:  npm run build && node bench/format.mjs [maxLines]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.cjs');

/** An unformatted host description of about `lines` lines: every statement needs an edit. */
function host(lines) {
  const out = [];
  for (let n = 0; out.length < lines; n++) {
    out.push(
      `platform p${n} {`,
      '   arch x86_64',
      `  iommu i${n} amd-vi { address-width 48 }`,
      '  ram   low 0x0 .. 0xfff',
      '  ram high 0x1_0000_0000 size 4G   // above 4G',
      `  reserved r${n} msi 0xfee00000..0xfeefffff`,
      `  device d${n} { bdf 0000:01:00.0; iommu i${n}; group 1 }`,
      '}',
      '',
    );
  }
  return out.join('\n');
}

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status === 2 || r.status === null) throw new Error(`iommu-lens ${args[0]} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const max = Number(process.argv[2] ?? 60_000);
console.log('  lines       MB  format ms  format MB/s  check ms  format/check');
for (const lines of [10_000, 30_000, 60_000].filter((x) => x <= max)) {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fmt-bench-'));
  const file = join(dir, 'host.iommu');
  const text = host(lines);
  writeFileSync(file, text);
  const mb = Buffer.byteLength(text) / 1e6;
  const fmt = time(['format', '--check', file]);
  const check = time(['check', file]);
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `${String(lines).padStart(7)} ${mb.toFixed(2).padStart(8)} ${fmt.toFixed(0).padStart(10)} ${(mb / (fmt / 1000)).toFixed(2).padStart(12)} ${check.toFixed(0).padStart(9)} ${(fmt / check).toFixed(2).padStart(13)}`,
  );
}

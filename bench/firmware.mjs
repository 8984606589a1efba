// Benchmark: ExitBootServices exploration with many drivers in one firmware. Drivers have
// pending rings, a TPL_NOTIFY or TPL_CALLBACK handler, and every third one defers its stop to
// a second event of its own; the IOMMU protocol tears down both at once and deferred, so
// every driver's projection has real choices to explore. Two tables: drivers in 12 shapes
// (1-4 rings x TPL x deferred stop: symmetry explores 12 projections however many drivers),
// then every driver a shape of its own (driver i has i+1 rings: one projection each).
// Prints wall time of `iommu-lens check` and the number of orders the UEFI specification
// allows (n! within each TPL), which the per-driver projection never enumerates. Run on demand:
//   npm run build && node bench/firmware.mjs [maxDrivers]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.cjs');

function workspace(n, distinct) {
  const devs = Array.from({ length: n }, (_, i) => `  device nic${i} { bdf 0000:${(1 + (i >> 3)).toString(16).padStart(2, '0')}:${(i & 7).toString(16).padStart(2, '0')}.0; iommu amdvi0; group ${i} }`);
  const host = ['platform fw-host {', '  arch x86_64', '  iommu amdvi0 amd-vi { address-width 48 }', ...devs, '}'].join('\n');
  const guest = ['guest cvm on fw-host {', '  machine q35 memory 16G cpu amd', '  confidential sev-snp', ...devs.map((_, i) => `  assign nic${i}`), '}'].join('\n');
  const fw = ['firmware ovmf for cvm {'];
  for (let i = 0; i < n; i++) {
    fw.push(`  driver Drv${i} for nic${i} {`);
    for (let k = 0; k <= (distinct ? i : i % 4); k++) fw.push(`    map ring${k} common-buffer size ${4 * (k + 1)}K from allocate-buffer pending`);
    const tpl = i % 2 ? 'callback' : 'notify';
    if (i % 3 === 0) fw.push(`    on exit-boot-services tpl ${tpl} signal quiesce${i}`, `    on event quiesce${i} tpl callback stop-dma`);
    else fw.push(`    on exit-boot-services tpl ${tpl} stop-dma`);
    fw.push('  }');
  }
  fw.push('  iommu-protocol {', '    on exit-boot-services tpl callback unmap-all', '    on exit-boot-services tpl callback unmap-all deferred', '  }', '}');
  return { host, guest, fw: fw.join('\n') };
}

/** log10(n!) for the orders of each TPL batch. */
function log10Orders(n) {
  const notify = Math.ceil(n / 2), callback = Math.floor(n / 2) + 2;
  let s = 0;
  for (let k = 2; k <= notify; k++) s += Math.log10(k);
  for (let k = 2; k <= callback; k++) s += Math.log10(k);
  return s;
}

const max = Number(process.argv[2] ?? 160);
for (const distinct of [false, true]) {
console.log(distinct ? '\nevery driver a shape of its own' : 'drivers in 12 shapes');
console.log('drivers  orders allowed      ms  ms/driver  result');
for (const n of [10, 20, 40, 80, 160].filter((x) => x <= max)) {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fw-bench-'));
  const { host, guest, fw } = workspace(n, distinct);
  writeFileSync(join(dir, 'host.iommu'), host);
  writeFileSync(join(dir, 'guest.iommu'), guest);
  writeFileSync(join(dir, 'fw.iommu'), fw);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'check', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 1) throw new Error(`unexpected exit ${r.status}: ${r.stderr}`);
  const summary = r.stdout.trimEnd().split('\n').pop();
  console.log(`${String(n).padStart(7)}  ${`~10^${log10Orders(n).toFixed(0)}`.padStart(14)} ${ms.toFixed(0).padStart(7)} ${(ms / n).toFixed(2).padStart(10)}  ${summary}`);
}
}
console.log('(ms/driver falling or flat = linear in drivers; the first row includes Node start-up)');

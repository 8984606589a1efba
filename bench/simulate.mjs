// Benchmark: `iommu-lens check` on generated workspaces of growing size, up to the
// issue's target of 10,000 devices, 50,000 reserved regions and 1,000 guests, with pools
// and migration timelines between hosts of the same architecture, and TDISP bring-ups of
// confidential (TDX) guests on the x86 hosts.
// Prints sizes, wall time and time per unit of scale (flat = linear). Run on demand:
//   npm run build && node bench/simulate.mjs [maxScale]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.cjs');
const hex = (n) => `0x${n.toString(16)}`;

/**
 * One platform: 1,000 devices in pairs (500 groups), 5,000 regions, 100 guests. Odd
 * platforms are arm64 (SMMUv3).
 */
function platform(p) {
  const arm = p % 2 === 1;
  const lines = [
    `platform host${p} {`,
    `  arch ${arm ? 'arm64' : 'x86_64'}`,
    `  iommu dmar0 ${arm ? 'smmuv3' : 'vt-d'} { address-width 48 }`,
  ];
  // 500 platform-wide regions high above guest RAM, 4,000 per group, 500 per device.
  for (let i = 0; i < 500; i++) lines.push(`  reserved w${i} reserved ${hex(0x100_0000_0000n + BigInt(i) * 0x20_0000n)} size 1M`);
  for (let i = 0; i < 4000; i++)
    lines.push(
      `  reserved g${i} ${i % 3 ? 'reserved' : 'direct-relaxable'} ${hex(0x200_0000_0000n + BigInt(i) * 0x1000n)} size 4K for group ${i % 500}`,
    );
  for (let i = 0; i < 500; i++)
    lines.push(`  reserved d${i} ${arm ? 'reserved' : 'msi'} ${hex(0x300_0000_0000n + BigInt(i) * 0x1000n)} size 4K for dev${i * 2}`);
  for (let i = 0; i < 1000; i++) {
    const bus = Math.floor(i / 8) % 256,
      dev = i % 8;
    // The last 100 devices are TDISP-capable; every other one has seed 001's BME quirk.
    const tdisp = i >= 900 ? `; tdisp${i % 2 ? '; quirk bme-zero-write-clears' : ''}` : '';
    lines.push(
      `  device dev${i} { bdf ${(p + 1).toString(16).padStart(4, '0')}:${bus.toString(16).padStart(2, '0')}:${(dev * 2 + Math.floor(i / 2048)).toString(16).padStart(2, '0')}.${i % 2 ? 1 : 0}; iommu dmar0${arm ? ` stream ${i}` : ''}; group ${Math.floor(i / 2)}${tdisp} }`,
    );
  }
  lines.push('}');
  const guests = [];
  for (let g = 0; g < 100; g++) {
    // Every tenth guest's RAM runs into a per-group region: findings to report.
    const ram = g % 10 === 0 ? `  ram big 0x100000000 size ${hex(0x200_0000_0000n)}` : `  machine ${arm ? 'virt' : 'q35'} memory 16G`;
    guests.push(`guest vm${p}-${g} on host${p} {`, ram, `  assign dev${g * 2}`, `  assign dev${g * 2 + 1}`, '}');
  }
  if (!arm) {
    for (let g = 0; g < 50; g++) {
      guests.push(
        `guest cc${p}-${g} on host${p} {`,
        '  machine q35 memory 8G',
        '  confidential tdx',
        '  container iommufd',
        `  assign dev${900 + 2 * g} as bind-capable`,
        `  assign dev${901 + 2 * g} as bind-capable`,
        '}',
      );
    }
  }
  return { host: `${lines.join('\n')}\n`, guests: `${guests.join('\n')}\n` };
}

/**
 * A TDISP bring-up of every confidential guest of an x86 host: lock, report and start both
 * TDIs, the stock driver's two Command writes (ERROR on the quirky device), an INTx probe,
 * then private conversion.
 */
function bringUp(p) {
  const lines = [`timeline tdisp${p} {`];
  for (let g = 0; g < 50; g++) {
    lines.push(`  start cc${p}-${g}`);
    for (const d of [900 + 2 * g, 901 + 2 * g]) {
      lines.push(
        `  tdisp dev${d} lock`,
        `  tdisp dev${d} report`,
        `  tdisp dev${d} start`,
        `  config dev${d} command MSE`,
        `  config dev${d} command MSE BME`,
        `  config dev${d} intx`,
        `  convert dev${d} to private`,
      );
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * A pool of this host and the next of its architecture (every guest checked against the
 * other), and a timeline moving nine guests there: start, hot-add, migrate with the device,
 * hot-add again.
 */
function moves(p) {
  const lines = [`pool pool${p} { host${p}, host${p + 2} }`, `timeline t${p} {`];
  for (let g = 1; g < 10; g++) {
    lines.push(
      `  start vm${p}-${g}`,
      `  hotplug dev${300 + 2 * g} into vm${p}-${g}`,
      `  migrate vm${p}-${g} to host${p + 2}`,
      `  hotplug dev${301 + 2 * g} into vm${p}-${g}`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Timeline steps generated: 36 per migration timeline, 750 per TDISP bring-up. */
function steps(platforms) {
  return Math.max(0, platforms - 2) * 36 + Math.ceil(platforms / 2) * 50 * 15;
}

function run(scale) {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-bench-'));
  const platforms = Math.max(1, Math.round(10 * scale));
  for (let p = 0; p < platforms; p++) {
    mkdirSync(join(dir, `p${p}`));
    const { host, guests } = platform(p);
    writeFileSync(join(dir, `p${p}`, 'host.iommu'), host);
    writeFileSync(join(dir, `p${p}`, 'guests.iommu'), guests);
    if (p + 2 < platforms) writeFileSync(join(dir, `p${p}`, 'moves.iommu'), moves(p));
    if (p % 2 === 0) writeFileSync(join(dir, `p${p}`, 'bring-up.iommu'), bringUp(p));
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'check', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  const summary = r.stdout.trimEnd().split('\n').pop();
  if (r.status !== 1) throw new Error(`unexpected exit ${r.status}: ${r.stderr}`);
  return { platforms, ms, summary, steps: steps(platforms) };
}

const max = Number(process.argv[2] ?? 1);
console.log('platforms  devices  regions  guests  steps     ms   ms/platform  result');
let first;
for (const scale of [0.1, 0.25, 0.5, 1, 2].filter((s) => s <= max)) {
  const { platforms, ms, summary, steps: n } = run(scale);
  first ??= ms / platforms;
  const guests = platforms * 100 + Math.ceil(platforms / 2) * 50;
  console.log(
    `${String(platforms).padStart(9)} ${String(platforms * 1000).padStart(8)} ${String(platforms * 5000).padStart(8)} ${String(guests).padStart(7)} ${String(n).padStart(6)} ${ms.toFixed(0).padStart(6)} ${(ms / platforms).toFixed(1).padStart(12)}  ${summary}`,
  );
}
console.log(`(ms/platform flat across rows = linear; first row ${first.toFixed(1)} ms/platform includes Node start-up)`);

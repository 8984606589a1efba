// Benchmark: the address map on large generated hosts, through `iommu-lens map` (load,
// simulate, build the map, print it as text), next to `iommu-lens check` on the same files
// for scale. "map-check" is what the map itself costs; "per" divides it by the groups (a
// platform map) or by the platform's regions (a guest map): it stays flat if the map is
// linear. Node start-up (~100 ms) is in the map and check figures, not in map-check.
// Run on demand:  node scripts/build.mjs && node bench/addressMap.mjs [--svg] [--cli OTHER.cjs]
// (--svg: time `map --svg -` instead of the text; --cli: time another build, e.g. a copy of
// an older dist/cli.cjs, for a before/after comparison).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const at = process.argv.indexOf('--cli');
const CLI = at > 0 && process.argv[at + 1] ? process.argv[at + 1] : join(import.meta.dirname, '..', 'dist', 'cli.cjs');
const SVG = process.argv.includes('--svg');

const bdf = (i) => `0000:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${((i >> 3) & 0x1f).toString(16).padStart(2, '0')}.${i & 7}`;
const hex = (v) => `0x${v.toString(16)}`;

/** A platform with `groups` devices, each alone in a numbered group behind one IOMMU: one group shape. */
export function manyGroups(groups) {
  const out = ['platform rack {', '  arch x86_64', '  iommu vtd0 vt-d { address-width 48 }', '  ram dram0 0x0 size 1T'];
  for (let i = 0; i < groups; i++) out.push(`  device d${i} { bdf ${bdf(i)}; iommu vtd0; group ${1000 + i} }`);
  out.push('}', '');
  return out.join('\n');
}

/**
 * A platform with `regions` platform-wide reserved regions of 64 KiB, 8 MiB apart from 4 GiB
 * up (under the guest's RAM: each is a conflict), and `groups` devices in groups of their
 * own, every one assigned to one guest; with `own`, each `own`-th device also has a region
 * of its own (so a group shape of its own).
 */
export function bigGuest(regions, groups, own) {
  const out = ['platform rack {', '  arch x86_64', '  iommu vtd0 vt-d { address-width 48 }'];
  for (let i = 0; i < regions; i++) out.push(`  reserved r${i} reserved ${hex(0x1_0000_0000 + i * 0x10_0000 * 8)} size 64K`);
  for (let i = 0; i < groups; i++) {
    out.push(`  device d${i} { bdf ${bdf(i)}; iommu vtd0; group ${1000 + i} }`);
    if (own && i % own === 0) out.push(`  reserved x${i} reserved ${hex(0x8000_0000_0000 + i * 0x1000 * 2)} size 4K for d${i}`);
  }
  out.push('}', '', 'guest vm on rack {', '  machine q35 memory 64G', '  container type1');
  for (let i = 0; i < groups; i++) out.push(`  assign d${i}`);
  out.push('}', '');
  return out.join('\n');
}

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`iommu-lens ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** The best of three runs, to keep noise down. */
const best = (args) => Math.min(time(args), time(args), time(args));

function run(label, text, mapArgs, per, perWhat) {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-map-bench-'));
  const file = join(dir, 'host.iommu');
  writeFileSync(file, text);
  const map = best(['map', file, ...mapArgs, ...(SVG ? ['--svg', '-'] : [])]);
  const check = best(['check', file]);
  rmSync(dir, { recursive: true, force: true });
  const own = Math.max(0, map - check);
  console.log(
    `${label.padEnd(44)} ${map.toFixed(0).padStart(8)} ${check.toFixed(0).padStart(9)} ${own.toFixed(0).padStart(10)} ${((own * 1000) / per).toFixed(1).padStart(8)} µs/${perWhat}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(
    `${'workload'.padEnd(44)} ${'map ms'.padStart(8)} ${'check ms'.padStart(9)} ${'map-check'.padStart(10)} ${'per'.padStart(8)}`,
  );
  for (const n of [1_000, 8_000, 24_000]) run(`platform, ${n} groups of one shape`, manyGroups(n), ['--platform', 'rack'], n, 'group');
  for (const [regions, own] of [
    [2_000, 0],
    [6_000, 0],
    [2_000, 1],
    [6_000, 1],
  ]) {
    const label = `guest, 500 groups${own ? ' (own regions)' : ''}, ${regions / 1000}k regions`;
    run(label, bigGuest(regions, 500, own), ['--guest', 'vm'], regions, 'region');
  }
}

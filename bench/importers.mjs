// Benchmark: the importers of issue 27 through the bundled CLI, on generated inputs that
// double in size: a DMAR with n RMRRs (one device each) and lspci output of n devices; an
// IVRS with n select entries and n IVMDs with n devices; a QEMU command line and a domain XML
// with n host devices on a platform of n devices. Prints wall time per size and the ratio
// to the size before (about 2 when the cost is linear); Node's start-up (~100 ms) is in
// every figure. Run on demand:  npm run build && node bench/importers.mjs [maxN]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.cjs');

const le = (v, n) => Array.from({ length: n }, (_, i) => Number((BigInt(v) >> BigInt(8 * i)) & 0xffn));

function table(sig, body) {
  const all = [...Buffer.from(sig), ...le(36 + body.length, 4), 1, 0, ...Buffer.from('BENCH BENCHTBL'), ...le(1, 4), ...le(0, 8), ...body];
  all[9] = (0x100 - all.reduce((s, b) => (s + b) & 0xff, 0)) & 0xff;
  return Buffer.from(all);
}

/** Requester ID i as bus:dev.fn within segment 0. */
const bdf = (i) => `${(i >> 8).toString(16).padStart(2, '0')}:${((i >> 3) & 0x1f).toString(16).padStart(2, '0')}.${i & 7}`;

function dmar(n) {
  const drhd = [0, 0, ...le(16, 2), 1, 0, 0, 0, ...le(0xfed90000, 8)];
  const rmrrs = Array.from({ length: n }, (_, i) => [
    1,
    0,
    ...le(32, 2),
    0,
    0,
    0,
    0,
    ...le(0x1000_0000 + i * 0x2000, 8),
    ...le(0x1000_0fff + i * 0x2000, 8),
    1,
    8,
    0,
    0,
    0,
    i >> 8,
    (i >> 3) & 0x1f,
    i & 7,
  ]).flat();
  return table('DMAR', [38, 1, ...new Array(10).fill(0), ...drhd, ...rmrrs]);
}

function ivrs(n) {
  const entries = Array.from({ length: n }, (_, i) => [2, ...le(i + 1, 2), 0]).flat();
  const ivhd = [
    0x10,
    0,
    ...le(24 + entries.length, 2),
    ...le(2, 2),
    ...le(0x40, 2),
    ...le(0xfd000000, 8),
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...entries,
  ];
  const ivmds = Array.from({ length: n }, (_, i) => [
    0x21,
    1,
    ...le(32, 2),
    ...le(i + 1, 2),
    0,
    0,
    ...new Array(8).fill(0),
    ...le(0x2000_0000 + i * 0x1000, 8),
    ...le(0x1000, 8),
  ]).flat();
  return table('IVRS', [...le(0x00203043, 4), ...new Array(8).fill(0), ...ivhd, ...ivmds]);
}

const lspci = (n) => `${Array.from({ length: n }, (_, i) => `${bdf(i + 1)} 0200: 8086:1572`).join('\n')}\n`;
const platform = (n) =>
  `platform p {\n  arch x86_64\n  iommu i0 vt-d\n${Array.from({ length: n }, (_, i) => `  device d${i} { bdf 0000:${bdf(i + 1)}; iommu i0 }`).join('\n')}\n}\n`;
const args = (n) =>
  `qemu-system-x86_64 \\\n-machine q35 \\\n-m 16G \\\n${Array.from({ length: n }, (_, i) => `-device '{"driver":"vfio-pci","host":"0000:${bdf(i + 1)}","id":"hostdev${i}"}' \\`).join('\n')}\n-msg timestamp=on\n`;
const xml = (n) =>
  `<domain type='kvm'>\n<name>g</name>\n<memory unit='GiB'>16</memory>\n<os><type arch='x86_64' machine='q35'>hvm</type></os>\n<devices>\n${Array.from(
    { length: n },
    (_, i) => {
      const [bus, rest] = bdf(i + 1).split(':');
      const [slot, fn] = rest.split('.');
      return `<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0x${bus}' slot='0x${slot}' function='${fn}'/></source></hostdev>`;
    },
  ).join('\n')}\n</devices>\n</domain>\n`;

function time(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`iommu-lens ${argv.slice(0, 2).join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const max = Number(process.argv[2] ?? 16_000);
const sizes = [2_000, 4_000, 8_000, 16_000].filter((n) => n <= max);
const rows = { 'acpi DMAR --pci': [], 'acpi IVRS --pci': [], qemu: [], libvirt: [] };
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-importers-'));
  const f = (name, data) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  const pci = f('lspci.txt', lspci(n));
  const plat = f('p.iommu', platform(n));
  rows['acpi DMAR --pci'].push(time(['import', 'acpi', f('DMAR', dmar(n)), '--pci', pci]));
  rows['acpi IVRS --pci'].push(time(['import', 'acpi', f('IVRS', ivrs(n)), '--pci', pci]));
  rows.qemu.push(time(['import', 'qemu', f('g.args', args(n)), '--platform', 'p', plat]));
  rows.libvirt.push(time(['import', 'libvirt', f('g.xml', xml(n)), '--platform', 'p', plat]));
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${'input'.padEnd(18)}${sizes.map((n) => `n=${n} ms`.padStart(14)).join('')}   ratios`);
for (const [name, ms] of Object.entries(rows)) {
  const ratios = ms
    .slice(1)
    .map((m, i) => (m / ms[i]).toFixed(2))
    .join(' ');
  console.log(`${name.padEnd(18)}${ms.map((m) => m.toFixed(0).padStart(14)).join('')}   ${ratios}`);
}

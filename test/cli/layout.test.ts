/**
 * `iommu-lens layout`: a pool-safe guest map as `.iommu` lines, checked by feeding the
 * printed lines back to the engine on every host of the pool.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AnalysisHost } from '../../server/src/ide';
import { ROOT, cli } from './run';
import { DOMAINS } from '../../server/src/domains';

const RACK = join(ROOT, 'examples', 'rack-pool');

/** The lines of the output that are not comments: what a guest takes. */
const body = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('//'));

/** The guest lines started on every host of the rack with a device: every finding. */
function onEveryHost(lines: string[]): string[] {
  const host = new AnalysisHost(DOMAINS);
  for (const h of ['rack-a0', 'rack-a1', 'rack-b0']) {
    host.setFile(`file:///rack/${h}.iommu`, readFileSync(join(RACK, 'hosts', `${h}.iommu`), 'utf8'));
    host.setFile(`file:///rack/g-${h}.iommu`, `guest g-${h} on ${h} {\n${lines.map((l) => `  ${l}`).join('\n')}\n  assign vf1\n}`);
  }
  return [...host.analyze().findings.values()].flat().map((f) => `${f.code} ${f.message}`);
}

describe('layout --pool (RULES §3.9, §4)', () => {
  test('examples/rack-pool, 2560M: the machine line web-2 uses, the QEMU options and the libvirt XML', () => {
    const r = cli(['layout', RACK, '--pool', 'rack', '--memory', '2560M']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(body(r.stdout), ['machine virt memory 2560M']);
    assert.ok(readFileSync(join(RACK, 'guests', 'web-2.iommu'), 'utf8').includes('  machine virt memory 2560M\n'));
    // hw/arm/virt.c: one block at 1 GiB.
    assert.match(r.stdout, /^\/\/ QEMU lays it out as mach-virt\.ram 0x40000000\.\.0xdfffffff,$/m);
    assert.match(r.stdout, /^\/\/ QEMU options:\n\/\/ {3}-machine virt \\\n\/\/ {3}-m size=2560M$/m);
    assert.match(r.stdout, /^\/\/ libvirt domain XML:\n\/\/ {3}<memory unit='KiB'>2621440<\/memory>$/m);
    // A layout has no devices: no empty <devices> element in the fragment.
    assert.doesNotMatch(r.stdout, /<devices>/);
    assert.match(r.stdout, /^\/\/ {5}<type arch='aarch64' machine='virt'>hvm<\/type>$/m);
    // Pasted whole into a guest (comments and all), clean on every host of the pool.
    assert.deepEqual(onEveryHost(r.stdout.trim().split('\n')), []);
  });

  test('4G: QEMU can lay out no such virt guest; the largest safe size and the host that blocks more, exit 1', () => {
    const r = cli(['layout', RACK, '--pool', 'rack', '--memory', '4G']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      "iommu-lens: no virt layout of 4G is safe on every host of pool rack: the largest that is has 2560M ('machine virt memory 2560M'); reserved region pci-win32 (reserved 0xe0000000..0xf7feffff) on rack-b0 blocks more\n",
    );
  });

  test("--machine q35: max-ram-below-4g below the hosts' sw-msi window, and <qemu:commandline> for libvirt", () => {
    const q35 = cli(['layout', RACK, '--pool', 'rack', '--memory', '4G', '--machine', 'q35']);
    assert.equal(q35.status, 0, q35.stderr);
    // pc_q35_init: the split is min(2G, max-ram-below-4g); the window at 0x8000000 caps it at 128M.
    assert.deepEqual(body(q35.stdout), ['machine q35 memory 4G max-ram-below-4g 128M cpu-model host accel kvm']);
    assert.match(q35.stdout, /^\/\/ QEMU lays it out as ram-below-4g 0x0\.\.0x7ffffff, ram-above-4g 0x100000000\.\.0x1f7ffffff,$/m);
    assert.match(q35.stdout, /^\/\/ {3}-machine q35,max-ram-below-4g=128M \\$/m);
    // The options say what the line says: the host's CPU under KVM, with no vendor known here.
    assert.match(q35.stdout, /^\/\/ {3}-accel kvm \\\n\/\/ {3}-cpu host$/m);
    // libvirt has no element for it: the QEMU argument passes through (docs/drvqemu.rst; <qemu:override> is for -device only).
    assert.match(
      q35.stdout,
      /^\/\/ {3}<qemu:commandline>\n\/\/ {5}<qemu:arg value='-machine'\/>\n\/\/ {5}<qemu:arg value='max-ram-below-4g=128M'\/>$/m,
    );
  });

  test('usage errors exit 2', () => {
    const bad = cli(['layout', RACK, '--pool', 'rack']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /layout needs --pool P and --memory SIZE/);
    assert.equal(cli(['layout', RACK, '--pool', 'nope', '--memory', '1G']).status, 2);
    assert.match(cli(['layout', RACK, '--pool', 'rack', '--memory', '4Q']).stderr, /--memory/);
    assert.match(cli(['layout', RACK, '--pool', 'rack', '--memory', '4G', '--cpu', 'arm']).stderr, /--cpu must be amd or intel/);
  });

  test('RAM that cannot fit below the narrowest aperture: exit 1 with the reason', () => {
    const r = cli(['layout', RACK, '--pool', 'rack', '--memory', '300T']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no virt layout of 300T is safe on every host of pool rack: the largest that is has 2560M/);
  });
});

describe('layout on an AMD pool: the vCPU is AMD, QEMU relocates above 1 TiB by itself', () => {
  test('examples/qemu-amd-1tib with a pool: 1100G needs no knob, and the line says cpu amd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'layout-amd-'));
    cpSync(join(ROOT, 'examples', 'qemu-amd-1tib', 'hosts'), dir, { recursive: true });
    writeFileSync(join(dir, 'pool.iommu'), 'pool genoa { epyc-genoa }\n');
    const r = cli(['layout', dir, '--pool', 'genoa', '--memory', '1100G']);
    assert.equal(r.status, 0, r.stderr);
    // The options run the host's CPU under KVM, so the line says so: with qemu64's default 40 phys-bits
    // QEMU would exit on a 1 TiB relocation (target/i386/cpu.c; RULES §3.7).
    assert.deepEqual(body(r.stdout), ['machine q35 memory 1100G cpu amd cpu-model host accel kvm']);
    writeFileSync(join(dir, 'g.iommu'), `guest g on epyc-genoa {\n${r.stdout}\n  assign gpu0\n}\n`);
    const pasted = cli(['check', dir]);
    assert.equal(pasted.status, 0, pasted.stdout);
    assert.match(r.stdout, /ram-above-4g 0x10000000000\.\.0x2127fffffff \(above-4G RAM relocated to 1 TiB\)/);
    const r2 = cli(['layout', dir, '--pool', 'genoa', '--memory', '1100G', '--cpu', 'intel']);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /the HyperTransport hole .* on epyc-genoa blocks more\n$/);
    rmSync(dir, { recursive: true, force: true });
  });
});

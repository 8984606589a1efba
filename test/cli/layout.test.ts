/**
 * `iommu-lens layout`: a pool-safe guest map as `.iommu` lines, checked by feeding the
 * printed lines back to the engine on every host of the pool.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AnalysisHost } from '../../server/src/ide';
import { ROOT, cli } from './run';

const RACK = join(ROOT, 'examples', 'rack-pool');

describe('layout --pool', () => {
  test('examples/rack-pool, 4G: the lines web-2 uses, and no msi-window (the SMMU window is fixed)', () => {
    const r = cli(['layout', RACK, '--pool', 'rack', '--memory', '4G']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('//'));
    assert.deepEqual(lines, ['ram ram0 0x40000000 size 2560M', 'ram ram1 0xf8000000 size 1536M']);
    const web2 = readFileSync(join(RACK, 'guests', 'web-2.iommu'), 'utf8');
    for (const l of lines) assert.ok(web2.includes(l), `web-2.iommu has '${l}'`);
  });

  test('the printed map, started on every host of the pool with a device, is clean', () => {
    const r = cli(['layout', RACK, '--pool', 'rack', '--memory', '6G', '--name', 'main']);
    assert.equal(r.status, 0, r.stderr);
    const body = r.stdout
      .trim()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
    const host = new AnalysisHost();
    for (const h of ['rack-a0', 'rack-a1', 'rack-b0']) {
      host.setFile(`file:///rack/${h}.iommu`, readFileSync(join(RACK, 'hosts', `${h}.iommu`), 'utf8'));
      host.setFile(`file:///rack/g-${h}.iommu`, `guest g-${h} on ${h} {\n${body}\n  assign vf1\n}`);
    }
    const a = host.analyze();
    const findings = [...a.findings.values()].flat();
    assert.deepEqual(
      findings.map((f) => `${f.code} ${f.message}`),
      [],
    );
    assert.match(r.stdout, /^ram main 0x40000000 size 2560M$/m);
  });

  test('--machine q35: RAM from 0 below the PCI hole, then from 4 GiB; usage errors exit 2', () => {
    const bad = cli(['layout', RACK, '--pool', 'rack']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /layout needs --pool P and --memory SIZE/);
    assert.equal(cli(['layout', RACK, '--pool', 'nope', '--memory', '1G']).status, 2);
    assert.match(cli(['layout', RACK, '--pool', 'rack', '--memory', '4Q']).stderr, /--memory/);
    const q35 = cli(['layout', RACK, '--pool', 'rack', '--memory', '4G', '--machine', 'q35']);
    assert.equal(q35.status, 0);
    // Below 4 GiB the q35 window ends at 0x80000000; the hosts' sw-msi window splits it.
    assert.deepEqual(
      q35.stdout
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('//')),
      ['ram ram0 0x0 size 128M', 'ram ram1 0x8200000 size 1918M', 'ram ram2 0x100000000 size 2050M'],
    );
  });

  test('RAM that cannot fit below the narrowest aperture: exit 1 with the reason', () => {
    const r = cli(['layout', RACK, '--pool', 'rack', '--memory', '300T']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /300T of RAM does not fit below 0xffffffffffff/);
  });
});

/**
 * Xen as merged upstream (issue 26, RULES §8): each test is a description an engineer
 * would write for the seed-003 HP DL388p Gen8 hosts, and cites the Xen source it follows
 * (xen-project/xen, files and functions as of 4.22; commits where the behaviour changed).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyze, slice } from '../helpers';

const SEED = join(import.meta.dirname, '..', '..', 'examples', 'seed-003-xen-identity-maps');
const HOST = readFileSync(join(SEED, 'hosts', 'dl388-r3u12.iommu'), 'utf8');

function check(xen: string, host = HOST, timeline = '') {
  const files: Record<string, string> = { 'host.iommu': host, 'xen.iommu': xen, ...(timeline ? { 't.iommu': timeline } : {}) };
  const a = analyze(files);
  const text = (f: { uri: string }) => files[f.uri.replace('file:///ws/', '')]!;
  return { a, codes: a.all.map((f) => `${f.severity} ${f.code}@${slice(text(f), f.span)}`) };
}

const mapOf = (a: ReturnType<typeof analyze>, domain: string) =>
  [...a.sim.xen.runs.values()][0]!.maps.get(a.model.xens.get('xh')!.domains.get(domain)!)!;

describe('dom0 options (xen/drivers/passthrough/iommu.c)', () => {
  // check_hwdom_reqs() sets iommu_hwdom_strict = true before arch_iommu_check_autotranslated_hwdom()
  // can panic (eb8ce7d5ca added that panic already unreachable, 4.13); strict was forced silently
  // in 4.10-4.12 too. docs/misc/xen-command-line.pandoc: strict "is hardwired to true for x86 PVH dom0's".
  test('a relaxed PVH dom0 boots strict: a warning that the option is ignored, no panic', () => {
    const { a, codes } = check('// Xen 4.17, boot entry "dom0=pvh"\nxen xh on dl388-r3u12 {\n  dom0 { mode pvh; iommu relaxed }\n}\n');
    assert.deepEqual(codes, ['warning xen-pvh-dom0-not-strict@iommu relaxed']);
    const msg = a.all[0]!.message;
    assert.match(msg, /hardwired to true for x86 PVH dom0's/);
    assert.match(msg, /check_hwdom_reqs/);
    assert.match(msg, /Dom0 mode: Relaxed/);
    assert.doesNotMatch(msg, /panics/);
    assert.equal(mapOf(a, 'dom0').term, 'identity GFN map');
  });

  // Same function: iommu_hwdom_passthrough = false for PVH since 391266f012 (4.12.0);
  // the doc: passthrough "is hardwired to false for x86 PVH dom0's".
  test('passthrough on a PVH dom0 is ignored as well (newest behaviour)', () => {
    const { a, codes } = check('xen xh on dl388-r3u12 {\n  dom0 { mode pvh; iommu passthrough }\n}\n');
    assert.deepEqual(codes, ['warning xen-pvh-dom0-not-strict@iommu passthrough']);
    assert.match(a.all[0]!.message, /hardwired to false for x86 PVH dom0's/);
  });

  // iommu_setup(): `if ( iommu_hwdom_strict ) iommu_hwdom_passthrough = false;`, whatever the order.
  test('strict beats passthrough on a PV dom0: an identity MFN map Xen maintains', () => {
    for (const opts of ['iommu passthrough strict', 'iommu strict passthrough']) {
      const { a } = check(`xen xh on dl388-r3u12 {\n  dom0 { mode pv; ${opts} }\n}\n`);
      const m = mapOf(a, 'dom0');
      assert.equal(m.term, 'identity MFN map', opts);
      assert.equal(m.maintained, true, opts);
      assert.equal(m.passthrough, false, opts);
    }
  });
});

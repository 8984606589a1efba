/**
 * A guest that receives thousands of devices stays linear: each attach cuts only the new
 * group's regions out of the usable IOVA list kept so far (it used to walk every group
 * attached: 5,000 hot-adds 6 s), and a timeline keeps hover snapshots only up to a budget
 * (20,000 hot-adds used to keep 4 GB of copies). Findings are unchanged by either.
 */
import { MODEL_SCHEMA } from '../../../server/src/domains';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from '@iommu-lens/grammar';
import { buildModel } from '../../../server/src/model';
import { PlatformRegions, usableRanges } from '../../../server/src/sim';
import { Container } from '../../../server/src/sim/container';
import { hover } from '../../../server/src/ide';
import { analyze, uri } from '../../helpers';
import { resultOf } from '../../../server/src/sim';
import { TIMELINES_ENGINE } from '../../../server/src/domains/timelines/engine';

/** n devices, each alone in its group; every 97th group has its own reserved window somewhere in the first 4 GiB. */
function host(n: number): string {
  const lines = ['platform big {', '  iommu i vt-d { address-width 39 }', '  reserved msi msi 0xfee00000..0xfeefffff'];
  for (let k = 0; k < n; k++) {
    lines.push(
      `  device d${k} { bdf 0000:${(k >> 8).toString(16).padStart(2, '0')}:${((k >> 3) & 31).toString(16).padStart(2, '0')}.${k & 7}; iommu i; group ${k + 1} }`,
    );
    if (k % 97 === 0) lines.push(`  reserved w${k} reserved 0x${(0x100000 * (k + 1)).toString(16)} size 64K for group ${k + 1}`);
  }
  lines.push('}');
  return lines.join('\n');
}

describe('a guest receiving thousands of devices', () => {
  test('the usable list kept across attaches is the list built from every attached group', () => {
    const model = buildModel([{ uri: 'file:///big.iommu', ast: parse(host(600)) }], MODEL_SCHEMA).model;
    const regions = new PlatformRegions(model.platforms.get('big')!);
    const container = new Container<string>('type1');
    const attached = [];
    for (const g of regions.groups) {
      const gr = regions.regions(g);
      assert.deepEqual(container.attach(gr), []);
      attached.push(gr);
      if (attached.length % 50 === 0 || attached.length < 5) {
        const built = usableRanges(
          gr.aperture,
          attached.flatMap((x) => x.list()),
        );
        assert.deepEqual(container.usable(), built, `after ${attached.length} groups`);
      }
    }
    assert.equal(container.usable().length, 2 + Math.ceil(600 / 97), 'each group window and the MSI window cut the aperture once');
    // A detach widens it back: the list is rebuilt from the groups that stay.
    container.detach(attached[0]!);
    assert.deepEqual(
      container.usable(),
      usableRanges(
        attached[1]!.aperture,
        attached.slice(1).flatMap((x) => x.list()),
      ),
    );
  });

  test('2,000 hot-adds: every refusal is reported, hover states stop at the budget', () => {
    const n = 2000;
    const steps = Array.from({ length: n }, (_, k) => `  hotplug d${k} into vm`).join('\n');
    const a = analyze({
      'big.iommu': host(n),
      'vm.iommu': 'guest vm on big {\n  ram low 0x0 size 2G\n}',
      't.iommu': `timeline grow {\n  start vm\n${steps}\n}`,
    });
    // The group windows below 2 GiB lie under the guest's RAM: those hot-adds are refused, the others pass.
    const below = Array.from({ length: n }, (_, k) => k).filter((k) => k % 97 === 0 && 0x100000 * (k + 1) < 0x80000000);
    const refused = a.all.filter((f) => f.uri.endsWith('t.iommu'));
    assert.equal(refused.length, below.length, refused.map((f) => f.code).join());
    assert.ok(
      refused.every((f) => f.code === 'ram-over-reserved'),
      [...new Set(refused.map((f) => f.code))].join(),
    );
    const run = [...resultOf(a.sim, TIMELINES_ENGINE).values()][0]!;
    assert.ok(run.states.length > 1000 && run.states.length < n + 1, `${run.states.length} states kept`);
    assert.equal(run.states[0]!.step, run.timeline.steps[0], 'the kept states are the first steps');
    // A device hot-added after the last kept state: its hover says the state is not kept.
    const late = `d${n - 3}`;
    const text = `timeline grow {\n  start vm\n${steps}\n}`;
    const at = text.indexOf(`hotplug ${late} `) + 'hotplug '.length;
    const shown = hover(a, uri('t.iommu'), at);
    assert.match(shown?.markdown ?? '', /the state is not kept: this timeline is too large/);
  });
});

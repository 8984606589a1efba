/**
 * Engine costs stay linear in their input (issue 22, docs/limits.md "Engine budgets"):
 * findings, related locations and shared work are bounded per guest, step, device or
 * command, and the one engine with a hard budget (pools) stops and says so. These tests
 * count output and work, never time; the shapes of test/shapes/ run at the size limit
 * through the CLI and the server (test/cli/limits.test.ts, test/protocol/limits.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../../server/src/model';
import { SETUP_KEPT } from '../../server/src/sim/timeline';
import { analyze, slice } from '../helpers';
import { shapeNamed } from '../shapes/lib/shapes.mjs';

const of = (a: { all: Finding[] }, code: string) => a.all.filter((f) => f.code === code);
const tdispShape = await shapeNamed('tdisp');
const timelineShape = await shapeNamed('timeline');

describe('timelines', () => {
  test('a guest migrating back and forth: each finding relates its start and latest moves, not every migration', () => {
    const text = timelineShape.generate(40_000);
    const a = analyze({ 't.iommu': text });
    const refused = of(a, 'ram-over-reserved');
    assert.ok(refused.length > 400, `${refused.length} hot-adds refused`);
    // The region, the RAM line, the start and the latest moves: bounded whatever the timeline's length.
    for (const f of refused) assert.ok(f.related.length <= SETUP_KEPT + 2, `${f.related.length} related locations`);
    const last = refused[refused.length - 1]!;
    const steps = last.related.slice(2).map((r) => `${slice(text, r.span)}: ${r.message}`);
    assert.equal(steps[0], 'start vm: guest vm starts on pa; its memory map is fixed here');
    assert.match(steps[1]!, /^migrate vm to pb: guest vm migrates from pa to pb, keeping its memory map \(\d+ earlier steps of the guest not listed\)$/);
    assert.equal(steps[steps.length - 1], 'migrate vm to pb: guest vm migrates from pa to pb, keeping its memory map');
    // The step just before the hot-add is the migration that brought the guest to pb.
    assert.equal(last.related[last.related.length - 1]!.span.end, text.lastIndexOf('\n  hotplug v0 into vm'));
  });

  test('thousands of guests brought up in one timeline: hover states are shared between steps and bounded', () => {
    const a = analyze({ 't.iommu': tdispShape.generate(250_000) });
    const run = [...a.sim.timelines.values()][0]!;
    const guests = run.states[run.states.length - 1]!.guests.length;
    assert.ok(guests > 600, `${guests} guests`);
    // Each list kept once, however many steps share it.
    const lists = new Set(run.states.flatMap((s) => [s.guests, s.tdis]));
    const entries = [...lists].reduce((n, l) => n + l.length, 0);
    assert.ok(entries <= 2_000_000 + 2 * guests, `${entries} list entries kept`);
    // A TDISP step changes no guest: its state shares the guest list of the step before.
    const i = run.states.findIndex((s) => s.step.step.kind === 'tdisp');
    assert.ok(i > 0 && run.states[i]!.guests === run.states[i - 1]!.guests);
    // Every step is still checked: the quirk and the early DMA of every other device.
    assert.equal(of(a, 'tdisp-bme-quirk').length, Math.floor(guests / 2));
  });

  test('a device name on many platforms in play: the ambiguity names a few of them', () => {
    const files: Record<string, string> = {};
    let timeline = 'timeline t {\n';
    for (let p = 0; p < 10; p++) {
      files[`p${p}.iommu`] = `platform p${p} {\n  iommu i vt-d\n  device nic0 { iommu i; tdisp }\n}\nguest g${p} on p${p} { ram r 0x0 size 1G }\n`;
      timeline += `  start g${p}\n`;
    }
    files['t.iommu'] = `${timeline}  tdisp nic0 lock\n}\n`;
    const [f] = of(analyze(files), 'ambiguous-name');
    assert.ok(f);
    assert.equal(f.message, "'nic0' is a device of p0 and p1 and p2 and p3 (and 6 more), all in play at this step; write p0.nic0 or p1.nic0 or p2.nic0 or p3.nic0 or another");
    assert.equal(f.related.length, 4);
    assert.equal(f.fixes.length, 4);
  });
});

/**
 * Engine costs stay linear in their input (issue 22, docs/limits.md "Engine budgets"):
 * findings, related locations and shared work are bounded per guest, step, device or
 * command, and the one engine with a hard budget (pools) stops and says so. These tests
 * count output and work, never time; the shapes of test/shapes/ run at the size limit
 * through the CLI and the server (test/cli/limits.test.ts, test/protocol/limits.test.ts).
 */
import { MODEL_SCHEMA } from '../../server/src/domains';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from '@iommu-lens/grammar';
import { buildModel, type Finding } from '../../server/src/model';
import { Budget } from '../../server/src/sim/budget';
import { Container } from '../../server/src/sim/container';
import { PlatformRegions } from '../../server/src/sim/platformRegions';
import { startGuest } from '../../server/src/sim/vfio';
import { claim, newClaims, release } from '../../server/src/sim/realize';
import { checkGuestAssignments } from '../../server/src/domains/sev/sim/joinRules';
import { checkPools } from '../../server/src/domains/pools/sim/pools';
import { SETUP_KEPT } from '../../server/src/domains/timelines/sim/runner';
import { analyze, slice } from '../helpers';
import { shapeNamed } from '../shapes/lib/shapes.mjs';
import { resultOf } from '../../server/src/sim';
import { TIMELINES_ENGINE } from '../../server/src/domains/timelines/engine';
import { XEN_ENGINE } from '../../server/src/domains/xen/engine';

const of = (a: { all: Finding[] }, code: string) => a.all.filter((f) => f.code === code);
const poolShape = await shapeNamed('pool');
const tdispShape = await shapeNamed('tdisp');
const timelineShape = await shapeNamed('timeline');
const hex = (n: number) => `0x${n.toString(16)}`;

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
    assert.match(
      steps[1]!,
      /^migrate vm to pb: guest vm migrates from pa to pb, keeping its memory map \(\d+ earlier steps of the guest not listed\)$/,
    );
    assert.equal(steps[steps.length - 1], 'migrate vm to pb: guest vm migrates from pa to pb, keeping its memory map');
    // The step just before the hot-add is the migration that brought the guest to pb.
    assert.equal(last.related[last.related.length - 1]!.span.end, text.lastIndexOf('\n  hotplug v0 into vm'));
  });

  test('thousands of guests brought up in one timeline: hover states are shared between steps and bounded', () => {
    const a = analyze({ 't.iommu': tdispShape.generate(330_000) });
    const run = [...resultOf(a.sim, TIMELINES_ENGINE).values()][0]!;
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

  test('a PF with hundreds of locked VFs reset again and again: one finding naming a few', () => {
    const a = analyze({ 't.iommu': tdispShape.generate(60_000) });
    const resets = [...resultOf(a.sim, TIMELINES_ENGINE).values()].find((r) => r.timeline.sym.name === 'resets')!;
    const vfs = resets.states[resets.states.length - 1]!.tdis.filter((t) => t.device.pf).length;
    assert.ok(vfs > 100, `${vfs} VFs`);
    const [f, ...more] = of(a, 'tdisp-vf-reset');
    assert.ok(f && !more.length);
    assert.match(
      f.message,
      /^resetting PF pf resets its VFs: the locked TDIs of v0 \(CONFIG_LOCKED\), v1 \(CONFIG_LOCKED\), .*, v7 \(CONFIG_LOCKED\) and \d+ more go to ERROR/,
    );
    assert.equal(f.related.length, 8);
    // After the first reset the VFs are in ERROR with reset registers: later resets have nothing to change.
    const states = resets.states
      .filter((st) => st.step.step.kind === 'config')
      .map((st) => st.tdis.filter((t) => t.state === 'ERROR').length);
    assert.ok(
      states.every((n) => n === vfs),
      'every VF in ERROR from the first reset on',
    );
  });

  test('a guest assigned thousands of devices: each is compared with one on the other side of vTOM, not with every earlier one', () => {
    const n = 3000;
    const host = [
      'platform host {',
      '  iommu i amd-vi',
      ...Array.from({ length: n }, (_, d) => `  device d${d} { iommu i; group ${d + 1}; tdisp }`),
      '}',
    ].join('\n');
    const guest = [
      'guest vm on host {',
      '  ram r 0x0 size 1G',
      '  confidential sev-snp',
      '  container iommufd',
      ...Array.from({ length: n }, (_, d) => `  assign d${d} as bind-capable`),
      '}',
    ].join('\n');
    const g = buildModel([{ uri: 'file:///h.iommu', ast: parse(`${host}\n${guest}`) }], MODEL_SCHEMA).model.guests.get('vm')!;
    // Count the comparisons the check makes (every find() predicate call while it runs).
    let compared = 0;
    const find = Array.prototype.find;
    Array.prototype.find = function (this: unknown[], p: (...args: unknown[]) => unknown, self?: unknown) {
      return find.call(this, (...args: unknown[]) => {
        compared++;
        return p.apply(self, args);
      });
    } as typeof find;
    const out: Finding[] = [];
    try {
      checkGuestAssignments(g, out);
    } finally {
      Array.prototype.find = find;
    }
    assert.deepEqual(out, []);
    assert.ok(compared <= 2 * n, `${compared} comparisons for ${n} assignments`);
  });

  test('a device name on many platforms in play: the ambiguity names a few of them', () => {
    const files: Record<string, string> = {};
    let timeline = 'timeline t {\n';
    for (let p = 0; p < 10; p++) {
      files[`p${p}.iommu`] =
        `platform p${p} {\n  iommu i vt-d\n  device nic0 { iommu i; tdisp }\n}\nguest g${p} on p${p} { ram r 0x0 size 1G }\n`;
      timeline += `  start g${p}\n`;
    }
    files['t.iommu'] = `${timeline}  tdisp nic0 lock\n}\n`;
    const [f] = of(analyze(files), 'ambiguous-name');
    assert.ok(f);
    assert.equal(
      f.message,
      "'nic0' is a device of p0 and p1 and p2 and p3 (and 6 more), all in play at this step; write p0.nic0 or p1.nic0 or p2.nic0 or p3.nic0 or another",
    );
    assert.equal(f.related.length, 4);
    assert.equal(f.fixes.length, 4);
  });
});

describe('pools', () => {
  test('every guest conflicting with every other host: one finding per guest and kind, a bounded list of hosts', () => {
    const text = poolShape.generate(100_000);
    const a = analyze({ 'p.iommu': text });
    const hosts = a.model.platforms.size;
    assert.ok(hosts > 70, `${hosts} hosts`);
    const ram = of(a, 'pool-ram-conflict');
    assert.equal(ram.length, hosts, 'one per guest (one RAM line each)');
    const all = [...ram, ...of(a, 'pool-address-width')];
    assert.ok(all.length <= 2 * hosts, `${all.length} pool findings for ${hosts} guests`);
    for (const f of all)
      assert.ok(f.related.length <= 41 && f.message.length < 700, `${f.related.length} related, ${f.message.length} characters`);
    const g3 = ram.find((f) => f.message.startsWith("guest g3's"))!;
    assert.match(
      g3.message,
      /overlaps reserved region in \(reserved 0x40000000\.\.0x400fffff\) on h0, reserved region in \(reserved 0x40200000\.\.0x402fffff\) on h1 and regions on \d+ more hosts \(h2, h4, h5 and \d+ more\), which pool p lets it migrate to/,
    );
    assert.deepEqual(g3.fixes, [], "4G does not fit below the 32-bit hosts' aperture");
    const width = of(a, 'pool-address-width').find((f) => f.message.startsWith("guest g3's"))!;
    assert.match(width.message, /beyond the aperture of smmu0 \(32 bits\) on h10, smmu0 \(32 bits\) on h17 and IOMMUs on \d+ more hosts/);
  });

  test('guests laid out alike share the probe of the hosts: the work grows with hosts and guests, not their product', () => {
    const a = analyze({ 'p.iommu': poolShape.generate(200_000) });
    const hosts = a.model.platforms.size;
    const budget = new Budget(Infinity);
    const out: Finding[] = [];
    checkPools(a.model, a.sim.regionsOf, a.sim.guests, out, budget);
    // Per host its 22 regions merged, and a probe of a few units for the one layout; per guest
    // a few units; per layout a fix laid out (the union's length).
    assert.ok(budget.spent < 100 * hosts, `${budget.spent} units for ${hosts} hosts and guests`);
    assert.ok(out.length > hosts && out.length <= 3 * hosts, `${out.length} findings`);
  });

  test('a guest with thousands of RAM lines in a pool: each line looked up once', () => {
    const host = (name: string, win: string) =>
      `platform ${name} {\n  arch arm64\n  iommu smmu0 smmuv3 { address-width 48 }\n  reserved win reserved ${win} size 1M\n  device v0 { iommu smmu0 stream 0x1 }\n}\n`;
    const n = 2000;
    const ram = Array.from({ length: n }, (_, r) => `  ram r${r} ${hex(0x4000_0000 + r * 0x20_0000)} size 1M`).join('\n');
    const a = analyze({
      'h.iommu': host('ha', '0x1000000000') + host('hb', '0x40000000'),
      'p.iommu': 'pool p { ha, hb }',
      'g.iommu': `guest g on ha {\n${ram}\n}`,
    });
    let compared = 0;
    const { indexOf } = Array.prototype;
    Array.prototype.indexOf = function (this: unknown[], ...args: [unknown, number?]) {
      const i = indexOf.apply(this, args);
      compared += i < 0 ? this.length : i + 1;
      return i;
    } as typeof indexOf;
    const out: Finding[] = [];
    try {
      checkPools(a.model, a.sim.regionsOf, a.sim.guests, out);
    } finally {
      Array.prototype.indexOf = indexOf;
    }
    assert.deepEqual(
      out.map((f) => f.code),
      ['pool-ram-conflict'],
      'r0 overlaps the window on hb',
    );
    assert.ok(compared < 10 * n, `${compared} elements compared`);
  });

  test('past its budget the pool check stops with pool-checks-truncated; what it found stays', () => {
    const a = analyze({ 'p.iommu': poolShape.generate(100_000) });
    const out: Finding[] = [];
    const budget = new Budget(3_000);
    checkPools(a.model, a.sim.regionsOf, a.sim.guests, out, budget);
    const [cut, ...others] = out.filter((f) => f.code === 'pool-checks-truncated');
    assert.ok(cut && !others.length);
    assert.equal(cut.severity, 'information');
    assert.match(cut.message, /^the pool checks stopped after 3,000 units of work: 1 of the \d+ guests on the hosts of pool p was checked/);
    assert.ok(
      out.some((f) => f.code === 'pool-ram-conflict'),
      'the guests checked before keep their findings',
    );
    assert.ok(budget.spent < 5_000, `${budget.spent} units spent`);
  });
});

describe('VFIO: direct regions and big groups', () => {
  test("thousands of platform-wide direct regions: each attach is refused naming a few, the shape's answer kept", () => {
    const text = [
      'platform host {',
      '  arch x86_64',
      '  iommu dmar0 vt-d { address-width 48 }',
      ...Array.from({ length: 2000 }, (_, r) => `  reserved r${r} direct ${hex(0x1_0000_0000 + r * 0x20_0000)} size 1M`),
      ...Array.from({ length: 300 }, (_, d) => `  device d${d} { iommu dmar0; group ${d + 1} }`),
      '}',
    ].join('\n');
    const pr = new PlatformRegions(buildModel([{ uri: 'file:///h.iommu', ast: parse(text) }], MODEL_SCHEMA).model.platforms.get('host')!);
    const refusals = pr.groups.map((g) => new Container<string>('type1').attach(pr.regions(g))[0]!);
    for (const x of refusals) {
      assert.equal(x.kind, 'identity');
      if (x.kind !== 'identity') continue;
      assert.ok(x.regions.length <= 8, `${x.regions.length} regions kept`);
      assert.equal(x.total, 2000);
    }
    const [a, b] = [pr.regions(pr.groups[0]!), pr.regions(pr.groups[1]!)];
    assert.equal(a.directFor(a.group.devices[0]!, 8), b.directFor(b.group.devices[0]!, 8), 'one answer for the shape and IOMMU');
  });

  test('a group of thousands of devices let go one by one: no scan of the group per device', () => {
    const n = 3000;
    const text = [
      'platform host {',
      '  iommu i vt-d',
      ...Array.from({ length: n }, (_, d) => `  device d${d} { iommu i; group 7 }`),
      '}',
    ].join('\n');
    const model = buildModel([{ uri: 'file:///h.iommu', ast: parse(text) }], MODEL_SCHEMA).model;
    const pr = new PlatformRegions(model.platforms.get('host')!);
    const group = pr.groups[0]!;
    const site = { uri: 'file:///h.iommu', span: { start: 0, end: 0 }, verb: 'is assigned here', onStep: false, context: [], prefix: '' };
    const claims = newClaims();
    const guest = { sym: { name: 'vm' } } as never;
    for (const d of group.devices) assert.ok(claim(guest, site, d, group, claims, []));
    // Count the reads of the group's device list while every device goes.
    let reads = 0;
    const devices = group.devices;
    group.devices = new Proxy(devices, {
      get: (t, k, r) => {
        if (typeof k === 'string' && /^\d+$/.test(k)) reads++;
        return Reflect.get(t, k, r);
      },
    });
    for (const d of devices) release(d, group, claims);
    assert.ok(reads <= n, `${reads} reads of the group's ${n} devices`);
    assert.equal(claims.groups.has(group), false);
  });

  test('a big group not viable: the finding names a few of its other devices, the fix assigns them all', () => {
    const host = [
      'platform host {',
      '  iommu i vt-d',
      ...Array.from({ length: 100 }, (_, d) => `  device d${d} { iommu i; group 7 }`),
      '}',
    ].join('\n');
    const [f] = of(
      analyze({ 'h.iommu': host, 'g.iommu': 'guest vm on host {\n  ram r 0x0 size 1G\n  assign d0\n}' }),
      'group-partly-assigned',
    );
    assert.match(f!.message, /^group 7 also holds d1, d2, d3, d4, d5, d6, d7, d8 and 91 more, which no guest is assigned;/);
    assert.equal(f!.related.length, 20);
    assert.equal(f!.fixes[0]!.edits[0]!.newText.split('assign').length - 1, 99);
  });
});

describe('names and guests at scale', () => {
  test('a device name many other platforms have: the hint names three and counts the rest', () => {
    const files: Record<string, string> = { 'g.iommu': 'platform bare {\n  iommu i vt-d\n}\nguest vm on bare {\n  assign nic0\n}\n' };
    for (let p = 0; p < 50; p++) files[`p${p}.iommu`] = `platform p${p} {\n  iommu i vt-d\n  device nic0 { iommu i }\n}\n`;
    const [f] = of(analyze(files), 'unknown-name');
    assert.equal(f!.message, "no device 'nic0' on platform bare; p0, p1, p10 and 47 more have one");
  });

  test('a guest with thousands of RAM lines and assignments starts in one pass over them', () => {
    const n = 3000;
    const host = [
      'platform host {',
      '  iommu i vt-d { address-width 48 }',
      ...Array.from({ length: n }, (_, d) => `  device d${d} { iommu i; group ${d + 1} }`),
      '}',
    ].join('\n');
    // Every RAM line overlaps the one before it; every device has a group of its own.
    const guest = [
      'guest vm on host {',
      ...Array.from({ length: n }, (_, r) => `  ram r${r} ${hex(0x1000_0000 * (r + 1))} size 512M`),
      ...Array.from({ length: n }, (_, d) => `  assign d${d}`),
      '}',
    ].join('\n');
    const model = buildModel([{ uri: 'file:///h.iommu', ast: parse(`${host}\n${guest}`) }], MODEL_SCHEMA).model;
    const g = model.guests.get('vm')!;
    // Count the elements indexOf() and includes() may compare while the guest starts.
    let compared = 0;
    const { indexOf, includes } = Array.prototype;
    Array.prototype.indexOf = function (this: unknown[], ...args: [unknown, number?]) {
      const i = indexOf.apply(this, args);
      compared += i < 0 ? this.length : i + 1;
      return i;
    } as typeof indexOf;
    Array.prototype.includes = function (this: unknown[], ...args: [unknown, number?]) {
      compared += this.length;
      return includes.apply(this, args);
    } as typeof includes;
    const out: Finding[] = [];
    try {
      startGuest(g, new PlatformRegions(g.platform!), newClaims(), out);
    } finally {
      Object.assign(Array.prototype, { indexOf, includes });
    }
    assert.equal(out.filter((f) => f.code === 'ram-overlap').length, n - 1);
    assert.ok(compared < 20 * n, `${compared} elements compared`);
  });
});

describe('CMDQV', () => {
  test("an unmapped stream relates the VINTF's pairs, not every stream line; too many VINTFs relate a few", () => {
    const lines = ['platform grace {', '  arch arm64', '  iommu smmu0 smmuv3 { address-width 48; cmdqv vintfs 64 sids-per-vintf 16 }'];
    for (let d = 0; d < 40; d++) lines.push(`  device d${d} { iommu smmu0 stream ${hex(0x100 + d)}; group ${d + 1} }`);
    // The devices are the guest's: a vDEVICE takes a device bound to the VMM (iommufd_get_device).
    lines.push('}', 'guest vm on grace {', '  machine virt memory 4G', '  container iommufd');
    for (let d = 0; d < 40; d++) lines.push(`  assign d${d}`);
    lines.push('}');
    for (let v = 0; v < 70; v++) {
      lines.push(`vintf vi${v} on smmu0 for vm {`, '  owner guest', `  vmid ${v + 1}`);
      if (v === 0) for (let d = 0; d < 40; d++) lines.push(`  stream d${d} as ${hex(d)}`);
      lines.push('}');
    }
    lines.push('commands vi0 {', '  batch { ATC_INV sid 0x999 ssid 0 addr 0x1000; CMD_SYNC }', '}');
    const a = analyze({ 'c.iommu': lines.join('\n') });
    const [unmapped] = of(a, 'cmdqv-unmapped-stream');
    assert.equal(unmapped!.related.length, 16, 'the 16 pairs');
    assert.equal(of(a, 'cmdqv-too-many-streams').length, 24);
    // VINTF0 is the host kernel's: guests get 63 of the 64.
    const many = of(a, 'cmdqv-too-many-vintfs');
    assert.equal(many.length, 7);
    for (const f of many) assert.equal(f.related.length, 4);
  });
});

describe('VFIO: groups and guests over thousands of regions', () => {
  const regions = 2000;
  const text = [
    'platform host {',
    '  arch x86_64',
    '  iommu dmar0 vt-d { address-width 48 }',
    ...Array.from({ length: regions }, (_, r) => `  reserved r${r} reserved ${hex(0x1_0000_0000 + r * 0x40_0000)} size 1M`),
    ...Array.from({ length: 500 }, (_, d) => `  device d${d} { iommu dmar0; group ${d + 1} }`),
    '}',
  ].join('\n');
  const model = buildModel([{ uri: 'file:///h.iommu', ast: parse(text) }], MODEL_SCHEMA).model;

  test('groups of one shape share one region list and one usable list', () => {
    const pr = new PlatformRegions(model.platforms.get('host')!);
    const [a, b] = [pr.regions(pr.groups[0]!), pr.regions(pr.groups[499]!)];
    assert.equal(a.list(), b.list(), 'merged once for the shape');
    assert.equal(a.sharedUsable(), b.sharedUsable());
    // A container of one such group refers to the shape's list; more of the shape change nothing.
    const c = new Container<string>('type1');
    for (const g of pr.groups) assert.deepEqual(c.attach(pr.regions(g)), []);
    assert.deepEqual(c.usable(), a.usable());
  });

  test('a RAM range over thousands of regions: the refusal names a few and counts them all', () => {
    const pr = new PlatformRegions(model.platforms.get('host')!);
    const c = new Container<string>('type1');
    assert.deepEqual(c.attach(pr.regions(pr.groups[0]!)), []);
    const refusal = c.map({ start: 0x1_0000_0000n, end: 0x10_ffff_ffffn }, 'ram');
    assert.equal(refusal?.kind, 'reserved');
    if (refusal?.kind !== 'reserved') return;
    assert.ok(refusal.regions.length <= 8, `${refusal.regions.length} regions kept`);
    assert.equal(refusal.total, regions);
  });

  test('many guests over those regions: each finding names two and counts the rest', () => {
    const guests = Array.from({ length: 50 }, (_, g) => `guest g${g} on host {\n  machine q35 memory 64G\n  assign d${g}\n}`).join('\n');
    const a = analyze({ 'h.iommu': text, 'g.iommu': guests });
    const refused = of(a, 'ram-over-reserved');
    assert.equal(refused.length, 50);
    for (const f of refused) {
      assert.match(
        f.message,
        /overlaps reserved region r0 \(reserved 0x100000000\.\.0x1000fffff\), reserved region r1 \(reserved 0x100400000\.\.0x1004fffff\) and 1998 more:/,
      );
      assert.ok(f.related.length <= 21, `${f.related.length} related`);
    }
  });
});

describe('Xen', () => {
  const devices = 50;
  const host = [
    'platform host {',
    '  arch x86_64',
    '  iommu dmar0 vt-d { address-width 46 }',
    '  ram dram 0x100000000 size 4G',
    ...Array.from({ length: 5 }, (_, r) => `  reserved rmrr${r} direct ${hex(0x8000_0000 + r * 0x10_0000)} size 64K`),
    `  reserved clash direct ${hex(0x8000_8000)} size 64K`,
    ...Array.from({ length: devices }, (_, d) => `  device d${d} { iommu dmar0; group ${d + 1} }`),
    '}',
  ].join('\n');
  const xen =
    'xen xh on host {\n  dom0 {\n    mode pv\n    iommu relaxed\n  }\n  domain u {\n    mode pv\n    pass d3\n    iommu-map host-identity\n  }\n}\n';

  test('RMRRs every device shares: one finding per passed device, one per failed mapping, holders shared', () => {
    const a = analyze({ 'h.iommu': host, 'x.iommu': xen });
    const shared = of(a, 'xen-shared-rmrr');
    assert.equal(shared.length, 1, 'one for d3, naming its first shared RMRR');
    assert.match(
      shared[0]!.message,
      /^d3's RMRR 0x80000000\.\.0x8000ffff is shared with d0, d1, d2, d4 and 45 more \(and 5 more RMRRs it shares\): VT-d refuses/,
    );
    assert.equal(shared[0]!.related.length, 4);
    const clash = of(a, 'xen-identity-map-conflict');
    assert.equal(clash.length, 1, 'dom0: the region fails once, for every device');
    assert.match(
      clash[0]!.message,
      /of d0, d1, d2, d3 and 46 more: -EADDRINUSE, it overlaps the identity mapping 0x80000000\.\.0x8000ffff held by d0, d1, d2, d3 and 46 more/,
    );
    const dom0 = [...resultOf(a.sim, XEN_ENGINE).runs.values()][0]!.maps.get([...a.model.xens.values()][0]!.domains.get('dom0')!)!;
    const entries = dom0.identity.entries();
    assert.equal(entries.length, 5);
    assert.ok(
      entries.every((e) => e.holders === entries[0]!.holders && e.holders.length === devices),
      'one list of holders for all',
    );
  });

  test('a balloon step without a range gives back what the domain still owns, once', () => {
    const t = 'timeline t {\n  balloon xh.dom0 0x100000000 size 1G\n  balloon xh.dom0\n  balloon xh.dom0\n}\n';
    const a = analyze({ 'h.iommu': host, 'x.iommu': xen, 't.iommu': t });
    const changes = [...resultOf(a.sim, XEN_ENGINE).p2m.values()];
    assert.deepEqual(
      changes.map((c) => c.released.map((r) => `${hex(Number(r.start))}-${hex(Number(r.end))}`)),
      [['0x100000000-0x13fffffff'], ['0x140000000-0x1ffffffff'], []],
    );
    const stale = of(a, 'xen-stale-iommu-mapping');
    assert.equal(stale.length, 2);
    assert.match(stale[0]!.message, /d0, d1, d2, d4 and 45 more can still DMA into pages/);
  });
});

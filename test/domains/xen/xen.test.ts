/**
 * Xen IOMMU maps (RULES §8), on the seed-003 HP DL388p Gen8 host whose LPC-bridge RMRRs
 * come from the `intel-lpc-bridge` capture: dom0's boot map, the reference-counted RMRR
 * identity mappings, each finding with its fix applied and re-checked, and the hovers
 * that name each map in the thread's terms.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hover } from '../../../server/src/ide/hover';
import { formatInterval } from '../../../server/src/model';
import { IdentityMaps } from '../../../server/src/domains/xen/sim/identityMaps';
import { RangeSet } from '../../../server/src/sim/rangeset';
import { analyze, applyEdits, slice, uri } from '../../helpers';
import { resultOf } from '../../../server/src/sim';
import { XEN_ENGINE } from '../../../server/src/domains/xen/engine';

const SEED = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed-003-xen-identity-maps');
const HOST = readFileSync(join(SEED, 'hosts', 'dl388-r3u12.iommu'), 'utf8');

function check(xen: string, timeline = '') {
  const files: Record<string, string> = { 'host.iommu': HOST, 'xen.iommu': xen, ...(timeline ? { 't.iommu': timeline } : {}) };
  const a = analyze(files);
  const text = (f: { uri: string }) => files[f.uri.replace('file:///ws/', '')]!;
  return { a, files, codes: a.all.map((f) => `${f.severity} ${f.code}@${slice(text(f), f.span)}`) };
}

/** Applies the first fix of the only finding with `code` and checks again. */
function fixed(xen: string, timeline: string, code: string) {
  const { a } = check(xen, timeline);
  const f = a.all.filter((x) => x.code === code);
  assert.equal(f.length, 1, `one ${code}`);
  const fix = f[0]!.fixes[0]!;
  const target = fix.edits[0]!.uri === uri('xen.iommu') ? 'xen' : 't';
  return target === 'xen' ? check(applyEdits(xen, fix.edits), timeline) : check(xen, applyEdits(timeline, fix.edits));
}

const dom0 = (opts: string, extra = '') => `xen xh on dl388-r3u12 {\n  ${extra}\n  dom0 { ${opts} }\n}\n`;

describe('dom0 boot map (arch_iommu_hwdom_init)', () => {
  test('non-strict: E820 RAM and reserved memory, minus Xen, the interrupt range, IO-APIC, MMCFG and beyond the width', () => {
    const host = HOST.replace('  device lpc0', '  ioapic 0xfec00000\n  mmcfg 0xbdf80000 size 64K\n  device lpc0');
    const files = { 'host.iommu': host, 'xen.iommu': dom0('mode pv; iommu relaxed', 'xen-range 0x100000 size 2M') };
    const a = analyze(files);
    assert.deepEqual(a.all, []);
    const m = [...resultOf(a.sim, XEN_ENGINE).runs.values()][0]!.maps.get(a.model.xens.get('xh')!.domains.get('dom0')!)!;
    assert.equal(m.term, 'host map');
    assert.equal(m.maintained, false);
    // RAM 0x100000..0xbddabfff and 0x1_0000_0000 + 125G; the HP RMRR (map-reserved; isa-dma is
    // Linux's quirk, not firmware's); Xen's 2 MiB at 1 MiB and the ECAM window cut out.
    assert.deepEqual(m.boot!.mapped.ranges().map(formatInterval), [
      '0x300000..0xbddabfff',
      '0xbdf6e000..0xbdf7ffff',
      '0x100000000..0x203fffffff',
    ]);
    assert.deepEqual(
      m.boot!.leftOut.map((l) => `${formatInterval(l.range)} ${l.why.split(' ')[0]}`),
      ["0x100000..0x2fffff Xen's", '0xbdf80000..0xbdf84fff MMCFG'],
    );
  });

  test('the interrupt range and an IO-APIC inside reserved memory are left out; a narrow IOMMU cuts the top', () => {
    const host = HOST.replace(
      'address-width 46 }\n  iommu dmar1 vt-d { address-width 46 }',
      'address-width 36 }\n  iommu dmar1 vt-d { address-width 36 }',
    ).replace('  device lpc0', '  reserved e820-hi reserved 0xfec00000..0xfeffffff\n  ioapic 0xfec00000\n  device lpc0');
    const a = analyze({ 'host.iommu': host, 'xen.iommu': dom0('mode pv') });
    const m = [...resultOf(a.sim, XEN_ENGINE).runs.values()][0]!.maps.get(a.model.xens.get('xh')!.domains.get('dom0')!)!;
    const left = m.boot!.leftOut.map((l) => `${formatInterval(l.range)}: ${l.why}`);
    assert.ok(left.includes('0xfee00000..0xfeefffff: the interrupt range 0xfee00-0xfeeff (PFNs): MSI writes, never DMA'), left.join('\n'));
    assert.ok(left.includes('0xfec00000..0xfec00fff: an IO-APIC page'), left.join('\n'));
    assert.ok(left.includes('0x1000000000..0x203fffffff: beyond the 36-bit IOMMU address width'), left.join('\n'));
    assert.ok(
      m.boot!.mapped.overlapping({ start: 0xfec01000n, end: 0xfec01fffn }).length === 1,
      'the rest of the reserved range stays mapped',
    );
  });

  test("strict: only reserved memory at boot, the rest follows dom0's pages (maintained identity MFN map)", () => {
    const a = analyze({ 'host.iommu': HOST, 'xen.iommu': dom0('mode pv; iommu strict') });
    const m = [...resultOf(a.sim, XEN_ENGINE).runs.values()][0]!.maps.get(a.model.xens.get('xh')!.domains.get('dom0')!)!;
    assert.equal(m.term, 'identity MFN map');
    assert.equal(m.maintained, true);
    assert.deepEqual(m.boot!.mapped.ranges().map(formatInterval), ['0xbdf6e000..0xbdf84fff']);
    const off = analyze({ 'host.iommu': HOST, 'xen.iommu': dom0('mode pv; iommu strict; map-reserved off') });
    const m2 = [...resultOf(off.sim, XEN_ENGINE).runs.values()][0]!.maps.get(off.model.xens.get('xh')!.domains.get('dom0')!)!;
    assert.deepEqual(m2.boot!.mapped.ranges(), []);
  });

  test('RMRR identity mappings are reference counted: the HP RMRR of lpc0, ilo0, usb0 and vga0 is one mapping with four references', () => {
    const a = analyze({ 'host.iommu': HOST, 'xen.iommu': dom0('mode pv; iommu strict') });
    const m = [...resultOf(a.sim, XEN_ENGINE).runs.values()][0]!.maps.get(a.model.xens.get('xh')!.domains.get('dom0')!)!;
    assert.deepEqual(
      m.identity.entries().map((e) => `${formatInterval(e.range)} ${e.access} ${e.holders.map((h) => h.sym.name).join(',')}`),
      ['0xbdf6e000..0xbdf84fff rw lpc0,usb0,ilo0,vga0'],
    );
  });
});

describe('the identity-map table and the range set', () => {
  const r = (start: bigint, end: bigint) => ({ start, end });
  test('same range and access take a reference; other overlaps are -EADDRINUSE; absent ranges -ENOENT', () => {
    const t = new IdentityMaps<string>();
    assert.equal(t.map(r(0x1000n, 0x1fffn), 'rw', 'a').ok, true);
    const again = t.map(r(0x1000n, 0x1fffn), 'rw', 'b');
    assert.ok(again.ok && 'shared' in again && again.shared);
    const access = t.map(r(0x1000n, 0x1fffn), 'r', 'c');
    assert.ok(!access.ok && access.errno === 'EADDRINUSE');
    const partial = t.map(r(0x1800n, 0x2fffn), 'rw', 'c');
    assert.ok(!partial.ok && partial.errno === 'EADDRINUSE' && formatInterval(partial.conflict.range) === '0x1000..0x1fff');
    assert.deepEqual(t.unmap(r(0x5000n, 0x5fffn), 'a'), { ok: false, errno: 'ENOENT' });
    const wrong = t.unmap(r(0x1000n, 0x17ffn), 'a');
    assert.ok(!wrong.ok && wrong.errno === 'EADDRINUSE');
    assert.ok(t.unmap(r(0x1000n, 0x1fffn), 'a').ok);
    assert.equal(t.entries()[0]!.holders.join(), 'b');
    assert.deepEqual(t.unmap(r(0x1000n, 0x1fffn), 'b'), { ok: true, removed: true });
    assert.deepEqual(t.entries(), []);
  });

  test('a range set merges, splits and keeps 0xffff_ffff_ffff_ffff exact', () => {
    const top = (1n << 64n) - 1n;
    const s = RangeSet.of([r(0x10n, 0x1fn), r(0x30n, 0x3fn), r(0x20n, 0x2fn), r(top - 0xfn, top)]);
    assert.deepEqual(s.ranges().map(formatInterval), ['0x10..0x3f', '0xfffffffffffffff0..0xffffffffffffffff']);
    assert.deepEqual(s.remove(r(0x18n, 0x27n)).map(formatInterval), ['0x18..0x27']);
    assert.deepEqual(s.ranges().map(formatInterval), ['0x10..0x17', '0x28..0x3f', '0xfffffffffffffff0..0xffffffffffffffff']);
    assert.deepEqual(s.missing(r(0x0n, 0x2fn)).map(formatInterval), ['0x0..0xf', '0x18..0x27']);
    assert.equal(s.size(), 8n + 24n + 16n);
    s.remove(r(0n, top));
    assert.equal(s.empty, true);
  });
});

describe('findings', () => {
  test('a PVH dom0 that is not strict: Xen forces strict (a warning); the fix writes it; no iommu option is strict already', () => {
    const xen = dom0('mode pvh; iommu relaxed');
    const { a, codes } = check(xen);
    assert.deepEqual(codes, ['warning xen-pvh-dom0-not-strict@iommu relaxed']);
    assert.match(a.all[0]!.message, /check_hwdom_reqs/);
    assert.deepEqual(fixed(xen, '', 'xen-pvh-dom0-not-strict').codes, []);
    assert.deepEqual(check(dom0('mode pvh')).codes, []);
    assert.deepEqual(check(dom0('mode pvh; iommu passthrough')).codes, ['warning xen-pvh-dom0-not-strict@iommu passthrough']);
  });

  test("PV-IOMMU (a proposal) on a map Xen maintains (HVM with a device, strict dom0); fine on a non-strict dom0's host map", () => {
    const hvm = `xen xh on dl388-r3u12 {\n  dom0 { mode pv }\n  domain win { mode hvm; pass gpu0; iommu-map pv-iommu }\n}\n`;
    assert.deepEqual(check(hvm).codes, ['information xen-pv-iommu-on-maintained-map@iommu-map pv-iommu']);
    assert.deepEqual(fixed(hvm, '', 'xen-pv-iommu-on-maintained-map').codes, []);
    assert.deepEqual(check(dom0('mode pv; iommu strict; iommu-map pv-iommu')).codes, [
      'information xen-pv-iommu-on-maintained-map@iommu-map pv-iommu',
    ]);
    assert.deepEqual(check(dom0('mode pv; iommu relaxed; iommu-map pv-iommu')).codes, []);
  });

  test('guest-driven maps (proposals): stray DMA would fault, whatever the quarantine', () => {
    const pv = `xen xh on dl388-r3u12 {\n  quarantine scratch-page\n  domain dd { mode pv; pass nic0; iommu-map pv-iommu }\n}\n`;
    const { a, codes } = check(pv);
    assert.deepEqual(codes, ['information xen-stray-dma-faults@iommu-map pv-iommu']);
    assert.match(a.all[0]!.message, /faults in the IOMMU/);
    const vtd = `xen xh on dl388-r3u12 {\n  domain g { mode hvm; pass gpu0; iommu-map virtual-vtd }\n}\n`;
    assert.deepEqual(check(vtd).codes, ['information xen-stray-dma-faults@iommu-map virtual-vtd']);
    // Without a passed-through device there is no map to drive.
    assert.deepEqual(check(`xen xh on dl388-r3u12 {\n  domain g { mode hvm; iommu-map virtual-vtd }\n}\n`).codes, []);
  });

  test('a balloon on a map Xen does not maintain leaves pages reachable; strict dom0 or a maintained map does not', () => {
    const xen = dom0('mode pv; iommu relaxed');
    const step = 'timeline t {\n  balloon xh.dom0 0x2_0000_0000 size 4G\n}\n';
    const { a, codes } = check(xen, step);
    assert.deepEqual(codes, ['information xen-stale-iommu-mapping@balloon xh.dom0 0x2_0000_0000 size 4G']);
    assert.match(a.all[0]!.message, /host map.*0x200000000\.\.0x2ffffffff \(4G\).*still map the old MFNs/);
    assert.deepEqual(fixed(xen, step, 'xen-stale-iommu-mapping').codes, []);
    const dom = `xen xh on dl388-r3u12 {\n  domain g { mode hvm; pass gpu0; iommu-map host-identity; ram lowmem 0x0 size 2G }\n}\n`;
    const free = 'timeline t { free xh.g 0x4000_0000 size 2M }\n';
    assert.deepEqual(check(dom, free).codes, [
      'information xen-stale-iommu-mapping@free xh.g 0x4000_0000 size 2M',
      'information xen-not-upstream@iommu-map host-identity',
    ]);
    // Passthrough dom0: nothing translates, so every page given back stays reachable.
    assert.deepEqual(check(dom0('mode pv; iommu passthrough'), step).codes, [
      'information xen-stale-iommu-mapping@balloon xh.dom0 0x2_0000_0000 size 4G',
    ]);
  });

  test("a balloon outside the domain's memory, or of memory already given back", () => {
    const dom = `xen xh on dl388-r3u12 {\n  domain g { mode hvm; pass gpu0; ram lowmem 0x0 size 2G }\n}\n`;
    const t = 'timeline t {\n  balloon xh.g 0x4000_0000 size 1G\n  free xh.g 0x4000_0000 size 2M\n  balloon xh.g 0x8000_0000 size 4K\n}\n';
    const { a, codes } = check(dom, t);
    assert.deepEqual(codes, [
      'warning xen-p2m-outside-memory@free xh.g 0x4000_0000 size 2M',
      'warning xen-p2m-outside-memory@balloon xh.g 0x8000_0000 size 4K',
    ]);
    assert.match(a.all[0]!.message, /already given back/);
  });

  test('an RMRR shared with another device cannot be passed alone (-EPERM); overlapping RMRRs in one domain are -EADDRINUSE', () => {
    assert.deepEqual(check(`xen xh on dl388-r3u12 {\n  domain m { mode hvm; pass ilo0 }\n}\n`).codes, ['error xen-shared-rmrr@ilo0']);
    const host = HOST.replace(
      '  device gpu0',
      '  reserved gpu-rmrr direct 0xbdf80000..0xbdf8ffff for gpu0\n  reserved nic-rmrr direct 0xbdf6e000..0xbdf84fff for nic0\n  device gpu0',
    );
    const text = `xen xh on dl388-r3u12 {\n  dom0 { mode pv }\n  domain m { mode hvm; pass nic0, gpu0 }\n}\n`;
    const a = analyze({ 'host.iommu': host, 'xen.iommu': text });
    const xenFindings = a.all.filter((f) => f.uri === uri('xen.iommu'));
    assert.deepEqual(
      xenFindings.map((f) => `${f.code}@${slice(text, f.span)}`),
      ['xen-identity-map-conflict@gpu0'],
    );
    assert.match(xenFindings[0]!.message, /-EADDRINUSE.*0xbdf6e000\.\.0xbdf84fff held by nic0/);
    // dom0 gets both at boot: information on the region (map-reserved maps it all the same).
    const hostFindings = a.all.filter((f) => f.uri === uri('host.iommu'));
    assert.deepEqual(
      hostFindings.map((f) => `${f.severity} ${f.code}@${slice(host, f.span)}`),
      ['information xen-identity-map-conflict@gpu-rmrr'],
    );
  });

  test('settings Xen has no meaning for, and a device passed to two domains', () => {
    assert.deepEqual(check(dom0('mode hvm')).codes, ['error xen-invalid-setting@mode hvm']);
    assert.deepEqual(check(dom0('mode pv; iommu-map maintained')).codes, ['error xen-invalid-setting@iommu-map maintained']);
    assert.deepEqual(check(`xen xh on dl388-r3u12 {\n  domain d { mode pv; pass nic0; iommu-map virtual-vtd }\n}\n`).codes, [
      'error xen-invalid-setting@iommu-map virtual-vtd',
    ]);
    assert.deepEqual(check(`xen xh on dl388-r3u12 {\n  domain a { pass nic0 }\n  domain b { pass nic0 }\n}\n`).codes, [
      'error device-assigned-twice@nic0',
    ]);
  });
});

describe('hover names each map in the terms of seed 003', () => {
  const xen = `xen xh on dl388-r3u12 {
  dom0 { mode pv; iommu relaxed }
  domain pvd { mode pv; pass nic0 }
  domain web { mode hvm; pass nic1 }
  domain vt { mode hvm; pass gpu0; iommu-map virtual-vtd; quarantine scratch-page }
  domain idle { mode hvm }
}
`;
  const files = { 'host.iommu': HOST, 'xen.iommu': xen, 't.iommu': 'timeline t { balloon xh.dom0 0x2_0000_0000 size 1G }\n' };
  const a = analyze(files);
  const at = (word: string, file = 'xen.iommu') => hover(a, uri(file), files[file as keyof typeof files].indexOf(word) + 1)?.markdown ?? '';
  test('dom0, identity MFN, identity GFN, guest map, no map', () => {
    assert.match(at('dom0'), /\*\*host map\*\*.*programmed once at boot/);
    assert.match(at('dom0'), /RMRR identity mappings \(reference counted\):\n- `0xbdf6e000\.\.0xbdf84fff` rw, 4 references/);
    assert.match(at('pvd'), /identity MFN map\*\* \(BFN == MFN\) that Xen \*\*maintains\*\*/);
    assert.match(at('web'), /identity GFN map\*\* \(BFN == GFN\) that Xen \*\*maintains\*\*/);
    assert.match(at('vt '), /\*\*guest map\*\* \(BFN == GFN\).*driven by the domain \(virtual VT-d\)/s);
    assert.match(at('idle'), /no IOMMU map/);
  });
  test('the balloon step shows what stays mapped', () => {
    const md = at('balloon', 't.iommu');
    assert.match(md, /Stale afterwards[^]*0x200000000\.\.0x23fffffff/);
  });
});

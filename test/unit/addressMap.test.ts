/**
 * The address map: spaces and bars read from the simulation (seed 002's shapes), the
 * target under the cursor, the compressed axis, and the SVG (well-formed, escaped, clicks
 * mapped back to lines).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addressMap,
  addressMapTargetAt,
  mapSources,
  MAX_BARS_PER_SPACE,
  MAX_GROUP_SHAPES,
  type AddressMap,
  type Bar,
} from '../../server/src/ide/addressMap';
import { addressMapResponse } from '../../server/src/lsp/addressMap';
import { approxSize, buildAxis, DEFAULT_AXIS, lanesOf, renderSvg } from '../../server/src/ide/addressMapSvg';
import { hex, U64_MAX } from '../../server/src/model';
import { someOf, type MergedRegion } from '../../server/src/sim';
import { analyze, cursor, markers, uri } from '../helpers';

/** A bar as one line: `0xSTART-0xEND kind label [codes]`. */
const line = (b: Bar) =>
  `${hex(b.start)}-${hex(b.end)} ${b.kind} ${b.label}${b.problems.length ? ` [${b.problems.map((p) => p.code).join(' ')}]` : ''}`;
const lines = (m: AddressMap, i: number) => m.spaces[i]!.bars.map(line);

// armsrv-1 of seed 002, with vm-analytics: 4G of virt RAM over the PCI window.
const ARMSRV1 = `platform armsrv-1 {
  arch arm64
  iommu smmu0 smmuv3 {
    address-width 48
    page-sizes 64K 512M
  }
  [[reserved swmsi     sw-msi   0x8000000..0x80fffff]]
  [[reserved pci-win32 reserved 0xe0000000..0xf7feffff]]
  reserved pci-win64 reserved 0x80000000000..0x82fffffffff
  device pf0 { bdf 0000:01:00.0; iommu smmu0 stream 0x100; group 9 }
  device vf0 { bdf 0000:01:00.2; vf-of pf0; iommu smmu0 stream 0x102; group 13 }
  device vf2 { bdf 0000:01:00.4; vf-of pf0; iommu smmu0 stream 0x104; group 18 }
}
guest vm-analytics on armsrv-1 {
  [[machine virt memory 4G]]
  container type1
  assign vf2
}
`;

describe('guest maps', () => {
  test('seed 002: RAM over the PCI window is a conflict bar in the container IOVA space, on the RAM line', () => {
    const { text, ranges } = markers(ARMSRV1);
    const a = analyze({ 'arm.iommu': text });
    const m = addressMap(a, { guest: 'vm-analytics' })!;
    assert.equal(m.title, 'guest vm-analytics on armsrv-1');
    assert.deepEqual(
      m.spaces.map((s) => [s.kind, s.axis, s.title]),
      [
        ['guest-physical', 'iova', 'guest physical: vm-analytics'],
        ['iova', 'iova', 'IOVA, VFIO type1 container: group 18 (vf2)'],
        ['host-physical', 'host', 'host physical: armsrv-1'],
      ],
    );
    assert.deepEqual(lines(m, 0), ['0x40000000-0x13fffffff ram mach-virt.ram [ram-over-reserved]']);
    // The SMMU driver's sw-msi window is cut where it is; the usable list is VFIO's.
    assert.deepEqual(lines(m, 1), [
      '0x0-0x7ffffff usable usable',
      '0x8000000-0x80fffff sw-msi swmsi',
      '0x8100000-0xdfffffff usable usable',
      '0xe0000000-0xf7feffff reserved pci-win32',
      '0xe0000000-0xf7feffff conflict mach-virt.ram overlaps reserved pci-win32 [ram-over-reserved]',
      '0xf7ff0000-0x7ffffffffff usable usable',
      '0x80000000000-0x82fffffffff reserved pci-win64',
      '0x83000000000-0xffffffffffff usable usable',
    ]);
    const [swmsi, pciWin32, machine] = ranges;
    const conflict = m.spaces[1]!.bars.find((b) => b.kind === 'conflict')!;
    assert.deepEqual(conflict.source, { uri: uri('arm.iommu'), span: machine });
    assert.equal(conflict.problems[0]!.severity, 'error');
    assert.deepEqual(
      m.spaces[2]!.bars.slice(0, 2).map((b) => b.source?.span),
      [swmsi, pciWin32],
    );
    assert.deepEqual(m.notes, []);
  });

  test("guest RAM over the SMMU's sw-msi window: a conflict bar in the IOVA space; an msi-window line draws nothing", () => {
    const { text, ranges } = markers(`platform armsrv-0 {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48 }
  device vf2 { bdf 0000:01:00.4; iommu smmu0 stream 0x104; group 16 }
}
guest vm-db on armsrv-0 {
  [[ram low 0x0 size 512M]]
  msi-window 0x40000000 size 1M
  assign vf2
}
`);
    const a = analyze({ 'db.iommu': text });
    const m = addressMap(a, { guest: 'vm-db' })!;
    assert.deepEqual(lines(m, 0), ['0x0-0x1fffffff ram low [ram-over-doorbell]']);
    assert.deepEqual(lines(m, 1), [
      '0x0-0x7ffffff usable usable',
      '0x8000000-0x80fffff sw-msi the sw-msi window',
      '0x8000000-0x80fffff conflict low overlaps sw-msi the sw-msi window [ram-over-doorbell]',
      '0x8100000-0xffffffffffff usable usable',
    ]);
    const [low] = ranges;
    assert.deepEqual(
      m.spaces[0]!.bars.map((b) => b.source!.span),
      [low],
    );
  });

  test('two guest RAM ranges that overlap: a conflict on the later line, where ram-overlap is', () => {
    const { text, ranges } = markers(`platform p {
  arch x86_64
}
guest g on p {
  ram low 0x0 size 2G
  [[ram again 0x4000_0000 size 2G]]
}
`);
    const m = addressMap(analyze({ 'r.iommu': text }), { guest: 'g' })!;
    assert.deepEqual(lines(m, 0), [
      '0x0-0x7fffffff ram low',
      '0x40000000-0x7fffffff conflict again overlaps low [ram-overlap]',
      '0x40000000-0xbfffffff ram again [ram-overlap]',
    ]);
    assert.deepEqual(m.spaces[0]!.bars[1]!.source!.span, ranges[0]);
  });

  test('SEV-SNP: RAM split at vTOM into private and shared, dma-windows, the 64-bit PCI hole', () => {
    const { text } = cursor(`platform turin {
  arch x86_64
  iommu amdvi1 amd-vi { address-width 48 }
  device nvme0 { bdf 0000:41:00.0; iommu amdvi1; group 60; tdisp }
}
guest tio-mixed on turin {
  machine q35 memory 16G cpu amd
  confidential sev-snp { vtom 0x2_0000_0000 }
  container iommufd
  assign nvme0 as private dma-window 0x1_0000_0000 size 4G<|>
}
`);
    const m = addressMap(analyze({ 'tio.iommu': text }), { guest: 'tio-mixed' })!;
    assert.deepEqual(lines(m, 0), [
      '0x0-0x7fffffff ram ram-below-4g',
      '0x0-0x7fffffff private private (below vTOM 0x200000000)',
      '0x100000000-0x1ffffffff dma-window dma-window of nvme0 (private)',
      '0x100000000-0x1ffffffff private private (below vTOM 0x200000000)',
      '0x100000000-0x47fffffff ram ram-above-4g',
      '0x200000000-0x47fffffff shared shared (from vTOM 0x200000000)',
      '0x480000000-0xc7fffffff pci-hole 64-bit PCI hole',
    ]);
    assert.equal(m.spaces[1]!.title, 'IOVA, iommufd IOAS: group 60 (nvme0)');
  });

  test('a guest without devices or platform: spaces say why they are empty; nothing throws on broken text', () => {
    const a = analyze({ 'g.iommu': 'guest lone on nowhere {\n  ram low 0x0 size 1G\n}\nguest half on {\n  ram r 0x0..\n' });
    const m = addressMap(a, { guest: 'lone' })!;
    assert.deepEqual(
      m.spaces.map((s) => [s.title, s.note, s.bars.length]),
      [['guest physical: lone', 'on no known platform: not simulated', 0]],
    );
    assert.equal(addressMap(a, { guest: 'nope' }), undefined);
    assert.equal(addressMap(a, { platform: 'nowhere' }), undefined);
    // `guest half on {` without a platform name, and no closing brace.
    const half = addressMap(a, { guest: 'half' })!;
    assert.deepEqual([half.title, half.spaces.map((s) => s.note)], ['guest half', ['on no known platform: not simulated']]);
    assert.match(renderSvg(half), /^<svg [^]*on no known platform: not simulated[^]*<\/svg>\n$/);

    const b = analyze({
      'h.iommu':
        'platform p {\n  arch arm64\n  device lpc { bdf 0000:00:1f.0 }\n}\nguest idle on p {\n  machine virt memory 1G\n}\nguest bare on p {\n  assign lpc\n}\n',
    });
    assert.equal(addressMap(b, { guest: 'bare' })!.spaces[1]!.note, "none of its devices' groups is in it");
    const idle = addressMap(b, { guest: 'idle' })!;
    assert.deepEqual(
      idle.spaces.map((s) => [s.title, s.note ?? '', s.bars.length]),
      [
        ['guest physical: idle', '', 1],
        ['IOVA, VFIO type1 container', 'no device assigned', 0],
        ['host physical: p', '', 0],
      ],
    );
  });
});

describe('platform maps', () => {
  test('host physical space, and one IOVA space per distinct group list', () => {
    const { text, ranges } = markers(`platform epyc {
  arch x86_64
  [[iommu amdvi0 amd-vi { address-width 48 }]]
  [[ram dram0 0x0 size 3T]]
  [[ioapic 0xfec00000]]
  mmcfg 0x80000000 size 256M
  [[reserved rmrr direct 0x7c000000..0x7c0fffff for gpu2]]
  device gpu0 { bdf 0000:41:00.0; iommu amdvi0; group 40 }
  device gpu1 { bdf 0000:61:00.0; iommu amdvi0; group 52 }
  device gpu2 { bdf 0000:c1:00.0; iommu amdvi0; group 77 }
  device lpc { bdf 0000:00:1f.0 }
}
`);
    const a = analyze({ 'epyc.iommu': text });
    const m = addressMap(a, { platform: 'epyc' })!;
    assert.equal(m.title, 'platform epyc');
    assert.deepEqual(
      m.spaces.map((s) => s.title),
      ['host physical: epyc', 'IOVA: group 40 (gpu0), group 52 (gpu1)', 'IOVA: group 77 (gpu2)'],
    );
    assert.deepEqual(lines(m, 0), [
      '0x0-0x2ffffffffff ram dram0',
      '0x7c000000-0x7c0fffff direct rmrr (gpu2)',
      '0x80000000-0x8fffffff mmcfg MMCFG (ECAM)',
      '0xfec00000-0xfec00fff ioapic IO-APIC',
    ]);
    assert.deepEqual(lines(m, 1), [
      '0x0-0xfedfffff usable usable',
      '0xfee00000-0xfeefffff msi the x86 interrupt range',
      '0xfef00000-0xfcffffffff usable usable',
      '0xfd00000000-0xffffffffff reserved the HyperTransport hole',
      '0x10000000000-0xffffffffffff usable usable',
    ]);
    assert.deepEqual(lines(m, 2).slice(0, 3), [
      '0x0-0x7bffffff usable usable',
      '0x7c000000-0x7c0fffff direct rmrr',
      '0x7c100000-0xfedfffff usable usable',
    ]);
    const [iommu, ram, ioapic] = ranges;
    assert.deepEqual(m.spaces[1]!.bars[1]!.source, { uri: uri('epyc.iommu'), span: iommu }, 'a driver region points at its IOMMU');
    assert.deepEqual([m.spaces[0]!.bars[0]!.source!.span, m.spaces[0]!.bars[3]!.source!.span], [ram, ioapic]);
  });

  test('big platforms: the shapes most groups share come first, lists are merged for 24 shapes, 400 ranges per space', () => {
    const text = [
      'platform rack {',
      '  arch x86_64',
      '  iommu vtd0 vt-d { address-width 48 }',
      // 401 platform-wide regions: every space is cut at 400 ranges.
      ...Array.from({ length: 401 }, (_, i) => `  reserved r${i} reserved 0x${(0x1_0000_0000 + i * 0x10_0000).toString(16)} size 64K`),
      // 30 devices with a region of their own, then 3 that share the platform's list.
      ...Array.from(
        { length: 30 },
        (_, i) =>
          `  device own${i} { bdf 0000:01:${i.toString(16).padStart(2, '0')}.0; iommu vtd0; group ${100 + i} }\n  reserved x${i} direct-relaxable 0x${((i + 1) * 0x10_0000).toString(16)} size 4K for own${i}`,
      ),
      '  device a { bdf 0000:02:00.0; iommu vtd0; group 7 }',
      '  device b { bdf 0000:02:01.0; iommu vtd0; group 8 }',
      '  device c { bdf 0000:02:02.0; iommu vtd0; group 9 }',
      '}',
      '',
    ].join('\n');
    const m = addressMap(analyze({ 'rack.iommu': text }), { platform: 'rack' })!;
    assert.equal(m.spaces.length, 1 + MAX_GROUP_SHAPES);
    assert.deepEqual(
      m.spaces.slice(0, 4).map((s) => s.title),
      ['host physical: rack', 'IOVA: group 7 (a), group 8 (b), group 9 (c)', 'IOVA: group 100 (own0)', 'IOVA: group 101 (own1)'],
    );
    assert.deepEqual(m.notes, [
      '7 more groups with regions of their own are not shown',
      `25 spaces have more than 400 ranges: only the first 400 of each are drawn`,
    ]);
    assert.ok(m.spaces.every((s) => s.bars.length === MAX_BARS_PER_SPACE));
    // Host physical: the 30 device regions lie lowest, then the first 370 platform-wide ones.
    assert.deepEqual(
      [line(m.spaces[0]!.bars[0]!), line(m.spaces[0]!.bars[399]!)],
      ['0x100000-0x100fff direct-relaxable x0 (own0)', '0x117100000-0x11710ffff reserved r369'],
    );
  });

  test('a range ending at 0xffff_ffff_ffff_ffff stays exact through the map, the axis and the SVG', () => {
    const a = analyze({
      'top.iommu': `platform top {
  arch x86_64
  iommu vtd0 vt-d { address-width 64 }
  reserved hi reserved 0xffff_ffff_ffff_f000..0xffff_ffff_ffff_ffff
  device nic { bdf 0000:01:00.0; iommu vtd0 }
}
`,
    });
    const m = addressMap(a, { platform: 'top' })!;
    assert.deepEqual(lines(m, 1).slice(-2), [
      '0xfef00000-0xffffffffffffefff usable usable',
      '0xfffffffffffff000-0xffffffffffffffff reserved hi',
    ]);
    const hi = m.spaces[0]!.bars[0]!;
    assert.equal(hi.end, U64_MAX);
    const axis = buildAxis(m.spaces[0]!.bars);
    assert.deepEqual(
      axis.segments.map((s) => [s.start, s.end]),
      [[0xffff_ffff_ffff_f000n, U64_MAX]],
    );
    assert.equal(axis.at(U64_MAX + 1n), axis.width);
    const svg = renderSvg(m);
    assert.match(svg, /reserved 0xfffffffffffff000\.\.0xffffffffffffffff \(4K\)/);
    assert.match(svg, />0xffffffffffffffff<\/text>/);
  });
});

describe('target at the cursor', () => {
  const FILE = `// hosts and guests
platform p1 {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48 }
  device vf0 { bdf 0000:01:00.2; iommu smmu0; group 13 }
}
guest g1 on p1 {
  machine virt memory 2G
  assign vf0
}
timeline t {
  start g1
}
`;
  const at = (marked: string) => {
    const { text, offset } = cursor(marked);
    return addressMapTargetAt(analyze({ 'f.iommu': text }), uri('f.iommu'), offset);
  };
  const mark = (needle: string, delta = 0) => {
    const i = FILE.indexOf(needle) + delta;
    return `${FILE.slice(0, i)}<|>${FILE.slice(i)}`;
  };

  test('the declaration around the cursor, a name under it, else the first in the file', () => {
    assert.deepEqual(at(mark('arch arm64')), { platform: 'p1' });
    assert.deepEqual(at(mark('assign vf0')), { guest: 'g1' });
    assert.deepEqual(at(mark('on p1', 4)), { platform: 'p1' }, 'the reference wins over the guest around it');
    assert.deepEqual(at(mark('start g1', 7)), { guest: 'g1' });
    assert.deepEqual(at(mark('timeline t')), { platform: 'p1' }, 'nothing here: the first in the file');
    assert.deepEqual(at(mark('// hosts')), { platform: 'p1' });
    assert.equal(addressMapTargetAt(analyze({ 'e.iommu': '// nothing\n' }), uri('e.iommu'), 0), undefined);
    assert.equal(addressMapTargetAt(analyze({ 'e.iommu': '' }), uri('other.iommu'), 5), undefined);
  });

  test('the server draws a map once per analysis and target, however the cursor moves', () => {
    const a = analyze({ 'f.iommu': FILE });
    const ask = (needle: string) => {
      const i = FILE.indexOf(needle);
      const line = FILE.slice(0, i).split('\n').length - 1;
      return addressMapResponse(a, { uri: uri('f.iommu'), position: { line, character: 3 } });
    };
    const first = ask('assign vf0');
    assert.match(first!.title, /g1/);
    assert.equal(ask('machine virt'), first, 'the same guest: the same answer');
    assert.equal(addressMapResponse(a, { uri: uri('f.iommu'), guest: 'g1' }), first, 'by name too');
    const other = ask('arch arm64');
    assert.match(other!.title, /p1/);
    assert.notEqual(other, first, 'another target');
    const again = addressMapResponse(analyze({ 'f.iommu': FILE }), { uri: uri('f.iommu'), guest: 'g1' });
    assert.notEqual(again, first, 'a new analysis draws again');
    assert.deepEqual(again, first);
  });
});

describe('compressed axis', () => {
  test('every boundary is a breakpoint, widths grow with log2 of the size, gaps become fixed breaks', () => {
    const axis = buildAxis([
      { start: 0x4000_0000n, end: 0x1_3fff_ffffn }, // 4G
      { start: 0x8000000n, end: 0x80fffffn }, // 1M, far below: a gap between
      { start: 0x4000_0000n, end: 0x4000_0fffn }, // 4K inside the RAM
    ]);
    assert.deepEqual(
      axis.segments.map((s) => [hex(s.start), hex(s.end), s.gap, s.width]),
      [
        ['0x8000000', '0x80fffff', false, DEFAULT_AXIS.minWidth + 5 * 8],
        ['0x8100000', '0x3fffffff', true, DEFAULT_AXIS.breakWidth],
        ['0x40000000', '0x40000fff', false, DEFAULT_AXIS.minWidth],
        ['0x40001000', '0x13fffffff', false, DEFAULT_AXIS.minWidth + 5 * Math.log2(0xfffff000 / 4096)],
      ],
    );
    // Order is kept: boundaries map to increasing x, and a segment starts where the last ended.
    const xs = axis.segments.map((s) => axis.at(s.start));
    assert.deepEqual(
      xs,
      axis.segments.map((s) => s.x),
    );
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i]! > xs[i - 1]!);
    assert.equal(axis.at(0x1_4000_0000n), axis.width);
    assert.equal(axis.at(0n), 0);
    // An address inside a stretch lands inside it, proportionally.
    assert.equal(axis.at(0x8080000n), axis.segments[0]!.width / 2);
  });

  test('the SVG draws the long gap as a break marker labelled with its size', () => {
    const a = analyze({ 'arm.iommu': markers(ARMSRV1).text });
    const svg = renderSvg(addressMap(a, { platform: 'armsrv-1' })!);
    // Host physical: 0x8100000..0xdfffffff and 0xf7ff0000..0x7ffffffffff are empty.
    assert.equal([...svg.matchAll(/<g class="break">/g)].length, 2);
    assert.match(svg, /nothing here: 0x8100000\.\.0xdfffffff \(3455M\) left out/);
    assert.match(svg, /nothing here: 0xf7ff0000\.\.0x7ffffffffff \(0x7ff08010000, ≈8T\) left out/);
    assert.match(svg, />≈3\.4G</);
    assert.match(svg, />≈8T</);
    assert.deepEqual(
      [approxSize(0xd7f00000n), approxSize(1n << 20n), approxSize(1000n), approxSize(0x1000_0000_0000_0000n)],
      ['3.4G', '1M', '1000B', '1E'],
    );
  });
});

describe('SVG', () => {
  /** A small well-formedness check: tags nest, attributes are quoted, text has no raw < or stray &. */
  function assertWellFormed(svg: string): void {
    const stack: string[] = [];
    const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
    let m: RegExpExecArray | null;
    let at = 0;
    while (at < svg.length && (m = re.exec(svg))) {
      at = re.lastIndex;
      if (m[5] !== undefined) {
        assert.doesNotMatch(m[5], /&(?!(amp|lt|gt|quot|#39);)/, `stray & in ${m[5]}`);
        continue;
      }
      assert.doesNotMatch(m[3] ?? '', /&(?!(amp|lt|gt|quot|#39);)/);
      if (m[1]) assert.equal(stack.pop(), m[2], `</${m[2]}> closes the wrong element`);
      else if (!m[4]) stack.push(m[2]!);
    }
    assert.equal(at, svg.length, `not well-formed at ${svg.slice(at, at + 80)}`);
    assert.deepEqual(stack, []);
  }

  test('well-formed, self-contained, every clickable bar pointing at its line', () => {
    const { text, ranges } = markers(ARMSRV1);
    const a = analyze({ 'arm.iommu': text });
    for (const m of [addressMap(a, { guest: 'vm-analytics' })!, addressMap(a, { platform: 'armsrv-1' })!]) {
      const svg = renderSvg(m);
      assertWellFormed(svg);
      assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" '));
      assert.doesNotMatch(svg, /<script|<image|<style|href=|url\(|@import|style=/);
      const { list } = mapSources(m);
      const used = [...svg.matchAll(/data-target="(\d+)"/g)].map((x) => Number(x[1]));
      assert.deepEqual(
        [...new Set(used)].sort((x, y) => x - y),
        list.map((s) => s.id),
      );
    }
    const m = addressMap(a, { guest: 'vm-analytics' })!;
    const { list, idOf } = mapSources(m);
    const conflict = m.spaces[1]!.bars.find((b) => b.kind === 'conflict')!;
    assert.deepEqual(list[idOf(conflict)!]!.span, ranges[2]);
    assert.equal(list.filter((s) => s.span.start === ranges[1]!.start).length, 1, 'pci-win32 is one source, drawn twice');
    // The conflict bar carries the finding, marked and in its tooltip.
    assert.match(
      renderSvg(m),
      /data-target="\d+"><title>conflict 0xe0000000\.\.0xf7feffff \(0x17ff0000, ≈384M\)\nmach-virt\.ram overlaps reserved pci-win32\nerror ram-over-reserved: guest RAM mach-virt\.ram/,
    );
  });

  test('text from user files is escaped', () => {
    const bar = (label: string, problem?: string): Bar => ({
      start: 0n,
      end: 0xfffn,
      kind: 'reserved',
      label,
      source: { uri: 'file:///ws/x.iommu', span: { start: 0, end: 1 } },
      problems: problem ? [{ severity: 'error', code: 'ram-over-reserved', message: problem }] : [],
    });
    const m: AddressMap = {
      title: 'guest a<b>&"c\'',
      target: { guest: 'a<b>&"c' },
      notes: ['note <&>'],
      spaces: [
        {
          kind: 'host-physical',
          title: 'host "<x>"',
          axis: 'host',
          note: 'n&m',
          bars: [bar('<script>alert(1)</script>', 'say "hi" & <bye>'), { ...bar('ctl\u0001\ud800x'), start: 0x2000n, end: 0x2fffn }],
        },
      ],
    };
    const svg = renderSvg(m);
    assertWellFormed(svg);
    assert.doesNotMatch(svg, /<script|<b>|<x>|<bye>|\u0001|\ud800/);
    assert.match(svg, /guest a&lt;b&gt;&amp;&quot;c&#39;/);
    assert.match(svg, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(svg, /say &quot;hi&quot; &amp; &lt;bye&gt;/);
    assert.match(svg, /\nctlx<\/title>/);
  });
});

describe('many groups, many regions: each shape read once, same bars', () => {
  // Two SMMUs; groups of one shape (vf0, vf1), groups with regions of their own (one touching
  // a platform-wide region: merged in the sysfs list, separate in the overlap queries), a
  // group of two devices, a group behind the other SMMU, and one refused (a direct region).
  const WS = `platform arm {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48 }
  iommu smmu1 smmuv3 { address-width 44 }
  reserved pci-win32 reserved 0xe0000000..0xf7feffff
  reserved low reserved 0x4000_0000 size 1M
  reserved low2 msi 0x4000_0000 size 1M
  reserved hi reserved 0x8_0000_0000 size 1G for smmu1
  reserved touch reserved 0x4010_0000 size 1M for vf2
  reserved mine reserved 0x5000_0000 size 2M for group 30
  reserved same reserved 0x5000_0000 size 2M for group 31
  reserved rmrr direct 0x7000_0000 size 1M for vf5
  device vf0 { bdf 0000:01:00.1; iommu smmu0; group 20 }
  device vf1 { bdf 0000:01:00.2; iommu smmu0; group 21 }
  device vf2 { bdf 0000:01:00.3; iommu smmu0; group 22 }
  device vf3 { bdf 0000:01:00.4; iommu smmu0; group 30 }
  device vf3b { bdf 0000:01:00.5; iommu smmu0; group 30 }
  device vf4 { bdf 0000:01:00.6; iommu smmu1; group 31 }
  device vf5 { bdf 0000:01:00.7; iommu smmu0; group 40 }
}
guest big on arm {
  machine virt memory 8G
  ram extra 0x8_0000_0000 size 2G
  assign vf0
  assign vf1
  assign vf2
  assign vf3
  assign vf4
  assign vf5
}
guest plain on arm {
  machine virt memory 4G
  assign vf0
  assign vf1
  assign vf2
  assign vf4
}
`;

  /** The IOVA space the way every group was read before: each group's whole list, then de-duplicated. */
  function everyGroup(a: ReturnType<typeof analyze>, name: string): string[] {
    const g = a.model.guests.get(name)!;
    const state = a.sim.guests.get(g)!;
    const label = (m: MergedRegion) => someOf([...new Set(m.sources.map((s) => (s.kind === 'declared' ? s.region.sym.name : s.label)))], 3);
    const dedupe = (list: readonly MergedRegion[]) => {
      const byKey = new Map<string, MergedRegion>();
      for (const m of list) {
        const key = `${m.type} ${m.range.start} ${m.range.end}`;
        const seen = byKey.get(key);
        if (!seen) byKey.set(key, { ...m, sources: [...m.sources] });
        else for (const s of m.sources) if (!seen.sources.includes(s)) seen.sources.push(s);
      }
      return [...byKey.values()];
    };
    const all = state.groups.flatMap((gr) => gr.list());
    const out = dedupe(all).map((m) => `${hex(m.range.start)}-${hex(m.range.end)} ${m.type} ${label(m)}`);
    out.push(...state.container.usable().map((u) => `${hex(u.start)}-${hex(u.end)} usable usable`));
    const types = ['direct', 'reserved', 'msi', 'sw-msi'] as const;
    for (const r of state.ram) {
      const hits = state.groups.flatMap((gr) => gr.overlapping(r.range, types));
      for (const m of dedupe(hits)) {
        const start = r.range.start > m.range.start ? r.range.start : m.range.start;
        const end = r.range.end < m.range.end ? r.range.end : m.range.end;
        out.push(`${hex(start)}-${hex(end)} conflict ${r.name} overlaps ${m.type} ${label(m)}`);
      }
    }
    return out.sort();
  }

  test('the container space has the bars, labels and usable list of reading every group', () => {
    const a = analyze({ 'arm.iommu': WS });
    for (const name of ['big', 'plain']) {
      const m = addressMap(a, { guest: name })!;
      const got = m.spaces[1]!.bars.map((b) => `${hex(b.start)}-${hex(b.end)} ${b.kind} ${b.label}`).sort();
      assert.deepEqual(got, everyGroup(a, name), name);
    }
    const big = addressMap(a, { guest: 'big' })!;
    assert.equal(big.spaces[1]!.note, 'refused: group 31, group 40'); // 31: its smmu1 region lies on RAM already mapped
    const lines1 = big.spaces[1]!.bars.map((b) => `${hex(b.start)}-${hex(b.end)} ${b.kind} ${b.label}`);
    // The touching regions: one bar in the list, two conflicts (one per source).
    assert.ok(lines1.includes('0x40000000-0x401fffff reserved low, touch'));
    assert.ok(lines1.includes('0x40000000-0x400fffff conflict mach-virt.ram overlaps reserved low'));
    assert.ok(lines1.includes('0x40100000-0x401fffff conflict mach-virt.ram overlaps reserved touch'));
    assert.ok(lines1.includes('0x50000000-0x501fffff reserved mine, same'), 'one range from two groups: both names');
    assert.ok(lines1.includes('0x50200000-0xdfffffff usable usable'), 'the refused group 40 cuts nothing from the usable list');
  });

  test('lanes: the first lane each bar fits, kinds in legend order, never two overlapping bars in a lane', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const kinds = ['ram', 'usable', 'reserved', 'msi', 'conflict'] as const;
    for (let round = 0; round < 40; round++) {
      const bars: Bar[] = Array.from({ length: 1 + rnd(60) }, () => {
        const start = BigInt(rnd(200)) * 0x1000n;
        return { start, end: start + BigInt(rnd(40)) * 0x1000n + 0xfffn, kind: kinds[rnd(kinds.length)]!, label: '', problems: [] };
      });
      // The plain first-fit, comparing with every bar of every lane.
      const rank = (b: Bar) => kinds.indexOf(b.kind as (typeof kinds)[number]);
      const expected: Bar[][] = [];
      for (const b of [...bars].sort((x, y) => rank(x) - rank(y) || (x.start < y.start ? -1 : x.start > y.start ? 1 : 0))) {
        const lane = expected.find((l) => l.every((o) => o.end < b.start || b.end < o.start));
        if (lane) lane.push(b);
        else expected.push([b]);
      }
      // KIND_ORDER puts these kinds in the same relative order as `kinds`.
      assert.deepEqual(lanesOf(bars), expected);
    }
  });
});

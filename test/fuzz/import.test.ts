/**
 * Fuzzing `iommu-lens import` (server/src/cli/sysfsImport.ts), in process: a captured
 * reserved_regions file that is not what sysfs prints is refused with a SysfsError
 * (exit 2, a message), never another exception; and any capture sysfs could produce
 * becomes a description that parses without a syntax error, declares no name twice,
 * keeps every region exactly, and passes the fuzz checks (check.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse } from '@iommu-lens/grammar';
import {
  parseReservedRegions,
  platformName,
  renderPlatform,
  SysfsError,
  type CapturedGroup,
  type SysfsRegion,
  type SysfsType,
} from '../../server/src/cli/sysfsImport';
import { AnalysisHost } from '../../server/src/ide';
import { hex, U64_MAX } from '../../server/src/model';
import { AMD_HT_HOLE, MSI_IOVA_WINDOW, X86_MSI_RANGE } from '../../server/src/sim/builtins';
import { checkInput, describe } from './check';
import { DOMAINS } from '../../server/src/domains';

const SEED = 2222;
const TYPES: readonly SysfsType[] = ['direct', 'direct-relaxable', 'reserved', 'msi'];

const region: fc.Arbitrary<SysfsRegion> = fc.oneof(
  fc
    .record({ start: fc.bigInt({ min: 0n, max: U64_MAX }), len: fc.bigInt({ min: 0n, max: 1n << 40n }), type: fc.constantFrom(...TYPES) })
    .map(({ start, len, type }) => ({ range: { start, end: start + len > U64_MAX ? U64_MAX : start + len }, type })),
  // The regions the importer recognises drivers by.
  fc.constantFrom<SysfsRegion>(
    { range: X86_MSI_RANGE, type: 'msi' },
    { range: AMD_HT_HOLE, type: 'reserved' },
    { range: MSI_IOVA_WINDOW, type: 'msi' },
    { range: { start: 0n, end: U64_MAX }, type: 'reserved' },
    { range: { start: U64_MAX, end: U64_MAX }, type: 'direct' },
  ),
);

/** Device directory names as sysfs has them: PCI addresses and platform devices (`e0000000.dma`). */
const device = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/),
  fc.stringMatching(/^[0-9a-f]{1,8}\.[a-z][a-z0-9_-]{0,8}$/),
);

const capture: fc.Arbitrary<CapturedGroup[]> = fc
  .uniqueArray(
    fc.record({
      number: fc.bigInt({ min: 0n, max: 4096n }),
      regions: fc.array(region, { maxLength: 6 }),
      devices: fc.uniqueArray(device, { maxLength: 4 }),
    }),
    { maxLength: 6, selector: (g) => g.number },
  )
  .filter((groups) => new Set(groups.flatMap((g) => g.devices)).size === groups.flatMap((g) => g.devices).length); // a device sits in one group

test('a capture sysfs could produce imports to a description that parses and keeps every region', () => {
  fc.assert(
    fc.property(capture, fc.string(), (groups, name) => {
      const text = renderPlatform(platformName(name), groups, 'capture');
      assert.deepEqual(
        parse(text).diagnostics.map((d) => d.message),
        [],
      );
      const host = new AnalysisHost(DOMAINS);
      host.setFile('file:///i.iommu', text);
      const a = host.analyze();
      const findings = a.findings.get('file:///i.iommu')!;
      assert.ok(!findings.some((f) => f.code === 'duplicate-name'), findings.map((f) => f.message).join('\n'));
      const p = [...a.model.platforms.values()][0]!;
      const kept = new Set(p.reserved.map((r) => `${r.type === 'sw-msi' ? 'msi' : r.type} ${hex(r.range!.start)} ${hex(r.range!.end)}`));
      for (const g of groups)
        for (const r of g.regions)
          assert.ok(kept.has(`${r.type} ${hex(r.range.start)} ${hex(r.range.end)}`), `lost ${r.type} ${hex(r.range.start)}`);
      const r = checkInput({ label: 'import', files: { 'i.iommu': text } }, { positions: 4, maxActions: 2, timeLimitMs: 5000 });
      assert.deepEqual(r.problems, [], describe(r.problems));
    }),
    { seed: SEED, numRuns: 40 },
  );
});

test('a reserved_regions file that is not what sysfs prints is a SysfsError, nothing else', () => {
  const line = fc.oneof(
    fc
      .tuple(fc.bigInt({ min: 0n, max: 1n << 68n }), fc.bigInt({ min: 0n, max: 1n << 68n }), fc.constantFrom(...TYPES, 'sw-msi', 'MSI', ''))
      .map(([s, e, t]) => `0x${s.toString(16).padStart(16, '0')} 0x${e.toString(16).padStart(16, '0')} ${t}`),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r'), (lines, eol) => {
      try {
        for (const r of parseReservedRegions(lines.join(eol), 'f')) assert.ok(r.range.start <= r.range.end && r.range.end <= U64_MAX);
      } catch (e) {
        if (!(e instanceof SysfsError)) throw e;
      }
    }),
    { seed: SEED, numRuns: 200 },
  );
});

test('no device name or capture path adds a line of its own: the output declares exactly the captured devices', () => {
  // Anything a file name can hold (no '/' or NUL), weighted towards line breaks, braces and bidi controls.
  const hostile = fc
    .string({
      unit: fc.oneof(
        fc.constantFrom('\n', '\r', '\u2028', '\u202e', '{', '}', ';', '//', ' ', 'guest g on imported', '0000:01:00.0'),
        fc.string({ unit: 'binary', maxLength: 1 }),
      ),
      minLength: 1,
      maxLength: 12,
    })
    .map((s) => s.replace(/[/\0]/g, '_'));
  const groups = fc.uniqueArray(
    fc.record({
      number: fc.bigInt({ min: 0n, max: 64n }),
      regions: fc.array(region, { maxLength: 3 }),
      devices: fc.uniqueArray(hostile, { maxLength: 4 }),
    }),
    { minLength: 1, maxLength: 4, selector: (g) => g.number },
  );
  fc.assert(
    fc.property(groups, fc.string({ unit: 'binary' }), (gs, source) => {
      const text = renderPlatform('imported', gs, source);
      const file = parse(text);
      assert.deepEqual(
        file.diagnostics.map((d) => d.message),
        [],
        text,
      );
      assert.deepEqual(
        file.decls.map((d) => d.kind),
        ['platform'],
        text,
      );
      const devices = file.decls[0]!.kind === 'platform' ? file.decls[0]!.items.filter((i) => i.kind === 'device') : [];
      assert.equal(
        devices.length,
        gs.reduce((n, g) => n + Math.max(1, g.devices.length), 0),
        text,
      );
      assert.equal(new Set(devices.map((d) => d.kind === 'device' && d.name?.text)).size, devices.length, 'a name declared twice');
    }),
    { seed: SEED, numRuns: 300 },
  );
});

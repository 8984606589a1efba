/**
 * Every importer and the exporter against hostile input (fast-check, fixed seeds): real ACPI
 * tables truncated, garbled and with their length fields rewritten; random bytes; command
 * lines and domain XML mutated from real ones. Each either imports, to a description that
 * parses, or fails with its own error (ImportError, LayoutError): no other exception escapes.
 * Layouts the exporter accepts are checked by laying them out again.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse } from '@iommu-lens/grammar';
import { readTables } from '../../server/src/import/acpi';
import { decodeTables, renderAcpiPlatform } from '../../server/src/import/acpiPlatform';
import { ImportError } from '../../server/src/import/errors';
import { LayoutError, layoutOf } from '../../server/src/import/export';
import { renderGuest } from '../../server/src/import/guest';
import { cmdlineNotes } from '../../server/src/import/host';
import { importLibvirt } from '../../server/src/import/libvirt';
import { parseLspci } from '../../server/src/import/pci';
import { importQemuText } from '../../server/src/import/qemuArgs';
import { lowMemory, VIRT_RAM_BASE } from '../../server/src/sim/qemu';
import { analyze } from '../helpers';

const FIX = join(import.meta.dirname, '..', 'fixtures');
const tables = [
  'Server/Hewlett-Packard-ProLiant-DL380e-Gen8-CB05571909C8.DMAR.dat',
  'Notebook/Lenovo-ThinkPad-L14-Gen-3-21C60010BO-405067A82A69.IVRS.dat',
  'Server/Supermicro-H8DGU-57ED146F2C3C.IVRS.dat',
  'Notebook/Dell-XPS-13-7390-6E5EDD6F0EBC.DMAR.dat',
].map((f) => new Uint8Array(readFileSync(join(FIX, 'acpi', f))));
const INV = parseLspci('00:02.0 0300: 8086:3ea0\n00:14.0 0c03: 8086:02ed\n01:00.0 0200: 15b3:1017\n', 'lspci');

/** Runs `fn`; an error of one of `allowed` is a refusal, anything else fails the property. */
function refusesOnly(allowed: (new (...a: never[]) => Error)[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!allowed.some((k) => e instanceof k)) throw e;
    assert.ok(!/\n/.test((e as Error).message), 'one line');
  }
}

/** A table with `edits` applied: bytes set, the end cut, or bytes inserted. */
const edits = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  ),
  { maxLength: 12 },
);

function edited(bytes: Uint8Array, list: { kind: 'set' | 'cut' | 'insert'; at: number; value: number }[]): Uint8Array {
  let b = Array.from(bytes);
  for (const e of list) {
    const at = b.length ? e.at % b.length : 0;
    if (e.kind === 'set') b[at] = e.value;
    else if (e.kind === 'cut') b = b.slice(0, at);
    else b.splice(at, 0, e.value);
  }
  return new Uint8Array(b);
}

test('ACPI tables garbled anyhow: an ImportError or a description that parses', () => {
  fc.assert(
    fc.property(fc.nat({ max: tables.length - 1 }), edits, fc.boolean(), (which, list, withPci) => {
      refusesOnly([ImportError], () => {
        const { decoded } = decodeTables(readTables(edited(tables[which]!, list), 'fuzz.dat'));
        const text = renderAcpiPlatform('p', decoded, withPci ? INV : undefined, ['fuzz.dat']);
        assert.deepEqual(
          parse(text).diagnostics.map((d) => d.message),
          [],
        );
        assert.ok(text.length < 64 * tables[which]!.length + 100_000, `output of ${text.length} characters`);
      });
    }),
    { seed: 2701, numRuns: 600 },
  );
});

test('random bytes and random text as ACPI input: an ImportError', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ maxLength: 300 }).map((s) => new TextEncoder().encode(s)),
      ),
      (bytes) => {
        refusesOnly([ImportError], () => {
          decodeTables(readTables(bytes, 'x'));
        });
      },
    ),
    { seed: 2702, numRuns: 500 },
  );
});

const ARGS = readdirSync(join(FIX, 'guests'))
  .filter((n) => n.endsWith('.args'))
  .map((n) => readFileSync(join(FIX, 'guests', n), 'utf8'));
const XML = readdirSync(join(FIX, 'guests'))
  .filter((n) => n.endsWith('.xml'))
  .map((n) => readFileSync(join(FIX, 'guests', n), 'utf8'));

/** Text with `edits`: characters replaced by ones that matter to the syntax, cut, or doubled. */
const textEdits = fc.array(
  fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('set', 'cut', 'dup'),
    ch: fc.constantFrom("'", '"', '\\', '\n', ',', '=', '{', '}', '<', '>', '/', '&', '-', '0', 'x', ' ', '\u0000', '\u202e'),
  }),
  { maxLength: 10 },
);

function textEdited(s: string, list: { at: number; kind: string; ch: string }[]): string {
  let t = s;
  for (const e of list) {
    const at = t.length ? e.at % t.length : 0;
    t =
      e.kind === 'set'
        ? t.slice(0, at) + e.ch + t.slice(at + 1)
        : e.kind === 'cut'
          ? t.slice(0, at)
          : t.slice(0, at) + t.slice(at, at + 40) + t.slice(at);
  }
  return t;
}

/** The guest rendered must parse and declare no name twice, whatever the source said (names, ids and comments come from outside). */
function rendersClean(g: ReturnType<typeof importQemuText>) {
  const text = renderGuest(g, { name: 'g', platform: 'p', source: 'fuzz' });
  assert.deepEqual(
    parse(text).diagnostics.map((d) => d.message),
    [],
  );
  const a = analyze({ 'p.iommu': 'platform p {\n  arch x86_64\n}\n', 'g.iommu': text });
  assert.deepEqual(
    a.all.filter((f) => f.code === 'duplicate-name').map((f) => f.message),
    [],
  );
}

test('QEMU command lines garbled anyhow: an ImportError or a guest that renders clean', () => {
  fc.assert(
    fc.property(fc.nat({ max: ARGS.length - 1 }), textEdits, (which, list) => {
      refusesOnly([ImportError], () => rendersClean(importQemuText(textEdited(ARGS[which]!, list), 'fuzz.args')));
    }),
    { seed: 2703, numRuns: 600 },
  );
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.constantFrom(
            '-m',
            '-machine',
            '-cpu',
            '-device',
            '-object',
            '-global',
            '-M',
            '--',
            'vfio-pci,host=0000:01:00.0',
            '{"driver":"pc-dimm"}',
            'size=1G,maxmem=',
            'q35,max-ram-below-4g=4G',
            'memory-backend-ram,id=b,size=1G',
            'pc-dimm,memdev=b,id=viommu0',
            'intel-iommu',
            'pc-dimm,memdev=b,id=9',
          ),
          fc.string({ maxLength: 20 }),
        ),
        { maxLength: 12 },
      ),
      (words) => {
        refusesOnly([ImportError], () =>
          rendersClean(importQemuText(['qemu-system-x86_64', ...words].map((w) => `'${w.replace(/'/g, '')}'`).join(' '), 'w')),
        );
      },
    ),
    { seed: 2704, numRuns: 600 },
  );
});

test('domain XML garbled anyhow: an ImportError or a guest that renders clean', () => {
  fc.assert(
    fc.property(fc.nat({ max: XML.length - 1 }), textEdits, (which, list) => {
      refusesOnly([ImportError], () => rendersClean(importLibvirt(textEdited(XML[which]!, list), 'fuzz.xml')));
    }),
    { seed: 2705, numRuns: 600 },
  );
});

test('any kernel command line: notes, never an exception', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.constantFrom('iommu=pt', 'intel_iommu=on,sm_on', 'amd_iommu=off', 'iommu.passthrough=1', '--', '='),
          fc.string({ maxLength: 12 }),
        ),
        { maxLength: 10 },
      ),
      (words) => {
        cmdlineNotes(words.join(' '));
      },
    ),
    { seed: 2706, numRuns: 500 },
  );
});

test('the exporter refuses what QEMU cannot lay out, and what it accepts lays out again to the same RAM', () => {
  const piece = fc.record({
    start: fc.constantFrom(0n, 1n << 32n, VIRT_RAM_BASE, 0x8000_0000n, 5n << 32n, 0x3_0000_0000n),
    size: fc.constantFrom(1n << 30n, 2n << 30n, 0x7000_0000n, 3n << 20n, 8n << 30n),
  });
  fc.assert(
    fc.property(
      fc.constantFrom<'x86_64' | 'arm64'>('x86_64', 'arm64'),
      fc.uniqueArray(piece, { maxLength: 3, selector: (p) => p.start }),
      (arch, pieces) => {
        const text = `platform p {\n  arch ${arch}\n}\nguest g on p {\n${pieces.map((p, i) => `  ram r${i} 0x${p.start.toString(16)} size 0x${p.size.toString(16)}`).join('\n')}\n}\n`;
        const a = analyze({ 'g.iommu': text });
        const g = a.model.guests.get('g')!;
        try {
          const l = layoutOf(g, arch);
          const ranges =
            l.type === 'virt'
              ? [[VIRT_RAM_BASE, l.memory]]
              : [
                  [0n, lowMemory(l.type, l.memory, l.maxRamBelow4g)],
                  [1n << 32n, l.memory - lowMemory(l.type, l.memory, l.maxRamBelow4g)],
                ];
          const laid = [...ranges.filter(([, s]) => s! > 0n), ...l.dimms.map((d) => [d.start, d.size])].map(([s, n]) => `${s}+${n}`).sort();
          assert.deepEqual(laid, pieces.map((p) => `${p.start}+${p.size}`).sort());
        } catch (e) {
          if (!(e instanceof LayoutError)) throw e;
        }
      },
    ),
    { seed: 2707, numRuns: 500 },
  );
});

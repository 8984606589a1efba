/**
 * The ACPI reader and decoders on tables built by hand: IORT (no sample in the corpus, so
 * built from the layout of Arm DEN0049: header, node array, ITS group, SMMUv3, root complex,
 * named component and RMR nodes with their ID mappings), and DMAR/IVRS tables damaged on
 * purpose. A damaged table is an ImportError naming the byte; what can be skipped is a note.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readAcpidump, readTable, readTables } from '../../server/src/import/acpi';
import { decodeTables, renderAcpiPlatform } from '../../server/src/import/acpiPlatform';
import { decodeDmar } from '../../server/src/import/dmar';
import { ImportError } from '../../server/src/import/errors';
import { decodeIort } from '../../server/src/import/iort';
import { decodeIvrs } from '../../server/src/import/ivrs';
import { parseLspci } from '../../server/src/import/pci';
import { formatted } from '../../server/src/cli/importCommands';
import { analyze } from '../helpers';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'acpi');

/** Little-endian bytes of a value of `size` bytes. */
function le(v: number | bigint, size: number): number[] {
  let x = BigInt(v);
  return Array.from({ length: size }, () => {
    const b = Number(x & 0xffn);
    x >>= 8n;
    return b;
  });
}

/** A table: the 36-byte header (checksum made right) and `body`. */
export function table(signature: string, revision: number, body: number[]): Uint8Array {
  const bytes = [...signature].map((c) => c.charCodeAt(0));
  const all = [
    ...bytes,
    ...le(36 + body.length, 4),
    revision,
    0,
    ...[...'OEMID '].map((c) => c.charCodeAt(0)),
    ...[...'TABLEID '].map((c) => c.charCodeAt(0)),
    ...le(1, 4),
    ...le(0, 4),
    ...le(0, 4),
    ...body,
  ];
  const sum = all.reduce((s, b) => (s + b) & 0xff, 0);
  all[9] = (0x100 - sum) & 0xff;
  return new Uint8Array(all);
}

/** An IORT node: type, length, revision, identifier, mappings after `data`. */
function node(type: number, revision: number, data: number[], mappings: number[][] = []): number[] {
  const ref = mappings.length ? 16 + data.length : 0;
  const length = 16 + data.length + mappings.length * 20;
  return [type, ...le(length, 2), revision, ...le(0, 4), ...le(mappings.length, 4), ...le(ref, 4), ...data, ...mappings.flat()];
}

/** An ID mapping: inputs `base`..`base+count-1` to `out` onwards at the node at `ref`. */
const mapping = (base: number, count: number, out: number, ref: number, single = false) => [
  ...le(base, 4),
  ...le(count - 1, 4),
  ...le(out, 4),
  ...le(ref, 4),
  ...le(single ? 1 : 0, 4),
];

/** The IORT of a small Arm server: one ITS, one SMMUv3, a root complex, a NIC named in ACPI, an RMR. */
function iort(): Uint8Array {
  const its = node(0, 1, [...le(1, 4), ...le(0, 4)]);
  const ITS = 48;
  const SMMU = ITS + its.length;
  const smmu = node(4, 4, [
    ...le(0x2b400000n, 8),
    ...le(0, 4),
    ...le(0, 4),
    ...le(0, 8),
    ...le(0, 4),
    ...le(0, 4),
    ...le(0, 4),
    ...le(0, 4),
    ...le(0, 4),
    ...le(0, 4),
    ...le(0, 4),
  ]);
  const RC = SMMU + smmu.length;
  const rc = node(2, 4, [...le(0, 8), ...le(1, 4), ...le(0, 4), 48, ...le(0, 2), 0, ...le(0, 4)], [mapping(0, 0x10000, 0, SMMU)]);
  const NC = RC + rc.length;
  const name = [...'\\_SB.ETH0'].map((c) => c.charCodeAt(0));
  const nc = node(1, 4, [...le(0, 4), ...le(0, 8), 48, ...name, 0, 0], [mapping(0, 1, 0x8000, SMMU, true)]);
  const RMR = NC + nc.length;
  // RMR: flags (remapping permitted), one range, its descriptor after the one ID mapping.
  const rmrData = [...le(1, 4), ...le(1, 4), ...le(16 + 12 + 20, 4)];
  const rmr = [...node(6, 3, rmrData, [mapping(0x100, 1, 0x100, SMMU)]), ...le(0x8000_0000n, 8), ...le(0x10_0000n, 8), ...le(0, 4)];
  rmr[1] = rmr.length & 0xff;
  rmr[2] = rmr.length >> 8;
  void RMR;
  return table('IORT', 5, [...le(5, 4), ...le(48, 4), ...le(0, 4), ...its, ...smmu, ...rc, ...nc, ...rmr]);
}

describe('IORT (hand-built from DEN0049: no sample in the corpus)', () => {
  test('nodes, ID mappings and RMR ranges decode', () => {
    const t = readTable(iort(), 'iort.dat');
    assert.deepEqual(t.notes, []);
    const d = decodeIort(t);
    assert.deepEqual(
      d.nodes.map((n) => n.kind),
      ['its', 'smmuv3', 'root-complex', 'named-component', 'rmr'],
    );
    const [its, smmu, rc, nc, rmr] = d.nodes;
    assert.ok(
      its?.kind === 'its' &&
        smmu?.kind === 'smmuv3' &&
        rc?.kind === 'root-complex' &&
        nc?.kind === 'named-component' &&
        rmr?.kind === 'rmr',
    );
    assert.deepEqual(its.itsIds, [0]);
    assert.equal(smmu.base, 0x2b400000n);
    assert.equal(rc.segment, 0);
    assert.deepEqual(
      rc.mappings.map((m) => [m.inputBase, m.count, m.outputBase, m.outputRef]),
      [[0, 0x10000, 0, smmu.offset]],
    );
    assert.equal(nc.name, '\\_SB.ETH0');
    assert.ok(nc.mappings[0]!.single);
    assert.ok(rmr.remapPermitted);
    assert.deepEqual(
      rmr.ranges.map((r) => [r.base, r.length]),
      [[0x8000_0000n, 0x10_0000n]],
    );
  });

  test('with the PCI devices, each gets its SMMU and stream ID, and the RMR goes to the device with its stream', () => {
    const inv = parseLspci('0000:00:00.0 0604: 1def:e100\n0000:01:00.0 0200: 15b3:1017\n0000:02:00.0 0108: 144d:a808\n', 'lspci.txt');
    const { decoded } = decodeTables([readTable(iort(), 'iort.dat')]);
    const text = formatted(renderAcpiPlatform('arm', decoded, inv, ['iort.dat']));
    assert.match(text, /^ {2}arch arm64$/m);
    assert.match(text, /^ {2}iommu smmu0 smmuv3$/m);
    assert.match(text, /device dev-0000-01-00-0 +\{ bdf 0000:01:00\.0; iommu smmu0 stream 0x100 \}/);
    assert.match(text, /device dev-0000-02-00-0 +\{ bdf 0000:02:00\.0; iommu smmu0 stream 0x200 \}/);
    assert.match(text, /iommu smmu0 stream 0x8000 \} +\/\/ named component \\_SB\.ETH0/);
    assert.match(text, /^ {2}reserved rmr0 direct-relaxable 0x80000000\.\.0x800fffff for dev-0000-01-00-0$/m);
    assert.deepEqual(
      analyze({ 'arm.iommu': text }).all.map((f) => f.code),
      [],
    );
  });

  test('without devices, the RMR goes to every device behind its SMMU, and says so', () => {
    const { decoded } = decodeTables([readTable(iort(), 'iort.dat')]);
    const text = formatted(renderAcpiPlatform('arm', decoded, undefined, ['iort.dat']));
    assert.match(text, /which devices have these streams is not in the tables/);
    assert.match(text, /^ {2}reserved rmr0 direct-relaxable 0x80000000\.\.0x800fffff for smmu0$/m);
    assert.deepEqual(
      analyze({ 'arm.iommu': text }).all.map((f) => f.code),
      [],
    );
  });

  test('a mapping to a byte where no node starts is an error naming the byte', () => {
    const bytes = iort();
    // The root complex's one mapping: its output reference, 12 bytes into the mapping.
    const t = readTable(bytes, 'iort.dat');
    const rc = decodeIort(t).nodes[2]!;
    const ref = rc.mappings[0]!.offset + 12;
    const broken = new Uint8Array(bytes);
    broken[ref] = 0x44;
    assert.throws(
      () => decodeIort(readTable(broken, 'iort.dat')),
      (e: Error) =>
        e instanceof ImportError && e.message.includes(`at byte 0x${ref.toString(16)} (${ref})`) && /where no node starts/.test(e.message),
    );
  });
});

const dmarBytes = () => new Uint8Array(readFileSync(join(FIX, 'Notebook', 'Dell-XPS-13-7390-6E5EDD6F0EBC.DMAR.dat')));

describe('DMAR built by hand: a SIDP (type 6, VT-d 4.1, in Meteor Lake tables)', () => {
  /** A device scope: endpoint on bus 0, the path one (device, function) hop. */
  const endpoint = (dev: number, fn: number) => [1, 8, 0, 0, 0, 0, dev, fn];
  const dmar = () =>
    table('DMAR', 1, [
      38, // the host address width less one: 39 bits
      1, // INTR_REMAP
      ...new Array(10).fill(0),
      // DRHD: type, length, INCLUDE_PCI_ALL, reserved, segment, register base, one scope
      ...le(0, 2),
      ...le(24, 2),
      1,
      0,
      ...le(0, 2),
      ...le(0xfed91000, 8),
      ...endpoint(2, 0),
      // SIDP: type, length, reserved, segment, two scopes
      ...le(6, 2),
      ...le(24, 2),
      ...le(0, 2),
      ...le(0, 2),
      ...endpoint(0x0b, 0),
      ...endpoint(0x12, 0),
    ]);

  test('is decoded with its segment and scopes, not skipped as unknown, and named in the description', () => {
    const d = decodeDmar(readTable(dmar(), 'dmar.dat'));
    assert.deepEqual(
      d.sidps.map((x) => [x.offset, x.segment, x.scopes.map((c) => c.path.map((h) => `${h.device}.${h.fn}`).join('/'))]),
      [[72, 0, ['11.0', '18.0']]],
    );
    assert.deepEqual(d.notes, []);
    const text = formatted(renderAcpiPlatform('mtl', decodeTables([readTable(dmar(), 'dmar.dat')]).decoded, undefined, ['dmar.dat']));
    assert.match(text, /SIDP at byte 72: segment 0, SoC-integrated devices with properties for the OS: 0000:00:0b\.0, 0000:00:12\.0/);
    assert.deepEqual(
      analyze({ 'mtl.iommu': text }).all.map((f) => f.code),
      [],
    );
  });
});

describe('damaged tables', () => {
  test('a table cut anywhere is an ImportError naming a byte, never another exception', () => {
    for (const file of ['Notebook/Dell-XPS-13-7390-6E5EDD6F0EBC.DMAR.dat', 'Server/Supermicro-H8DGU-57ED146F2C3C.IVRS.dat']) {
      const bytes = new Uint8Array(readFileSync(join(FIX, file)));
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(
          () => decodeTables(readTables(bytes.subarray(0, n), 'cut.dat')),
          (e: Error) => e instanceof ImportError && /cut\.dat(:1)?: (at byte|not the text)/.test(e.message),
          `${file} cut at ${n}`,
        );
      }
    }
  });

  test('a subtable of length 0 is an error at its length field (no endless loop)', () => {
    const bytes = dmarBytes();
    bytes[48 + 2] = 0;
    bytes[48 + 3] = 0;
    assert.throws(() => decodeDmar(readTable(bytes, 'dmar.dat')), /dmar\.dat: at byte 0x32 \(50\): a subtable of 0 bytes/);
  });

  test('a device scope shorter than its header is an error at its length', () => {
    const bytes = dmarBytes();
    // The first DRHD's first scope starts 16 bytes into it.
    bytes[48 + 16 + 1] = 3;
    assert.throws(() => decodeDmar(readTable(bytes, 'dmar.dat')), /at byte 0x41 \(65\): a device scope of 3 bytes/);
  });

  test('an unknown subtable is skipped by its length with a note; a bad checksum is a note', () => {
    const t = readTable(dmarBytes(), 'dmar.dat');
    const dmar = decodeDmar(t);
    const bytes = dmarBytes();
    bytes[48] = 9; // the first DRHD becomes subtable type 9
    const t2 = readTable(bytes, 'dmar.dat');
    assert.match(t2.notes.join('\n'), /checksum is off/);
    const d2 = decodeDmar(t2);
    assert.match(d2.notes.join('\n'), /DMAR subtable type 9 at byte 48 \(\d+ bytes\) is not one this importer knows: skipped/);
    assert.equal(d2.drhds.length, dmar.drhds.length - 1);
    assert.deepEqual(d2.rmrrs, dmar.rmrrs);
  });

  test('an IVHD device entry running past its block is an error at the entry', () => {
    const bytes = new Uint8Array(readFileSync(join(FIX, 'Server', 'Supermicro-H8DGU-57ED146F2C3C.IVRS.dat')));
    const t = readTable(bytes, 'ivrs.dat');
    const last = decodeIvrs(t).ivhds[0]!.entries.at(-1)!;
    bytes[last.offset] = 0x80; // a 16-byte entry type where 8 bytes are left
    assert.throws(
      () => decodeIvrs(readTable(bytes, 'ivrs.dat')),
      new RegExp(`at byte 0x${last.offset.toString(16)} \\(${last.offset}\\): device entry type 0x80 of 16 bytes runs past its IVHD`),
    );
  });

  test('acpidump text with a gap between hex lines is an error naming the line', () => {
    const text = 'DMAR @ 0x0\n    0000: 44 4D 41 52 30 00 00 00 01 00 00 00 00 00 00 00  DMAR0...........\n    0020: 00 00 00 00\n';
    assert.throws(
      () => readAcpidump(text, 'dump.txt'),
      /^Error: dump\.txt:3: the hex line starts at offset 0x20 \(32\) but 0x10 \(16\) bytes came before it$/,
    );
    assert.throws(() => readTables(new TextEncoder().encode('hello\n'), 'x.txt'), /x\.txt:1: not the text of acpidump/);
  });
});

/**
 * The ACPI decoders against an independent oracle: for each real table of
 * test/fixtures/acpi (linuxhw/ACPI, CC-BY 4.0, see its README), ACPICA's own decoding
 * (`iasl -d`, the .dsl beside it) is parsed here and compared field by field with ours:
 * DMAR's host address width, every DRHD, RMRR, ATSR, RHSA, ANDD and SATC with its device
 * scopes and paths; IVRS's IVinfo, every IVHD with every device entry, every IVMD. Then each
 * table is imported: the description parses, is formatted, checks clean, and shows every
 * unit and range iasl decodes. The three whole acpidump outputs decode to the same tables.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { readTables } from '../../server/src/import/acpi';
import { decodeTables, renderAcpiPlatform } from '../../server/src/import/acpiPlatform';
import type { DeviceScope, Dmar } from '../../server/src/import/dmar';
import type { DeviceEntry, Ivrs } from '../../server/src/import/ivrs';
import { formatted } from '../../server/src/cli/importCommands';
import { analyze } from '../helpers';

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'acpi');

function files(dir: string, ext: string): string[] {
  return readdirSync(dir)
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
    })
    .sort();
}

/** One `[OFFh DEC LEN] Name : Value` line of an iasl listing. */
interface Field {
  offset: number;
  name: string;
  value: string;
}

/** The fields of a .dsl, in order (the lines iasl adds to decode flags bit by bit carry no offset: left out). */
function dslFields(text: string): Field[] {
  const out: Field[] = [];
  for (const line of text.split('\n')) {
    const m = /^\[([0-9A-F]+)h [0-9]+\s+[0-9A-Fh]+\]\s+(.*?)\s+: (.*)$/.exec(line);
    if (m) out.push({ offset: parseInt(m[1]!, 16), name: m[2]!.replace(/ \(decoded below\)$/, ''), value: m[3]!.trim() });
  }
  return out;
}

const num = (v: string) => BigInt(`0x${v.split(/\s/)[0]}`);
const int = (v: string) => Number(num(v));

/** Records: a run of fields started by a line named one of `starts`. */
function records(fields: Field[], starts: readonly string[]): Field[][] {
  const out: Field[][] = [];
  for (const f of fields) {
    if (starts.includes(f.name)) out.push([f]);
    else out.at(-1)?.push(f);
  }
  return out;
}

const get = (r: Field[], name: string) => r.find((f) => f.name === name)?.value;
const getAll = (r: Field[], name: string) => r.filter((f) => f.name === name).map((f) => f.value);

/** DMAR subtables and their scopes as iasl lists them. */
function oracleDmar(fields: Field[]) {
  const haw = int(get(fields, 'Host Address Width')!) + 1;
  const subtables = records(
    fields.filter((f) => f.offset >= 0x30),
    ['Subtable Type'],
  ).map((r) => {
    const scopes = records(r.slice(1), ['Device Scope Type']).map((s) => ({
      offset: s[0]!.offset,
      type: int(s[0]!.value),
      enumerationId: int(get(s, 'Enumeration ID')!),
      startBus: int(get(s, 'PCI Bus Number')!),
      path: getAll(s, 'PCI Path').map((p) => p.split(',').map((x) => parseInt(x, 16))),
    }));
    return { offset: r[0]!.offset, type: int(r[0]!.value), fields: r, scopes };
  });
  return { haw, subtables };
}

const ourScopes = (s: readonly DeviceScope[]) =>
  s.map((x) => ({
    offset: x.offset,
    type: x.type,
    enumerationId: x.enumerationId,
    startBus: x.startBus,
    path: x.path.map((h) => [h.device, h.fn]),
  }));

function compareDmar(dmar: Dmar, dsl: string, name: string): { units: bigint[]; ranges: [bigint, bigint][] } {
  const o = oracleDmar(dslFields(dsl));
  assert.equal(dmar.haw, o.haw, `${name}: host address width`);
  const units: bigint[] = [];
  const ranges: [bigint, bigint][] = [];
  const ours = [
    ...dmar.drhds.map((d) => ({ offset: d.offset, type: 0 })),
    ...dmar.rmrrs.map((d) => ({ offset: d.offset, type: 1 })),
    ...dmar.atsrs.map((d) => ({ offset: d.offset, type: 2 })),
    ...dmar.rhsas.map((d) => ({ offset: d.offset, type: 3 })),
    ...dmar.andds.map((d) => ({ offset: d.offset, type: 4 })),
    ...dmar.satcs.map((d) => ({ offset: d.offset, type: 5 })),
  ].sort((a, b) => a.offset - b.offset);
  assert.deepEqual(
    ours,
    o.subtables.map((s) => ({ offset: s.offset, type: s.type })).filter((s) => s.type <= 5),
    `${name}: subtables`,
  );
  for (const s of o.subtables) {
    const at = `${name}: subtable at ${s.offset}`;
    if (s.type === 0) {
      const d = dmar.drhds.find((x) => x.offset === s.offset)!;
      assert.equal(d.flags, int(get(s.fields, 'Flags')!), at);
      assert.equal(d.includePciAll, (d.flags & 1) === 1, at);
      assert.equal(d.segment, int(get(s.fields, 'PCI Segment Number')!), at);
      assert.equal(d.base, num(get(s.fields, 'Register Base Address')!), at);
      assert.deepEqual(ourScopes(d.scopes), s.scopes, at);
      units.push(d.base);
    } else if (s.type === 1) {
      const r = dmar.rmrrs.find((x) => x.offset === s.offset)!;
      assert.equal(r.segment, int(get(s.fields, 'PCI Segment Number')!), at);
      assert.equal(r.base, num(get(s.fields, 'Base Address')!), at);
      assert.equal(r.limit, num(get(s.fields, 'End Address (limit)')!), at);
      assert.deepEqual(ourScopes(r.scopes), s.scopes, at);
      ranges.push([r.base, r.limit]);
    } else if (s.type === 2) {
      const a = dmar.atsrs.find((x) => x.offset === s.offset)!;
      assert.equal(a.allPorts, (int(get(s.fields, 'Flags')!) & 1) === 1, at);
      assert.equal(a.segment, int(get(s.fields, 'PCI Segment Number')!), at);
      assert.deepEqual(ourScopes(a.scopes), s.scopes, at);
    } else if (s.type === 3) {
      const h = dmar.rhsas.find((x) => x.offset === s.offset)!;
      assert.equal(h.base, num(get(s.fields, 'Base Address')!), at);
      assert.equal(h.proximityDomain, int(get(s.fields, 'Proximity Domain')!), at);
    } else if (s.type === 4) {
      const n = dmar.andds.find((x) => x.offset === s.offset)!;
      assert.equal(n.deviceNumber, int(get(s.fields, 'Device Number')!), at);
      assert.equal(`"${n.name}"`, get(s.fields, 'Device Name'), at);
    } else if (s.type === 5) {
      const c = dmar.satcs.find((x) => x.offset === s.offset)!;
      assert.equal(c.segment, int(get(s.fields, 'PCI Segment Number')!), at);
      assert.deepEqual(ourScopes(c.scopes), s.scopes, at);
    }
  }
  return { units, ranges };
}

/** Our entries as the raw list iasl prints: a range back as its start entry and its end entry; pads left out. */
function rawEntries(entries: readonly DeviceEntry[]) {
  return entries.flatMap((e) => {
    const first = { offset: e.offset, type: e.type, id: e.first, data: e.dataSetting };
    return e.first === e.last && !['range', 'alias-range', 'extended-range'].includes(e.kind) ? [first] : [first, { type: 4, id: e.last }];
  });
}

function compareIvrs(ivrs: Ivrs, dsl: string, name: string): { units: bigint[]; ranges: [bigint, bigint][] } {
  const fields = dslFields(dsl);
  assert.equal(ivrs.info.raw, int(fields.find((f) => f.offset === 0x24)!.value), `${name}: IVinfo`);
  const units: bigint[] = [];
  const ranges: [bigint, bigint][] = [];
  // iasl starts each IVHD, IVMD and device entry with "Subtable Type" (older versions: "Entry Type" for entries).
  const recs = records(
    fields.filter((f) => f.offset >= 0x30),
    ['Subtable Type', 'Entry Type'],
  );
  let block: { type: number; entries: Field[][] } | undefined;
  const blocks: { offset: number; type: number; fields: Field[]; entries: Field[][] }[] = [];
  for (const r of recs) {
    const type = int(r[0]!.value);
    const isBlock =
      r[0]!.name === 'Subtable Type' && [0x10, 0x11, 0x40, 0x20, 0x21, 0x22].includes(type) && r.some((f) => f.name === 'Length');
    if (isBlock) {
      block = { type, entries: [] };
      blocks.push({ offset: r[0]!.offset, type, fields: r, entries: block.entries });
    } else block?.entries.push(r);
  }
  const known = [
    ...ivrs.ivhds.map((h) => ({ offset: h.offset, type: h.type })),
    ...ivrs.ivmds.map((m) => ({ offset: m.offset, type: m.type })),
  ].sort((a, b) => a.offset - b.offset);
  assert.deepEqual(
    known,
    blocks.map((b) => ({ offset: b.offset, type: b.type })),
    `${name}: IVHD and IVMD blocks`,
  );
  for (const b of blocks) {
    const at = `${name}: block at ${b.offset}`;
    if (b.type >= 0x20 && b.type <= 0x22) {
      const m = ivrs.ivmds.find((x) => x.offset === b.offset)!;
      assert.equal(m.flags, int(get(b.fields, 'Flags')!), at);
      assert.equal(m.deviceId, int(get(b.fields, 'DeviceId')!), at);
      assert.equal(m.auxData, int(get(b.fields, 'Auxiliary Data')!), at);
      assert.equal(m.start, num(get(b.fields, 'Start Address')!), at);
      assert.equal(m.length, num(get(b.fields, 'Memory Length')!), at);
      ranges.push([m.start, m.start + m.length - 1n]);
      continue;
    }
    const h = ivrs.ivhds.find((x) => x.offset === b.offset)!;
    assert.equal(h.flags, int(get(b.fields, 'Flags')!), at);
    assert.equal(h.deviceId, int(get(b.fields, 'DeviceId')!), at);
    units.push(h.base);
    // An old iasl that does not know the block type stops at its header: only that much to compare.
    if (get(b.fields, 'Base Address') === undefined) continue;
    assert.equal(h.base, num(get(b.fields, 'Base Address')!), at);
    assert.equal(h.segment, int(get(b.fields, 'PCI Segment Group')!), at);
    const theirs = b.entries
      .filter((e) => int(e[0]!.value) !== 0)
      .map((e) => {
        const type = int(e[0]!.value);
        const id = int(get(e, 'Device ID')!);
        return type === 4 ? { type, id } : { offset: e[0]!.offset, type, id, data: int(get(e, 'Data Setting')!) };
      });
    assert.deepEqual(rawEntries(h.entries), theirs, `${at}: device entries`);
    for (const e of h.entries) {
      const r = b.entries.find((x) => x[0]!.offset === e.offset)!;
      if (e.kind === 'alias' || e.kind === 'alias-range') assert.equal(e.alias, int(get(r, 'Source Used Device ID')!), at);
      if (e.kind === 'special') {
        assert.equal(e.handle, int(get(r, 'Handle')!), at);
        assert.equal(e.alias, int(get(r, 'Source Used Device ID')!), at);
        assert.equal(e.variety, int(get(r, 'Variety')!), at);
      }
      if (e.kind === 'acpi-hid') {
        assert.equal(`"${e.hid}"`, get(r, 'ACPI HID'), at);
        // iasl prints no UID when its length is 0.
        if (get(r, 'UID') !== undefined) assert.equal(`"${e.uid}"`, get(r, 'UID'), at);
        else assert.equal(e.uid, '', at);
      }
    }
  }
  return { units, ranges };
}

describe('every corpus table decodes as iasl decodes it, and imports clean', () => {
  const tables = files(CORPUS, '.dat');
  test('the corpus is all there', () => assert.equal(tables.length, 62));
  for (const dat of tables) {
    const name = relative(CORPUS, dat);
    test(name, () => {
      const [table, ...more] = readTables(new Uint8Array(readFileSync(dat)), name);
      assert.equal(more.length, 0);
      const { decoded } = decodeTables([table!]);
      const d = decoded[0]!;
      const dsl = readFileSync(dat.replace(/\.dat$/, '.dsl'), 'latin1');
      const seen =
        d.kind === 'DMAR' ? compareDmar(d.dmar, dsl, name) : d.kind === 'IVRS' ? compareIvrs(d.ivrs, dsl, name) : assert.fail('IORT');
      assert.ok(seen.units.length > 0, `${name}: iasl decodes no unit`);
      const text = formatted(renderAcpiPlatform('host', decoded, undefined, [name]));
      assert.equal(formatted(text), text, 'formats cleanly');
      const a = analyze({ 'host.iommu': text });
      assert.deepEqual(
        a.all.map((f) => `${f.code}: ${f.message}`),
        [],
        `${name} checks clean`,
      );
      for (const u of seen.units)
        assert.ok(text.includes(`registers at 0x${u.toString(16)}`), `${name}: unit at 0x${u.toString(16)} is shown`);
      for (const [s, e] of seen.ranges)
        assert.ok(
          text.includes(`0x${s.toString(16)}..0x${e.toString(16)}`) || (e < s && text.includes(`0x${s.toString(16)}`)),
          `${name}: range 0x${s.toString(16)}..0x${e.toString(16)} is shown`,
        );
    });
  }
});

describe('a whole acpidump decodes to the same tables as the binary files', () => {
  for (const dump of files(CORPUS, '.acpidump')) {
    test(relative(CORPUS, dump), () => {
      const tables = readTables(new Uint8Array(readFileSync(dump)), dump);
      assert.ok(tables.length >= 1);
      for (const t of tables) {
        const dat = readFileSync(dump.replace(/\.acpidump$/, `.${t.signature}.dat`));
        assert.deepEqual(Buffer.from(t.bytes.data), dat, `${t.signature} bytes`);
        assert.deepEqual(t.notes, []);
      }
    });
  }
});

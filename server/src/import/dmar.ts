/**
 * The DMAR table (Intel VT-d specification, chapter 8): the host address width, the
 * remapping units (DRHD) and the devices in their scope, the reserved memory regions
 * (RMRR) and the devices that need them, ATSR, RHSA, ANDD, SATC and SIDP. Unknown subtables are
 * skipped by their length with a note; anything that does not fit is an ImportError at
 * its byte offset.
 */
import type { AcpiTable } from './acpi';
import { HEADER_SIZE } from './acpi';
import type { Bytes } from './bytes';

/** One hop of a scope's path: the device and function on the bus the previous hop leads to. */
export interface Hop {
  device: number;
  fn: number;
}

export type ScopeKind = 'endpoint' | 'bridge' | 'ioapic' | 'hpet' | 'acpi' | 'unknown';

const SCOPE_KINDS: Record<number, ScopeKind> = { 1: 'endpoint', 2: 'bridge', 3: 'ioapic', 4: 'hpet', 5: 'acpi' };

/**
 * A device scope entry: a start bus and a path of (device, function) hops. The first hop
 * is on `startBus`; each later hop is on the secondary bus of the bridge before it, which
 * only the bridge's configuration space says.
 */
export interface DeviceScope {
  offset: number;
  type: number;
  kind: ScopeKind;
  enumerationId: number;
  startBus: number;
  path: Hop[];
}

export interface Drhd {
  offset: number;
  flags: number;
  includePciAll: boolean;
  segment: number;
  base: bigint;
  scopes: DeviceScope[];
}
export interface Rmrr {
  offset: number;
  segment: number;
  base: bigint;
  limit: bigint;
  scopes: DeviceScope[];
}
export interface Atsr {
  offset: number;
  allPorts: boolean;
  segment: number;
  scopes: DeviceScope[];
}
export interface Rhsa {
  offset: number;
  base: bigint;
  proximityDomain: number;
}
export interface Andd {
  offset: number;
  deviceNumber: number;
  name: string;
}
export interface Satc {
  offset: number;
  atcRequired: boolean;
  segment: number;
  scopes: DeviceScope[];
}

/** SoC Integrated Device Property reporting (VT-d 4.1, type 6): devices with properties for the OS. */
export interface Sidp {
  offset: number;
  segment: number;
  scopes: DeviceScope[];
}

export interface Dmar {
  /** Host address width in bits: the table's field plus one. */
  haw: number;
  flags: number;
  drhds: Drhd[];
  rmrrs: Rmrr[];
  atsrs: Atsr[];
  rhsas: Rhsa[];
  andds: Andd[];
  satcs: Satc[];
  sidps: Sidp[];
  notes: string[];
}

/** The device scope entries from `start` to `end` (the rest of a subtable). */
function scopes(b: Bytes, start: number, end: number, notes: string[]): DeviceScope[] {
  const out: DeviceScope[] = [];
  let at = start;
  while (at < end) {
    const type = b.u8(at, 'a device scope type');
    const length = b.u8(at + 1, 'a device scope length');
    if (length < 6) b.fail(at + 1, `a device scope of ${length} bytes: at least 6 (type, length, flags, enumeration ID, start bus)`);
    if (at + length > end) b.fail(at + 1, `a device scope of ${length} bytes runs past its subtable, which ends at ${end}`);
    if ((length - 6) % 2 !== 0) b.fail(at + 1, `a device scope of ${length} bytes: its path must be whole (device, function) pairs`);
    const path: Hop[] = [];
    for (let p = at + 6; p < at + length; p += 2) path.push({ device: b.u8(p, 'a path device'), fn: b.u8(p + 1, 'a path function') });
    const kind = SCOPE_KINDS[type] ?? 'unknown';
    if (kind === 'unknown') notes.push(`device scope type ${type} at byte ${at} is not one the VT-d specification defines: kept, not used`);
    if (path.length === 0 && kind !== 'unknown') notes.push(`the device scope at byte ${at} has an empty path: it names no device`);
    out.push({ offset: at, type, kind, enumerationId: b.u8(at + 4, 'the enumeration ID'), startBus: b.u8(at + 5, 'the start bus'), path });
    at += length;
  }
  return out;
}

/**
 * The reader of each subtable type the VT-d specification defines, by type: it checks that the
 * subtable's fixed fields fit (the subtable at `at` ends at `end`) and adds it to `dmar`.
 */
const SUBTABLES: Record<number, (b: Bytes, at: number, end: number, dmar: Dmar) => void> = {
  0: (b, at, end, dmar) => {
    b.need(at, 16, 'a DRHD');
    const flags = b.u8(at + 4, 'the DRHD flags');
    dmar.drhds.push({
      offset: at,
      flags,
      includePciAll: (flags & 1) !== 0,
      segment: b.u16(at + 6, 'the segment'),
      base: b.u64(at + 8, 'the register base'),
      scopes: scopes(b, at + 16, end, dmar.notes),
    });
  },
  1: (b, at, end, dmar) => {
    b.need(at, 24, 'an RMRR');
    dmar.rmrrs.push({
      offset: at,
      segment: b.u16(at + 6, 'the segment'),
      base: b.u64(at + 8, 'the RMRR base'),
      limit: b.u64(at + 16, 'the RMRR limit'),
      scopes: scopes(b, at + 24, end, dmar.notes),
    });
  },
  2: (b, at, end, dmar) => {
    b.need(at, 8, 'an ATSR');
    dmar.atsrs.push({
      offset: at,
      allPorts: (b.u8(at + 4, 'the ATSR flags') & 1) !== 0,
      segment: b.u16(at + 6, 'the segment'),
      scopes: scopes(b, at + 8, end, dmar.notes),
    });
  },
  3: (b, at, _end, dmar) => {
    b.need(at, 20, 'an RHSA');
    dmar.rhsas.push({ offset: at, base: b.u64(at + 8, 'the register base'), proximityDomain: b.u32(at + 16, 'the proximity domain') });
  },
  4: (b, at, end, dmar) => {
    b.need(at, 8, 'an ANDD');
    dmar.andds.push({
      offset: at,
      deviceNumber: b.u8(at + 7, 'the ACPI device number'),
      name: b.ascii(at + 8, end - at - 8, 'the object name'),
    });
  },
  5: (b, at, end, dmar) => {
    b.need(at, 8, 'a SATC');
    dmar.satcs.push({
      offset: at,
      atcRequired: (b.u8(at + 4, 'the SATC flags') & 1) !== 0,
      segment: b.u16(at + 6, 'the segment'),
      scopes: scopes(b, at + 8, end, dmar.notes),
    });
  },
  6: (b, at, end, dmar) => {
    // Type, length, 2 reserved bytes, the segment, then device scopes.
    b.need(at, 8, 'a SIDP');
    dmar.sidps.push({ offset: at, segment: b.u16(at + 6, 'the segment'), scopes: scopes(b, at + 8, end, dmar.notes) });
  },
};

export function decodeDmar(table: AcpiTable): Dmar {
  const b = table.bytes;
  const notes: string[] = [];
  const dmar: Dmar = {
    haw: b.u8(HEADER_SIZE, 'the host address width') + 1,
    flags: b.u8(HEADER_SIZE + 1, 'the flags'),
    drhds: [],
    rmrrs: [],
    atsrs: [],
    rhsas: [],
    andds: [],
    satcs: [],
    sidps: [],
    notes,
  };
  // The header is followed by the width, the flags and 10 reserved bytes: subtables from 48.
  b.need(HEADER_SIZE, 12, 'the DMAR fields after the header');
  let at = HEADER_SIZE + 12;
  while (at < b.limit) {
    const type = b.u16(at, 'a subtable type');
    const length = b.u16(at + 2, 'a subtable length');
    if (length < 4) b.fail(at + 2, `a subtable of ${length} bytes: at least 4 (type and length)`);
    if (at + length > b.limit) b.fail(at + 2, `subtable type ${type} of ${length} bytes runs past the end of the table (${b.limit})`);
    const end = at + length;
    const read = SUBTABLES[type];
    if (read) read(b, at, end, dmar);
    else notes.push(`DMAR subtable type ${type} at byte ${at} (${length} bytes) is not one this importer knows: skipped`);
    at = end;
  }
  return dmar;
}

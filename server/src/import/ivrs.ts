/**
 * The IVRS table (AMD I/O Virtualization Technology specification, "IVRS"): IVinfo, the
 * IOMMU definition blocks (IVHD types 10h, 11h and 40h) with their device entries, and the
 * memory definition blocks (IVMD 20h, 21h, 22h). A device ID is a 16-bit requester ID
 * (bus << 8 | device << 3 | function) in the block's PCI segment.
 */
import type { AcpiTable } from './acpi';
import { HEADER_SIZE } from './acpi';
import type { Bytes } from './bytes';

export interface IvInfo {
  raw: number;
  efrSupported: boolean;
  /** Guest virtual address size in bits (0 when the field is 0, i.e. not given). */
  gvaSize: number;
  /** Physical and virtual address sizes in bits. */
  paSize: number;
  vaSize: number;
  htAtsReserved: boolean;
}

export type EntryKind =
  | 'pad'
  | 'all'
  | 'select'
  | 'range'
  | 'alias'
  | 'alias-range'
  | 'extended'
  | 'extended-range'
  | 'special'
  | 'acpi-hid'
  | 'unknown';

/**
 * One device entry, with a start-of-range entry and its end-of-range entry taken together
 * (`first`..`last`; both equal for a single device).
 */
export interface DeviceEntry {
  offset: number;
  type: number;
  kind: EntryKind;
  first: number;
  last: number;
  dataSetting: number;
  /** Alias entries: the requester ID the devices' DMA arrives with. */
  alias?: number;
  /** Special entries: the IOAPIC or HPET handle, and its kind (1 IOAPIC, 2 HPET). */
  handle?: number;
  variety?: number;
  /** ACPI HID entries. */
  hid?: string;
  uid?: string;
  /** Extended entries' extra setting. */
  extended?: number;
}

export interface Ivhd {
  offset: number;
  type: number;
  flags: number;
  /** The IOMMU's own requester ID. */
  deviceId: number;
  capabilityOffset: number;
  base: bigint;
  segment: number;
  info: number;
  /** Type 10h: IOMMU feature reporting; 11h and 40h: IOMMU attributes. */
  attributes: number;
  /** Types 11h and 40h: the image of the Extended Feature Register. */
  efr?: bigint;
  entries: DeviceEntry[];
}

export interface Ivmd {
  offset: number;
  type: number;
  flags: number;
  unity: boolean;
  readable: boolean;
  writeable: boolean;
  exclusion: boolean;
  /** 20h: every device; 21h: this one; 22h: from deviceId to auxData; in `segment` (a field that was reserved before IVRS revision 2). */
  deviceId: number;
  segment: number;
  auxData: number;
  start: bigint;
  length: bigint;
}

export interface Ivrs {
  info: IvInfo;
  ivhds: Ivhd[];
  ivmds: Ivmd[];
  notes: string[];
}

/** `bb:dd.f` of a requester ID. */
export function requesterId(id: number): string {
  const h = (v: number) => v.toString(16).padStart(2, '0');
  return `${h(id >> 8)}:${h((id >> 3) & 0x1f)}.${id & 7}`;
}

/** The length of a device entry of `type` (the kernel's `ivhd_entry_length`, spec's type bits 7:6). */
function entryLength(b: Bytes, at: number, type: number): number {
  if (type === 0xf0) return 22 + b.u8(at + 21, 'the UID length of an ACPI HID entry');
  return 4 << (type >> 6);
}

const RANGE_STARTS: Record<number, EntryKind> = { 3: 'range', 67: 'alias-range', 71: 'extended-range' };
const SINGLES: Record<number, EntryKind> = {
  0: 'pad',
  1: 'all',
  2: 'select',
  66: 'alias',
  70: 'extended',
  72: 'special',
  240: 'acpi-hid',
};

function entries(b: Bytes, start: number, end: number, notes: string[]): DeviceEntry[] {
  const out: DeviceEntry[] = [];
  let open: DeviceEntry | undefined;
  let at = start;
  while (at < end) {
    const type = b.u8(at, 'a device entry type');
    const length = entryLength(b, at, type);
    if (at + length > end)
      b.fail(at, `device entry type 0x${type.toString(16)} of ${length} bytes runs past its IVHD, which ends at ${end}`);
    const id = b.u16(at + 1, 'the device ID');
    const data = b.u8(at + 3, 'the data setting');
    const e: DeviceEntry = {
      offset: at,
      type,
      kind: RANGE_STARTS[type] ?? SINGLES[type] ?? 'unknown',
      first: id,
      last: id,
      dataSetting: data,
    };
    if (type === 0x42 || type === 0x43) e.alias = b.u16(at + 5, 'the alias device ID');
    if (type === 0x46 || type === 0x47) e.extended = b.u32(at + 4, 'the extended data');
    if (type === 0x48) {
      e.handle = b.u8(at + 4, 'the handle');
      e.alias = b.u16(at + 5, 'the source device ID');
      e.variety = b.u8(at + 7, 'the variety');
    }
    if (type === 0xf0) {
      e.hid = b.ascii(at + 4, 8, 'the ACPI HID');
      e.uid = b.ascii(at + 22, length - 22, 'the UID');
    }
    if (type === 0x04) {
      if (!open) notes.push(`an end-of-range entry at byte ${at} follows no start of range: ignored`);
      else if (id < open.first)
        notes.push(`the range that starts at byte ${open.offset} ends below its start (${requesterId(id)}): ignored`);
      else {
        open.last = id;
        out.push(open);
      }
      open = undefined;
    } else {
      if (open) notes.push(`the start of range at byte ${open.offset} has no end-of-range entry: ignored`);
      open = undefined;
      if (e.kind === 'unknown')
        notes.push(`device entry type 0x${type.toString(16)} at byte ${at} (${length} bytes) is not one this importer knows: skipped`);
      else if (RANGE_STARTS[type]) open = e;
      else if (e.kind !== 'pad') out.push(e);
    }
    at += length;
  }
  if (open) notes.push(`the start of range at byte ${open.offset} has no end-of-range entry: ignored`);
  return out;
}

export function decodeIvrs(table: AcpiTable): Ivrs {
  const b = table.bytes;
  const notes: string[] = [];
  const raw = b.u32(HEADER_SIZE, 'IVinfo');
  b.need(HEADER_SIZE, 12, 'IVinfo and the reserved bytes after it');
  const info: IvInfo = {
    raw,
    efrSupported: (raw & 1) !== 0,
    gvaSize: [0, 0, 48, 57][(raw >> 5) & 7] ?? 0,
    paSize: (raw >> 8) & 0x7f,
    vaSize: (raw >> 15) & 0x7f,
    htAtsReserved: ((raw >> 22) & 1) !== 0,
  };
  const ivrs: Ivrs = { info, ivhds: [], ivmds: [], notes };
  let at = HEADER_SIZE + 12;
  while (at < b.limit) {
    const type = b.u8(at, 'a subtable type');
    const length = b.u16(at + 2, 'a subtable length');
    if (length < 4) b.fail(at + 2, `a subtable of ${length} bytes: at least 4 (type, flags and length)`);
    if (at + length > b.limit)
      b.fail(at + 2, `subtable type 0x${type.toString(16)} of ${length} bytes runs past the end of the table (${b.limit})`);
    const end = at + length;
    if (type === 0x10 || type === 0x11 || type === 0x40) {
      const header = type === 0x10 ? 24 : 40;
      b.need(at, header, `an IVHD of type ${type.toString(16)}h`);
      if (length < header) b.fail(at + 2, `an IVHD of type ${type.toString(16)}h of ${length} bytes: its header alone is ${header}`);
      ivrs.ivhds.push({
        offset: at,
        type,
        flags: b.u8(at + 1, 'the IVHD flags'),
        deviceId: b.u16(at + 4, 'the IOMMU device ID'),
        capabilityOffset: b.u16(at + 6, 'the capability offset'),
        base: b.u64(at + 8, 'the IOMMU base address'),
        segment: b.u16(at + 16, 'the PCI segment'),
        info: b.u16(at + 18, 'the IOMMU info'),
        attributes: b.u32(at + 20, 'the attributes'),
        efr: type === 0x10 ? undefined : b.u64(at + 24, 'the EFR image'),
        entries: entries(b, at + header, end, notes),
      });
    } else if (type === 0x20 || type === 0x21 || type === 0x22) {
      b.need(at, 32, `an IVMD of type ${type.toString(16)}h`);
      if (length < 32) b.fail(at + 2, `an IVMD of ${length} bytes: it has 32`);
      const flags = b.u8(at + 1, 'the IVMD flags');
      ivrs.ivmds.push({
        offset: at,
        type,
        flags,
        unity: (flags & 1) !== 0,
        readable: (flags & 2) !== 0,
        writeable: (flags & 4) !== 0,
        exclusion: (flags & 8) !== 0,
        deviceId: b.u16(at + 4, 'the device ID'),
        auxData: b.u16(at + 6, 'the auxiliary data'),
        segment: b.u16(at + 8, 'the PCI segment'),
        start: b.u64(at + 16, 'the start address'),
        length: b.u64(at + 24, 'the memory length'),
      });
    } else {
      notes.push(`IVRS subtable type 0x${type.toString(16)} at byte ${at} (${length} bytes) is not one this importer knows: skipped`);
    }
    at = end;
  }
  return ivrs;
}

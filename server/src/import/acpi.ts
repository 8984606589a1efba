/**
 * ACPI tables as the host gives them: one binary table (`/sys/firmware/acpi/tables/DMAR`,
 * `acpidump -b`), or the text of `acpidump` (every table as a hex dump). The standard header
 * is checked (signature, length, checksum) before any decoder reads a subtable.
 */
import { Bytes } from './bytes';
import { escapeText } from '../cli/escape';
import { byteError, ImportError, lineError, offsetText } from './errors';

/** The tables an importer decodes. */
export const IOMMU_SIGNATURES = ['DMAR', 'IVRS', 'IORT'] as const;
export type IommuSignature = (typeof IOMMU_SIGNATURES)[number];

export const HEADER_SIZE = 36;

export interface AcpiTable {
  signature: string;
  revision: number;
  oemId: string;
  oemTableId: string;
  oemRevision: number;
  /** The table's bytes, exactly its header's length. */
  bytes: Bytes;
  /** Where it came from, for messages: a file, or a file and the table's place in an acpidump. */
  where: string;
  /** What was off without stopping the decoding (a checksum, bytes past the length). */
  notes: string[];
}

/** The 8-bit sum of the bytes, which a valid table makes 0. */
function checksum(data: Uint8Array): number {
  let sum = 0;
  for (const b of data) sum = (sum + b) & 0xff;
  return sum;
}

/** One binary table: its header checked against the bytes there are. */
export function readTable(data: Uint8Array, where: string): AcpiTable {
  const all = new Bytes(data, where);
  if (data.length < HEADER_SIZE)
    all.fail(0, `${data.length} bytes, shorter than the ${HEADER_SIZE}-byte ACPI table header: truncated or not a table`);
  const signature = all.ascii(0, 4, 'the signature');
  if (!/^[A-Z0-9_]{4}$/.test(signature)) all.fail(0, 'no ACPI signature (four capital letters, digits or _): not a binary ACPI table');
  const length = all.u32(4, 'the table length');
  if (length < HEADER_SIZE) all.fail(4, `the table length ${length} is shorter than the header`);
  if (length > data.length) all.fail(4, `the header says ${length} bytes but there are ${data.length}: truncated`);
  const notes: string[] = [];
  if (length < data.length) notes.push(`${data.length - length} bytes after the table's length (${length}) were ignored`);
  const bytes = new Bytes(data.subarray(0, length), where);
  const sum = checksum(bytes.data);
  if (sum !== 0) {
    // Linux warns ("Incorrect checksum in table") and uses the table all the same; so do we.
    notes.push(`the checksum is off (the bytes sum to 0x${sum.toString(16)}, not 0): the kernel warns and uses the table anyway`);
  }
  return {
    signature,
    revision: bytes.u8(8, 'the revision'),
    oemId: bytes.ascii(10, 6, 'the OEM ID').trimEnd(),
    oemTableId: bytes.ascii(16, 8, 'the OEM table ID').trimEnd(),
    oemRevision: bytes.u32(24, 'the OEM revision'),
    bytes,
    where,
    notes,
  };
}

/** Whether `data` starts like a binary table of one of `IOMMU_SIGNATURES` (else it may be acpidump text). */
export function looksBinary(data: Uint8Array): boolean {
  if (data.length < 4) return false;
  const sig = String.fromCharCode(data[0]!, data[1]!, data[2]!, data[3]!);
  return (IOMMU_SIGNATURES as readonly string[]).includes(sig);
}

const TABLE_LINE = /^([A-Za-z0-9_!]{4}) @ 0x[0-9A-Fa-f]+\s*$/;
const DATA_LINE = /^\s*([0-9A-Fa-f]{4,8}): ((?:[0-9A-Fa-f]{2} ){0,15}[0-9A-Fa-f]{2})(?: |$)/;

/**
 * The tables of `wanted` in the text of `acpidump` (the others are skipped unread). Each
 * table's hex lines must follow one another without a gap; a line that breaks a table is an
 * error naming its line.
 */
export function readAcpidump(text: string, where: string, wanted: readonly string[] = IOMMU_SIGNATURES): AcpiTable[] {
  const out: AcpiTable[] = [];
  let current: { signature: string; line: number; chunks: number[][]; size: number } | undefined;
  const finish = () => {
    if (!current) return;
    const data = new Uint8Array(current.size);
    let at = 0;
    for (const c of current.chunks) {
      data.set(c, at);
      at += c.length;
    }
    out.push(readTable(data, `${where} (${current.signature} at line ${current.line})`));
    current = undefined;
  };
  let skipping = false;
  let seenTable = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const head = TABLE_LINE.exec(line);
    if (head) {
      finish();
      seenTable = true;
      skipping = !wanted.includes(head[1]!);
      if (!skipping) current = { signature: head[1]!, line: i + 1, chunks: [], size: 0 };
      continue;
    }
    if (!line.trim()) continue;
    if (skipping) continue;
    if (!current)
      throw lineError(
        where,
        i + 1,
        seenTable ? 'a line outside any table' : "not the text of acpidump (expected 'SIG @ 0xADDRESS' then hex lines)",
      );
    const m = DATA_LINE.exec(line);
    if (!m) throw lineError(where, i + 1, `not a hex line of the ${current.signature} table`);
    const offset = parseInt(m[1]!, 16);
    if (offset !== current.size)
      throw lineError(
        where,
        i + 1,
        `the hex line starts at offset ${offsetText(offset)} but ${offsetText(current.size)} bytes came before it`,
      );
    const chunk = m[2]!.split(' ').map((h) => parseInt(h, 16));
    current.chunks.push(chunk);
    current.size += chunk.length;
  }
  finish();
  if (!seenTable) throw new ImportError(`${escapeText(where)}: not the text of acpidump: no 'SIG @ 0xADDRESS' line`);
  return out;
}

/** The tables in one input: a binary table, or acpidump text. */
export function readTables(data: Uint8Array, where: string): AcpiTable[] {
  if (looksBinary(data)) return [readTable(data, where)];
  // Text is ASCII; a NUL or other binary byte early on means a binary table of another kind.
  const head = data.subarray(0, 64);
  if (head.some((b) => b === 0)) {
    const sig = String.fromCharCode(...data.subarray(0, 4)).replace(/[^\x20-\x7e]/g, '?');
    throw byteError(where, 0, `a binary table with signature '${sig}', not DMAR, IVRS or IORT`);
  }
  return readAcpidump(new TextDecoder('utf-8', { fatal: false }).decode(data), where);
}

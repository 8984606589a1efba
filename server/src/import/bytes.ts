/**
 * Reading little-endian fields of a binary table with every read checked against the
 * bytes there are: a field past the end is an ImportError naming its offset and what was
 * being read, never an exception from a DataView or a value read from beyond the table.
 */
import { byteError } from './errors';

export class Bytes {
  private readonly view: DataView;

  constructor(
    readonly data: Uint8Array,
    readonly where: string,
    readonly limit = data.length,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Fails unless `size` bytes at `offset` lie inside the limit. */
  need(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.limit) {
      throw byteError(
        this.where,
        offset,
        `${what} needs ${size} byte${size === 1 ? '' : 's'} but the table ends at ${this.limit}: truncated`,
      );
    }
  }

  u8(offset: number, what: string): number {
    this.need(offset, 1, what);
    return this.view.getUint8(offset);
  }

  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.view.getUint32(offset, true);
  }

  u64(offset: number, what: string): bigint {
    this.need(offset, 8, what);
    return this.view.getBigUint64(offset, true);
  }

  /** `size` bytes as Latin-1 text, up to the first NUL (ACPI's fixed-width ASCII fields). */
  ascii(offset: number, size: number, what: string): string {
    this.need(offset, size, what);
    let s = '';
    for (let i = 0; i < size; i++) {
      const c = this.data[offset + i]!;
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }

  fail(offset: number, why: string): never {
    throw byteError(this.where, offset, why);
  }
}

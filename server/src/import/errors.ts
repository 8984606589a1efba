/**
 * What the import layer reports: an ImportError when the input cannot be read as what it
 * claims to be (the CLI prints it and exits 2), and notes for what it read but could not use
 * in full (the description shows them as comments). Every message names where: the file and
 * a byte offset (binary tables) or a line (text).
 */
import { escapeText } from '../cli/escape';

export class ImportError extends Error {}

/** `0x1c (28)`: the form hex dumps and iasl's listings use, so a user can find the byte. */
export function offsetText(offset: number): string {
  return `0x${offset.toString(16)} (${offset})`;
}

/** An error at a byte of a binary input. `where` is shown escaped: it comes from outside. */
export function byteError(where: string, offset: number, why: string): ImportError {
  return new ImportError(`${escapeText(where)}: at byte ${offsetText(offset)}: ${why}`);
}

/** An error at a line of a text input. */
export function lineError(where: string, line: number, why: string): ImportError {
  return new ImportError(`${escapeText(where)}:${line}: ${why}`);
}

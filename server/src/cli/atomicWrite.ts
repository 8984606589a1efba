/**
 * Replacing a user's file without ever leaving it half written: the new text goes to a
 * temporary file in the same directory, is flushed to disk, and is renamed over the
 * original (a rename within one file system is atomic: a reader, a crash or a full disk
 * sees the old file or the new one, never a mix). The temporary file takes the original's
 * mode (and owner, where allowed). When asked, the original is checked just before the
 * rename against what was read (size, mtime, SHA-256 of the bytes), so a file edited in
 * the meantime is left as it is.
 *
 * Limits: a change that lands between that check and the rename is still lost (only a
 * lock every writer honours could close that gap); the new file is a new inode, so other
 * hard links to the original keep the old text; a symbolic link is followed and its
 * target replaced, the link itself stays.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoReason } from './errors';

/** The file operations used here: tests pass ones that fail midway. */
export type WriteFs = Pick<
  typeof nodeFs,
  | 'openSync'
  | 'writeSync'
  | 'fsyncSync'
  | 'closeSync'
  | 'renameSync'
  | 'unlinkSync'
  | 'fstatSync'
  | 'statSync'
  | 'readFileSync'
  | 'fchmodSync'
  | 'fchownSync'
  | 'realpathSync'
  | 'accessSync'
>;

export const realFs: WriteFs = nodeFs;

/** What a file was when it was read. */
export interface Snapshot {
  size: bigint;
  mtimeNs: bigint;
  sha256: string;
}

/** A file could not be read or written; the message says why, in words. */
export class WriteError extends Error {}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Reads `path` and what it was then. The stat comes first: a write during the read shows as a changed mtime. */
export function readSnapshot(path: string, fs: WriteFs = realFs): { bytes: Buffer; snapshot: Snapshot } {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw new WriteError('not a regular file');
    const bytes = fs.readFileSync(fd);
    return { bytes, snapshot: { size: st.size, mtimeNs: st.mtimeNs, sha256: sha256(bytes) } };
  } catch (e) {
    throw e instanceof WriteError ? e : new WriteError(errnoReason(e));
  } finally {
    if (fd !== undefined)
      try {
        fs.closeSync(fd);
      } catch {
        /* read already */
      }
  }
}

/** Whether the file at `path` is still what `was` describes (gone or unreadable counts as changed). */
function unchanged(path: string, was: Snapshot, fs: WriteFs): boolean {
  try {
    const st = fs.statSync(path, { bigint: true });
    if (st.size !== was.size || st.mtimeNs !== was.mtimeNs) return false;
    return readSnapshot(path, fs).snapshot.sha256 === was.sha256;
  } catch {
    return false;
  }
}

/** The file a write to `path` replaces: a symbolic link's target (the link stays a link), or `path` itself when it does not exist yet. */
function target(path: string, fs: WriteFs): string {
  try {
    return fs.realpathSync(path);
  } catch {
    return path;
  }
}

export interface WriteOptions {
  /** Replace the file only if it is still what was read; otherwise leave it and return 'changed'. */
  expect?: Snapshot;
  fs?: WriteFs;
}

/**
 * Writes `text` to `path` through a flushed temporary file renamed over it. Returns
 * 'changed' (and writes nothing) when `expect` no longer holds; throws a WriteError when
 * an operation fails, after removing the temporary file: the original is then untouched.
 */
export function writeAtomic(path: string, text: string | Uint8Array, opts: WriteOptions = {}): 'written' | 'changed' {
  const fs = opts.fs ?? realFs;
  const file = target(path, fs);
  let existing: nodeFs.Stats | undefined;
  try {
    existing = fs.statSync(file, { throwIfNoEntry: false });
    // A rename would replace a read-only file too (only the directory's permission counts): keep its refusal.
    if (existing) fs.accessSync(file, nodeFs.constants.W_OK);
  } catch (e) {
    throw new WriteError(errnoReason(e));
  }
  if (existing && !existing.isFile()) throw new WriteError('not a regular file');
  if (!existing && opts.expect) return 'changed';
  // Hidden, unique, next to the file: the rename stays on one file system, and a leftover is easy to tell.
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    // Readable by the owner only until it has the original's mode: the text may be private.
    fd = fs.openSync(tmp, 'wx', existing ? 0o600 : 0o666);
    if (existing) {
      fs.fchmodSync(fd, existing.mode & 0o7777);
      try {
        fs.fchownSync(fd, existing.uid, existing.gid);
      } catch {
        /* not allowed unless root: the file becomes ours */
      }
    }
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at, bytes.length - at);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    if (opts.expect && !unchanged(file, opts.expect, fs)) {
      fs.unlinkSync(tmp);
      return 'changed';
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined)
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* never created, or already gone */
    }
    throw new WriteError(errnoReason(e));
  }
  // The directory is not synced: after a crash the rename may be undone, which leaves the old
  // file, whole; losing the formatting is no loss of data, and a second fsync per file doubled
  // the cost of `format --write` on ext4.
  return 'written';
}

/**
 * Which files make up a workspace: the one rule the language server (reading its workspace
 * folders) and the CLI (searching the directories it is given) share, the walk that finds
 * them, and reading a file without ever blocking on one that is not a regular file.
 *
 * The rule: every regular file whose name ends in `.iommu`, in the folder and every
 * directory below it, except `node_modules` (other projects' files) and hidden
 * directories (`.git`, `.vscode`, caches: a name starting with '.'). Symbolic links are
 * not followed (a link can lead out of the folder, or round in a loop); a link, FIFO,
 * socket or device named `*.iommu` is reported as skipped, never opened.
 *
 * The walk keeps a stack of directories still to read rather than recursing, reads each
 * directory as a stream of entries and keeps only those that count, so its memory and
 * stack do not grow with the size of a directory or the depth of the tree. Order: a
 * directory's files by name, then its subdirectories by name, depth first, so two walks
 * of the same tree find the same files in the same order.
 */
import { closeSync, constants, fstatSync, opendirSync, openSync, readFileSync, type Dir, type Dirent } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isDescriptionName, isSkippedDirectory, takesPath } from './rule';

export { isDescriptionName, isSkippedDirectory } from './rule';

/**
 * Whether the walk of `root` finds `path` by its place (both absolute): inside `root`, a
 * description's name, and no skipped directory on the way. For files the editor reports
 * created or changed, so they join the workspace by the same rule as the scan.
 */
export function inWorkspace(root: string, path: string): boolean {
  const rel = relative(root, path);
  if (!rel || rel.startsWith('..') || rel.startsWith(sep)) return false;
  return takesPath(rel.split(sep));
}

/** What a walk finds: a description, an entry named like one that is not a regular file, or a directory it cannot read. */
export type Found =
  | { kind: 'file'; path: string }
  | { kind: 'skipped'; path: string; why: string }
  | { kind: 'unreadable'; path: string; error: NodeJS.ErrnoException };

type Kind = Pick<Dirent, 'isFile' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>;

/** Why an entry that is not a regular file is left alone, in a few words. */
export function notRegular(entry: Kind): string {
  if (entry.isSymbolicLink()) return 'a symbolic link, which a directory search does not follow';
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  if (entry.isCharacterDevice() || entry.isBlockDevice()) return 'a device';
  return 'not a file';
}

/** The entries of one directory that count, sorted when it has been read through. */
class Listing {
  private readonly found: Found[] = [];
  private readonly directories: string[] = [];
  constructor(private readonly dir: string) {}

  add(entry: Dirent): void {
    if (entry.isDirectory()) {
      if (!isSkippedDirectory(entry.name)) this.directories.push(entry.name);
    } else if (isDescriptionName(entry.name)) {
      const path = join(this.dir, entry.name);
      this.found.push(
        entry.isFile() ? { kind: 'file', path } : { kind: 'skipped', path, why: `not a regular file (${notRegular(entry)})` },
      );
    }
  }

  /** Its files and skipped entries in name order; its subdirectories go on `pending` so that the first by name comes off first. */
  finish(pending: string[]): Found[] {
    this.found.sort((a, b) => compare(a.path, b.path));
    this.directories.sort(compare).reverse();
    for (const d of this.directories) pending.push(join(this.dir, d));
    return this.found;
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const unreadable = (path: string, e: unknown): Found => ({ kind: 'unreadable', path, error: e as NodeJS.ErrnoException });

/** Every description under `root` (a directory), as the language server reads its folders. */
export async function* walk(root: string): AsyncGenerator<Found> {
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    const listing = new Listing(dir);
    let handle: Dir | undefined;
    try {
      handle = await opendir(dir);
      for (let e = await handle.read(); e; e = await handle.read()) listing.add(e);
    } catch (e) {
      yield unreadable(dir, e);
      continue;
    } finally {
      await handle?.close().catch(() => undefined);
    }
    yield* listing.finish(pending);
  }
}

/** The same walk, synchronous, for the CLI. */
export function* walkSync(root: string): Generator<Found> {
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    const listing = new Listing(dir);
    let handle: Dir | undefined;
    try {
      handle = opendirSync(dir);
      for (let e = handle.readSync(); e; e = handle.readSync()) listing.add(e);
    } catch (e) {
      yield unreadable(dir, e);
      continue;
    } finally {
      try {
        handle?.closeSync();
      } catch {
        /* already closed by a failed read */
      }
    }
    yield* listing.finish(pending);
  }
}

/**
 * A file read whole, or why not: it is not a regular file, or `accept` declined its size.
 * Errors opening or reading it (ENOENT, EACCES, EIO) are thrown.
 */
export type FileRead = { kind: 'read'; bytes: Buffer } | { kind: 'not-regular'; why: string } | { kind: 'declined'; size: number };

/**
 * Opened without blocking: opening a FIFO for reading waits for a writer, so the file is
 * opened with O_NONBLOCK (no effect on a regular file) and checked with fstat before a
 * byte is read. The same descriptor is then read, so nothing can swap the file between
 * the check and the read.
 */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Synchronous, in the CLI and the language server alike: a small file takes tens of
 * microseconds this way, against several round trips to libuv's thread pool as promises
 * (open, stat, read, close): 2,871 files of 2.7 KB took 0.7 s one after another that way and
 * 0.05 s like this, and the server's scan of them went from 1.2-1.5 s to 0.45-0.5 s. The
 * scan lets the event loop run every 20 ms (lsp/workspaceFiles.ts). A file on a mount that
 * hangs would hold the server's thread, where a promise would hold only the scan.
 */
export function readRegularFileSync(path: string): Exclude<FileRead, { kind: 'declined' }>;
export function readRegularFileSync(path: string, accept: (size: number) => boolean): FileRead;
export function readRegularFileSync(path: string, accept: (size: number) => boolean = () => true): FileRead {
  const fd = openSync(path, READ_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'not-regular', why: `not a regular file (${notRegular(st)})` };
    if (!accept(st.size)) return { kind: 'declined', size: st.size };
    return { kind: 'read', bytes: readFileSync(fd) };
  } finally {
    closeSync(fd);
  }
}

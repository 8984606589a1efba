/**
 * Reading the workspace's files from disk: the Node server's file source (fileSource.ts),
 * and its only file I/O. Which files belong to the workspace is the rule the CLI uses too
 * (server/src/workspace/files.ts).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inWorkspace, readRegularFileSync, walk } from '../workspace/files';
import { admit, type FileRead, type FileSource, type ReadOptions, type ScanEvents } from './fileSource';

/**
 * Reads a file of the workspace from disk, synchronously (see readRegularFileSync: about
 * fifteen times faster for the small files a workspace holds). A FIFO is never opened for
 * reading (it would block).
 */
export async function readUri(uri: string, options: ReadOptions): Promise<FileRead> {
  if (!uri.startsWith('file:')) return { kind: 'none' };
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch {
    return { kind: 'none' };
  }
  let declined: FileRead = { kind: 'none' };
  try {
    const r = readRegularFileSync(path, (size) => {
      const verdict = admit(size, options);
      if (verdict === 'read') return true;
      declined = verdict;
      return false;
    });
    if (r.kind === 'read') return { kind: 'text', text: r.bytes.toString('utf8') };
    if (r.kind === 'not-regular') options.unreadable?.(`it is ${r.why}`);
    return declined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') options.unreadable?.((e as Error).message);
    return { kind: 'none' };
  }
}

/**
 * How long the scan runs before it lets the event loop take the editor's messages: its reads
 * are synchronous, and a directory of many files would otherwise hold the loop for as long
 * as reading them all takes.
 */
const SCAN_SLICE_MS = 20;

/** Finds every file of the folder (by the workspace rule), as a stream; returns how many. */
export async function scanFolder(folderUri: string, events: ScanEvents): Promise<number> {
  if (!folderUri.startsWith('file:')) return 0;
  let found = 0;
  let slice = performance.now();
  for await (const f of walk(fileURLToPath(folderUri))) {
    if (performance.now() - slice > SCAN_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
    if (f.kind === 'unreadable') events.problem(`cannot read the directory ${f.path}, so its files are left out: ${f.error.message}`);
    else if (f.kind === 'skipped') events.problem(`${f.path} is left out: ${f.why}`);
    else {
      await events.file(pathToFileURL(f.path).href);
      events.progress(++found);
    }
  }
  return found;
}

/** Whether `uri` belongs to the workspace of `folders` (uris) by the rule the scan follows. */
export function belongs(uri: string, folders: readonly string[]): boolean {
  if (!uri.startsWith('file:')) return false;
  try {
    const path = fileURLToPath(uri);
    return folders.some((f) => f.startsWith('file:') && inWorkspace(fileURLToPath(f), path));
  } catch {
    return false;
  }
}

/** The workspace on the local disk. */
export const diskFiles: FileSource = { scan: scanFolder, read: readUri, belongs };

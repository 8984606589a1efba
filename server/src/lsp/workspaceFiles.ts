/** Reading the workspace's .iommu files from disk (the server's only file I/O). */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', 'dist', 'out']);
/** A safety net for huge trees; a workspace with more .iommu files than this is unusual. */
const MAX_FILES = 20_000;

export async function findIommuFiles(folderUri: string): Promise<string[]> {
  if (!folderUri.startsWith('file:')) return [];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) await walk(p);
      } else if (e.isFile() && e.name.endsWith('.iommu')) {
        out.push(pathToFileURL(p).href);
      }
    }
  };
  await walk(fileURLToPath(folderUri));
  return out.sort();
}

/**
 * The file's text, or undefined when it cannot be read (deleted, not a file, too big
 * for a JS string: about 512 MiB). Oversized files are read and left to the host to
 * report. Bytes that are not UTF-8 become U+FFFD, as in an editor. `unreadable` hears
 * why a file that exists could not be read (a file that is gone is not news).
 */
/** V8's longest string (2^29 - 24 UTF-16 units); UTF-8 takes at least a byte per unit. */
const MAX_STRING_BYTES = 2 ** 29 * 3;

export async function readUri(uri: string, unreadable?: (why: string) => void): Promise<string | undefined> {
  if (!uri.startsWith('file:')) return undefined;
  let path: string;
  try {
    path = fileURLToPath(uri);
    const st = await stat(path);
    if (!st.isFile()) return undefined;
    // No JavaScript string holds more: reading it all only to fail would cost its size in memory.
    if (st.size > MAX_STRING_BYTES) {
      unreadable?.(`it is ${st.size} bytes, more than a string can hold`);
      return undefined;
    }
  } catch {
    return undefined;
  }
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    unreadable?.((e as Error).message);
    return undefined;
  }
}

/**
 * Reading the workspace's files from disk (the server's only file I/O). Which files belong
 * to the workspace is the rule the CLI uses too (server/src/workspace/files.ts). Every file
 * is found; files are read while the workspace stays under WORKSPACE_LIMIT, and those past
 * it are counted, named in a `workspace-too-large` finding on their folder, and make the
 * analysis incomplete (no `unknown-name`: any name may be declared in them).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { finding, type Finding } from '../model';
import { inWorkspace, readRegularFile, walk } from '../workspace/files';

/**
 * How much of a workspace the server holds. It keeps every file's text, parse, model and
 * simulation live, which measured about 65 bytes per byte of text (200k lines, 7.7 MB:
 * under 500 MiB) and about 11 KB per file beyond its text (50,000 small files: 550 MiB of
 * heap, bench/startup.mjs). So 16 MiB of text is about 1 GiB, and 50,000 files about half
 * that on their own: within the server's heap (about 4 GiB), and far past any workspace of
 * descriptions we have seen (the 200k-line fleet has 7.7 MB in 2,782 files). Past it, the
 * rest is counted, not read: a folder that size is rather a home directory opened by
 * accident than a set of descriptions.
 */
export const WORKSPACE_LIMIT = { files: 50_000, chars: 16 * 2 ** 20 };

/** What reading a workspace file from disk gives. */
export type DiskRead =
  | { kind: 'text'; text: string }
  /** More than three times `maxChars` bytes: certainly over the file size limit (a UTF-16 unit takes at most three bytes), so not read. */
  | { kind: 'oversized'; bytes: number }
  /** `fits` declined it: it stays unread. */
  | { kind: 'over-limit' }
  /** Gone, not a regular file, or unreadable (`unreadable` hears why). */
  | { kind: 'none' };

/**
 * Reads a file of the workspace. Bytes that are not UTF-8 become U+FFFD, as in an editor.
 * `fits` hears the size in bytes the file would add to the workspace (none for one held
 * without its text) and may decline it; `unreadable` hears why a file that exists could
 * not be read (a file that is gone is not news). A FIFO is never opened for reading (it
 * would block): see readRegularFile.
 */
export async function readUri(
  uri: string,
  options: { maxChars: number; fits?: (bytes: number) => boolean; unreadable?: (why: string) => void },
): Promise<DiskRead> {
  if (!uri.startsWith('file:')) return { kind: 'none' };
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch {
    return { kind: 'none' };
  }
  let declined: DiskRead = { kind: 'none' };
  try {
    const r = await readRegularFile(path, (size) => {
      const oversized = size > 3 * options.maxChars;
      if (options.fits && !options.fits(oversized ? 0 : size)) declined = { kind: 'over-limit' };
      else if (oversized) declined = { kind: 'oversized', bytes: size };
      else return true;
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

/** What a folder's scan reports as it goes. */
export interface ScanEvents {
  /** A file found: read it (by readUri) unless the editor or a newer event has it. */
  file(uri: string): Promise<unknown>;
  /** A directory that cannot be read, or an entry named like a description that is not a regular file. */
  problem(message: string): void;
  /** The count of files found so far in this folder. */
  progress(found: number): void;
}

/** Finds every file of the folder (by the workspace rule), as a stream; returns how many. */
export async function scanFolder(folderUri: string, events: ScanEvents): Promise<number> {
  if (!folderUri.startsWith('file:')) return 0;
  let found = 0;
  for await (const f of walk(fileURLToPath(folderUri))) {
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

/** Whether `uri` is inside the folder `folder` (both uris). */
export function inside(uri: string, folder: string): boolean {
  return uri.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
}

const mib = (chars: number) => `${(chars / 2 ** 20).toFixed(1)} MiB`;

/**
 * The files of the workspace left unread, past WORKSPACE_LIMIT: counted, named in a
 * `workspace-too-large` finding on their folder, and while there is one the analysis is
 * incomplete (no `unknown-name`: any name may be declared in them). The user is told once
 * each time the workspace goes past the limit.
 */
export class WorkspaceLimit {
  private readonly unread = new Set<string>();
  private told = false;
  /** Unread files per folder, for the folders of `key` (counted again only when the unread files or the folders change). */
  private counts: { key: string; byFolder: Map<string, number> } | undefined;

  /** `held`: what the host holds; `changed`: the workspace went past the limit or back. */
  constructor(
    private readonly held: () => { files: number; chars: number },
    private readonly changed: () => void,
  ) {}

  /** Some files are unread. */
  get incomplete(): boolean {
    return this.unread.size > 0;
  }

  /** Whether a file of `bytes` more keeps the workspace within the limit. */
  fits(bytes: number): boolean {
    const held = this.held();
    return held.files < WORKSPACE_LIMIT.files && held.chars + bytes <= WORKSPACE_LIMIT.chars;
  }

  leave(uri: string): void {
    if (this.unread.has(uri)) return;
    this.unread.add(uri);
    this.counts = undefined;
    if (this.unread.size === 1) this.changed();
  }

  /** `uri` is read, gone, or out of the workspace. */
  forget(uri: string): void {
    if (!this.unread.delete(uri)) return;
    this.counts = undefined;
    if (this.unread.size) return;
    this.told = false;
    this.changed();
  }

  /** Forgets the unread files `gone` says left the workspace (a folder removed). */
  forgetWhere(gone: (uri: string) => boolean): void {
    for (const uri of [...this.unread]) if (gone(uri)) this.forget(uri);
  }

  /** What to tell the user, once while the workspace stays past the limit. */
  news(): string | undefined {
    if (this.unread.size === 0 || this.told) return undefined;
    this.told = true;
    return message(this.unread.size, this.held());
  }

  /** One `workspace-too-large` per folder with files left unread, on the folder itself. */
  findings(folders: readonly string[]): Map<string, Finding[]> {
    const out = new Map<string, Finding[]>();
    if (this.unread.size === 0) return out;
    const key = folders.join('\n');
    if (this.counts?.key !== key) {
      const byFolder = new Map<string, number>();
      for (const uri of this.unread) {
        const folder = folders.find((f) => inside(uri, f));
        if (folder !== undefined) byFolder.set(folder, (byFolder.get(folder) ?? 0) + 1);
      }
      this.counts = { key, byFolder };
    }
    const text = message(this.unread.size, this.held());
    for (const [folder, n] of this.counts.byFolder) {
      out.set(folder, [
        finding(
          'workspace-too-large',
          { uri: folder, span: { start: 0, end: 0 } },
          `${n} .iommu files in this folder were not read. ${text}`,
        ),
      ]);
    }
    return out;
  }
}

/** How much was read, what is left out, what it costs and what to do. */
function message(unread: number, held: { files: number; chars: number }): string {
  return (
    `IOMMU Lens read ${held.files} files (${mib(held.chars)} of text) of this workspace and left ${unread} more unread: ` +
    `it holds at most ${WORKSPACE_LIMIT.files} files or ${mib(WORKSPACE_LIMIT.chars)} of text. Names declared in the files not read are unknown, ` +
    'so unknown-name is not reported. Open a smaller folder, or check the whole tree with the CLI (iommu-lens check).'
  );
}

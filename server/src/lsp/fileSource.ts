/**
 * Where the server gets the workspace's files: the seam between the one set of handlers
 * (workspaceHandlers.ts) and the place files live. The Node server reads the disk
 * (workspaceFiles.ts); the server in a web worker, which has no disk, asks the editor
 * (clientFiles.ts). Both find files by the same rule (workspace/rule.ts) and read them
 * under the same limits (workspaceLimit.ts), so a workspace gives the same findings in both.
 */

/** What reading a workspace file gives. */
export type FileRead =
  | { kind: 'text'; text: string }
  /** More than three times `maxChars` bytes: certainly over the file size limit (a UTF-16 unit takes at most three bytes), so not read. */
  | { kind: 'oversized'; bytes: number }
  /** `fits` declined it: it stays unread. */
  | { kind: 'over-limit' }
  /** Gone, not a regular file, or unreadable (`unreadable` hears why). */
  | { kind: 'none' };

export interface ReadOptions {
  /** The file size limit in characters (`iommuLens.maxFileSize`). */
  maxChars: number;
  /** Hears the size in bytes the file would add to the workspace (0 for one held without its text) and may decline it. */
  fits?: (bytes: number) => boolean;
  /** Hears why a file that exists could not be read (a file that is gone is not news). */
  unreadable?: (why: string) => void;
}

/** What a folder's scan reports as it goes. */
export interface ScanEvents {
  /** A file found: read it (by `read`) unless the editor or a newer event has it. */
  file(uri: string): Promise<unknown>;
  /** A directory that cannot be read, or an entry named like a description that is not a regular file. */
  problem(message: string): void;
  /** The count of files found so far in this folder. */
  progress(found: number): void;
}

export interface FileSource {
  /** Finds every file of the folder (by the workspace rule), as a stream; returns how many. */
  scan(folderUri: string, events: ScanEvents): Promise<number>;
  /** Reads one file of the workspace. Bytes that are not UTF-8 become U+FFFD, as in an editor. */
  read(uri: string, options: ReadOptions): Promise<FileRead>;
  /** Whether `uri` belongs to the workspace of `folders` (uris) by the rule the scan follows. */
  belongs(uri: string, folders: readonly string[]): boolean;
}

/**
 * What to do with a file of `bytes` before reading its text, the same for every source:
 * `read` it, or not (over the file size limit, or declined by `fits`).
 */
export function admit(bytes: number, options: ReadOptions): FileRead | 'read' {
  const oversized = bytes > 3 * options.maxChars;
  if (options.fits && !options.fits(oversized ? 0 : bytes)) return { kind: 'over-limit' };
  return oversized ? { kind: 'oversized', bytes } : 'read';
}

/** Whether the folder `folder` holds `uri` (both uris). */
export function inside(uri: string, folder: string): boolean {
  return uri.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
}

/** Routes each uri to a source by its scheme (`file:` to the disk, others to the editor); `fallback` takes the rest. */
export function bySchemes(sources: Record<string, FileSource>, fallback: FileSource): FileSource {
  const of = (uri: string) => sources[/^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase() ?? ''] ?? fallback;
  return {
    scan: (folder, events) => of(folder).scan(folder, events),
    read: (uri, options) => of(uri).read(uri, options),
    belongs: (uri, folders) => of(uri).belongs(uri, folders),
  };
}

/**
 * The workspace's files as the editor has them (fileSource.ts): for the server in a web
 * worker, which has no disk, and for folders the Node server cannot read (a virtual
 * workspace). The client lists a folder's files and reads them (`iommuLens/findFiles`,
 * `iommuLens/readFile`); the rule of which files count and the limits are applied here,
 * the same as on disk, whatever the client answers.
 */
import type { Connection } from 'vscode-languageserver';
import { inFolderUri } from '../workspace/rule';
import { admit, type FileRead, type FileSource, type ReadOptions, type ScanEvents } from './fileSource';
import { FIND_FILES_REQUEST, READ_FILE_REQUEST, type FindFilesParams, type FindFilesResult, type ReadFileParams } from './protocol';
import { WORKSPACE_LIMIT } from './workspaceLimit';

/**
 * How many files a folder's listing may name. Past the workspace limit files are only
 * counted (workspace-too-large), and twice the limit counts enough to say how far past it.
 */
export const MAX_LISTED = 2 * WORKSPACE_LIMIT.files;

export type Requester = Pick<Connection, 'sendRequest'>;

export function clientFiles(connection: Requester): FileSource {
  return {
    scan: (folder, events) => scan(connection, folder, events),
    read: (uri, options) => read(connection, uri, options),
    belongs: (uri, folders) => folders.some((f) => inFolderUri(f, uri)),
  };
}

async function scan(connection: Requester, folder: string, events: ScanEvents): Promise<number> {
  const params: FindFilesParams = { folder, maxResults: MAX_LISTED };
  const answer = (await connection.sendRequest(FIND_FILES_REQUEST, params)) as Partial<FindFilesResult> | null;
  const listed = Array.isArray(answer?.uris) ? answer.uris : [];
  // Sorted, so two scans of the same folder read the same files in the same order (a walk on disk does too).
  const uris = [...new Set(listed.filter((u): u is string => typeof u === 'string' && inFolderUri(folder, u)))].sort();
  if (listed.length >= MAX_LISTED)
    events.problem(`${folder}: the editor listed ${listed.length} .iommu files, its most; the rest are not counted`);
  let found = 0;
  for (const uri of uris) {
    await events.file(uri);
    events.progress(++found);
  }
  return found;
}

async function read(connection: Requester, uri: string, options: ReadOptions): Promise<FileRead> {
  // Nothing more fits: not even asked for.
  if (options.fits && !options.fits(0)) return { kind: 'over-limit' };
  // What came over the wire, checked field by field.
  let answer: { kind?: unknown; text?: unknown; bytes?: unknown; why?: unknown } | null;
  try {
    const params: ReadFileParams = { uri, maxBytes: 3 * options.maxChars };
    answer = (await connection.sendRequest(READ_FILE_REQUEST, params)) as typeof answer;
  } catch (e) {
    options.unreadable?.(`the editor did not read it: ${(e as Error).message}`);
    return { kind: 'none' };
  }
  if (answer?.kind === 'none') {
    if (typeof answer.why === 'string') options.unreadable?.(answer.why);
    return { kind: 'none' };
  }
  const bytes = answer?.bytes;
  if ((answer?.kind !== 'text' && answer?.kind !== 'too-large') || typeof bytes !== 'number' || !(bytes >= 0)) {
    options.unreadable?.('the editor answered something that is not a file');
    return { kind: 'none' };
  }
  const verdict = admit(bytes, options);
  if (verdict !== 'read') return verdict;
  if (answer.kind === 'text' && typeof answer.text === 'string') return { kind: 'text', text: answer.text };
  // Too large for the client's limit, but not for this one: the limit changed meanwhile.
  return { kind: 'oversized', bytes };
}

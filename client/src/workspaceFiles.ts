/**
 * Serves the workspace's files to a language server that cannot read them itself
 * (`iommuLens/findFiles`, `iommuLens/readFile`, protocol.ts): the server in a web worker, or
 * the Node one for a folder that is not on disk (github.dev, vscode.dev, a virtual
 * workspace). Through `workspace.fs`, so every file system the editor has works. The server
 * applies the workspace rule and limits to the answers; this side only lists and reads.
 */
import { FileSystemError, FileType, RelativePattern, Uri, workspace, type Disposable } from 'vscode';
import type { BaseLanguageClient } from 'vscode-languageclient';
import {
  FIND_FILES_REQUEST,
  READ_FILE_REQUEST,
  type FindFilesParams,
  type FindFilesResult,
  type ReadFileParams,
  type ReadFileResult,
} from '../../server/src/lsp/protocol';

/** What the workspace rule leaves out (server/src/workspace/rule.ts), so the search does not list it. */
const EXCLUDE = '{**/node_modules/**,**/.*/**}';

export function serveWorkspaceFiles(client: BaseLanguageClient): Disposable[] {
  return [
    client.onRequest(FIND_FILES_REQUEST, async (params: FindFilesParams): Promise<FindFilesResult> => {
      const max = Math.max(0, Math.floor(Number(params?.maxResults) || 0));
      const found = await workspace.findFiles(new RelativePattern(Uri.parse(String(params?.folder)), '**/*.iommu'), EXCLUDE, max);
      return { uris: found.map((u) => u.toString()) };
    }),
    client.onRequest(READ_FILE_REQUEST, (params: ReadFileParams) => readFile(params)),
  ];
}

async function readFile(params: ReadFileParams): Promise<ReadFileResult> {
  const uri = Uri.parse(String(params?.uri));
  const maxBytes = Number(params?.maxBytes);
  try {
    const stat = await workspace.fs.stat(uri);
    // As on disk (server/src/workspace/files.ts): only regular files, and links are not followed.
    if (stat.type & FileType.SymbolicLink) return { kind: 'none', why: 'it is a symbolic link, which a directory search does not follow' };
    if (!(stat.type & FileType.File)) return { kind: 'none', why: 'it is not a file' };
    if (stat.size > maxBytes) return { kind: 'too-large', bytes: stat.size };
    const bytes = await workspace.fs.readFile(uri);
    if (bytes.length > maxBytes) return { kind: 'too-large', bytes: bytes.length };
    // Bytes that are not UTF-8 become U+FFFD, and a BOM stays, as the Node server reads them.
    return { kind: 'text', text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), bytes: bytes.length };
  } catch (e) {
    // Gone is not news; anything else is said in the server's log.
    if (e instanceof FileSystemError && e.code === 'FileNotFound') return { kind: 'none' };
    return { kind: 'none', why: e instanceof Error ? e.message : String(e) };
  }
}

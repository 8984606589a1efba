/**
 * The messages IOMMU Lens adds to LSP: their names and shapes, shared by the server and
 * the VS Code client (other editors may ignore them). It imports nothing, so the client
 * bundles this file alone and the two sides cannot drift apart.
 */

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

/** Notification, server to client, at the start and end of every analysis run. */
export const STATUS_NOTIFICATION = 'iommuLens/status';

export interface StatusParams {
  state: 'analysing' | 'ready' | 'failed';
  files: number;
  errors: number;
  warnings: number;
  information: number;
  hints: number;
  /** Duration of the last run (ms). */
  ms: number;
  /** Engines left out of the last run (`checksWhileTyping`): in edited components they wait for the next full run. */
  skipped: string[];
  message?: string;
}

/** Request, client to server: the address map of a guest or platform (named, or the one at the cursor). */
export const ADDRESS_MAP_REQUEST = 'iommuLens/addressMap';

export interface AddressMapParams {
  uri: string;
  position?: Position;
  guest?: string;
  platform?: string;
}

export interface AddressMapResult {
  title: string;
  svg: string;
  /** `data-target` id of the SVG's bars → the line each comes from. */
  targets: { id: number; uri: string; range: Range }[];
}

/** Request: process.memoryUsage() of the server, in bytes (soak tests and leak hunts). */
export const MEMORY_REQUEST = 'iommuLens/memory';

export interface MemoryReport {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  collected: boolean;
}

/**
 * Requests, server to client, for a server that cannot read the workspace itself: the one
 * in a web worker (vscode.dev, github.dev), or the Node one for a folder that is not on
 * disk. A client offers them with `clientFiles: true` in its initialization options.
 * The server applies the workspace rule and limits to what they answer.
 */
export const FIND_FILES_REQUEST = 'iommuLens/findFiles';

export interface FindFilesParams {
  /** The workspace folder's uri. */
  folder: string;
  /** List at most this many. */
  maxResults: number;
}

export interface FindFilesResult {
  /** The `.iommu` files of the folder (outside `node_modules` and hidden directories). */
  uris: string[];
}

export const READ_FILE_REQUEST = 'iommuLens/readFile';

export interface ReadFileParams {
  uri: string;
  /** A file of more bytes is not read: its size is answered alone. */
  maxBytes: number;
}

export type ReadFileResult =
  | { kind: 'text'; text: string; bytes: number }
  | { kind: 'too-large'; bytes: number }
  /** Gone (no `why`), or not readable (`why` says so). */
  | { kind: 'none'; why?: string };

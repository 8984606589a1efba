/**
 * The messages IOMMU Lens adds to LSP: their names and shapes, shared by the server and
 * the VS Code client (other editors may ignore them), and the Node flags the client starts
 * the server with. It imports nothing, so the client
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

/**
 * V8 flags the language server wants from the start: they cannot be set once it runs
 * (`v8.setFlagsFromString` changes no heap already configured). The VS Code client starts
 * the server with them (`execArgv`); `iommu-lens-server --node-flags` prints them, for other
 * editors' configurations and for the benchmarks, which start the server as VS Code does.
 *
 * `--max-semi-space-size=32`: a young generation of up to 32 MiB per semi-space, not 16.
 * Loading a workspace allocates its parses and models as fast as it can, and most of that
 * lives on, so with 16 MiB the scavenger ran every few milliseconds, copying the survivors
 * each time. `--min-semi-space-size=16`: it starts at 16 MiB instead of growing there from 1
 * while the load runs. At 200k lines: first diagnostics 4.0 to 5.4 s with both (and the 50%
 * heap growth of lsp/bin.ts while loading), 5.9 to 6.5 s with neither (and 100%), three runs
 * each, alternated; the first alone, 4.1 to 4.7 s against 4.2 to 6.2 (bench/RESULTS.md).
 * Node's documentation: "Increasing the max size of a semi-space may improve throughput for
 * Node.js at the cost of more memory consumption" (doc/api/cli.md, `--max-semi-space-size`):
 * some 30 MiB more where the workspace is small. A maximum of 64 was faster still but peaked
 * at 470 MiB, too near the 500 MB the server is held to.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--min-semi-space-size=16'];

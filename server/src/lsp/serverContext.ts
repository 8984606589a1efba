/**
 * What the server's handlers share: the connection, the open documents, the settings, the
 * analysis host and its scheduler, the workspace folders and their limit, and the guarded
 * ways to register handlers. The request handlers (requestHandlers.ts), the workspace
 * handlers (workspaceHandlers.ts) and publishing (publishing.ts) each take it; server.ts
 * builds it and wires them.
 */
import { TextDocuments, type Connection, type Location } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Span } from '@iommu-lens/grammar';
import { AnalysisHost, LineIndex, type Analysis } from '../ide';
import type { FileSource } from './fileSource';
import { guardNotification, guardRequest, type RequestGuard } from './guard';
import { Log } from './log';
import type { MemoryReport } from './protocol';
import { Publishing } from './publishing';
import { Scheduler } from './scheduler';
import { DEFAULT_SETTINGS, type ServerSettings } from './settings';
import { WorkspaceLimit } from './workspaceLimit';
import { DOMAINS } from '../domains';

/**
 * What differs between the Node server and the one in a web worker; the handlers are the
 * same. The entry points (bin.ts, browserMain.ts) make one.
 */
export interface ServerEnvironment {
  /** Says where the server runs, in the start-up log line: `on Node v20.19.0`, `in a web worker`. */
  runtime: string;
  /**
   * Where the workspace's files come from. `clientFiles` is the client's offer to serve them
   * (`iommuLens/findFiles` and `iommuLens/readFile`, protocol.ts), said in `initialize`.
   */
  files(connection: Connection, clientFiles: boolean): FileSource;
  /** Logs what no handler caught, so the server goes on (guard.ts). */
  keepAlive(log: Log): void;
  /** The server's memory, for `iommuLens/memory`; absent where the runtime cannot tell. */
  memory?(): MemoryReport;
  /** The first analysis of the workspace is done: from here the runtime may keep memory low rather than start fast (bin.ts). */
  settled?(): void;
}

export class ServerContext {
  readonly documents = new TextDocuments(TextDocument);
  settings: ServerSettings = DEFAULT_SETTINGS;
  readonly log: Log;
  readonly host: AnalysisHost;
  /** The workspace folders (uris), as the client names them. */
  folders: string[] = [];
  readonly publishing: Publishing;
  readonly scheduler: Scheduler;
  /** The workspace limit: files past it stay unread (workspaceFiles.ts). */
  readonly limit: WorkspaceLimit;
  /** Every handler is guarded (guard.ts): a failure answers with an error and is logged, the server goes on. */
  readonly request: RequestGuard;

  /** Where the workspace's files come from; none until `initialize` says what the client serves. */
  files: FileSource = NO_FILES;

  constructor(
    readonly connection: Connection,
    readonly env: ServerEnvironment,
  ) {
    this.log = new Log(connection.console, this.settings.logLevel);
    env.keepAlive(this.log);
    this.host = new AnalysisHost(DOMAINS, { maxFileSize: this.settings.maxFileSize });
    this.publishing = new Publishing(this);
    this.scheduler = new Scheduler(
      this.host,
      connection,
      this.log,
      () => this.settings,
      this.publishing.publisher(),
      () => new Set(this.documents.keys()),
      () => env.settled?.(),
    );
    this.limit = new WorkspaceLimit(
      () => this.host.size(),
      () => {
        this.host.setOptions(this.analysisOptions());
        this.scheduler.changed(true);
      },
    );
    this.request = (method, handler) => guardRequest(this.log, method, handler, () => this.scheduler.loaded());
  }

  notification<A extends unknown[]>(method: string, handler: (...args: A) => unknown): (...args: A) => void {
    return guardNotification(this.log, method, handler);
  }

  analysisOptions() {
    return { maxFileSize: this.settings.maxFileSize, severity: this.settings.severity, incomplete: this.limit.incomplete };
  }

  /** Requests (hover, code actions) answer from the current text: analyse first if needed. */
  current(): Analysis | undefined {
    return this.scheduler.current();
  }

  /**
   * The current analysis, if it holds `uri`. After a failed run the last good analysis
   * stands, and it may not know a file opened since: such requests get empty answers.
   */
  at(uri: string): Analysis | undefined {
    const a = this.current();
    return a?.findings.has(uri) && this.host.hasFile(uri) ? a : undefined;
  }

  /** The text of a document: the editor's while it is open, else the host's (read from disk). */
  textOf(uri: string): string | undefined {
    return this.documents.get(uri)?.getText() ?? this.host.text(uri);
  }

  /** The host's cached line table when it holds this very text (open documents: always). */
  linesOf(uri: string, text: string): LineIndex {
    return this.host.text(uri) === text ? this.host.lineIndex(uri) : new LineIndex(text);
  }

  toLocation(a: Analysis, l: { uri: string; span: Span }): Location {
    return { uri: l.uri, range: a.lineIndex(l.uri).range(l.span) };
  }

  schedule(delay?: number): void {
    this.scheduler.schedule(delay);
  }
}

/** Before `initialize`: no folders to scan yet. */
const NO_FILES: FileSource = {
  scan: async () => 0,
  read: async () => ({ kind: 'none' }),
  belongs: () => false,
};

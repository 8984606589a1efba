/**
 * A minimal LSP client for protocol tests: starts the bundled server (dist/server.cjs)
 * over stdio, records the diagnostics it publishes and wraps the requests tests use.
 * The soak and limits tests also read how the process is doing: whether it exited, its
 * stderr, and its memory (`iommuLens/memory`; with `--expose-gc`, the heap after a collection).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CodeActionRequest,
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  LogMessageNotification,
  type ClientCapabilities,
  type CodeAction,
  type InitializeResult,
  type LogMessageParams,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { MEMORY_REQUEST, STATUS_NOTIFICATION, type MemoryReport, type StatusParams } from '../../server/src/lsp/protocol';

export const SERVER = join(import.meta.dirname, '..', '..', 'dist', 'server.cjs');

export interface ClientOptions {
  /** Flags for node before the server script, e.g. `--expose-gc`. */
  nodeArgs?: string[];
  /** Arguments after `--stdio`, e.g. `--clientProcessId=N`. */
  serverArgs?: string[];
  /** Run the server as this user (tests of a server started as another user than its client). */
  user?: { uid: number; gid: number };
}

/** What `iommuLens/memory` answers, in bytes. */
export type { MemoryReport };

export class Client {
  readonly latest = new Map<string, Diagnostic[]>();
  /** window/logMessage and iommuLens/status notifications, in arrival order. */
  readonly logs: LogMessageParams[] = [];
  readonly statuses: StatusParams[] = [];
  /** How many publishDiagnostics arrived (to tell when the server has gone quiet). */
  published = 0;
  /** Called with every publishDiagnostics, for tests that look at more than the latest. */
  onPublish: ((p: PublishDiagnosticsParams) => void) | undefined;
  private waiters: { check: () => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  readonly proc: ChildProcessWithoutNullStreams;
  readonly conn: ProtocolConnection;
  /** Set when the server process ends: its exit code or the signal that ended it. */
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The server's stderr, for failure messages (bounded: the last 64 KiB). */
  stderr = '';

  constructor(options: ClientOptions = {}) {
    this.proc = spawn(process.execPath, [...(options.nodeArgs ?? []), SERVER, '--stdio', ...(options.serverArgs ?? [])], {
      ...options.user,
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = { code, signal };
      // Nothing more will come: waiting on would only end at the timeout.
      for (const w of this.waiters.splice(0))
        w.reject(new Error(`the server exited (${signal ?? `code ${code}`}): ${this.stderr.slice(-2000)}`));
    });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-65536);
    });
    this.conn = createProtocolConnection(new StreamMessageReader(this.proc.stdout), new StreamMessageWriter(this.proc.stdin));
    const settle = () => this.nudge();
    this.conn.onNotification(PublishDiagnosticsNotification.type, (p: PublishDiagnosticsParams) => {
      this.latest.set(p.uri, p.diagnostics);
      this.published++;
      this.onPublish?.(p);
      settle();
    });
    this.conn.onNotification(LogMessageNotification.type, (p: LogMessageParams) => {
      this.logs.push(p);
      settle();
    });
    this.conn.onNotification(STATUS_NOTIFICATION, (p: StatusParams) => {
      this.statuses.push(p);
      settle();
    });
    this.conn.listen();
  }

  /**
   * The handshake: `initialize` with `dir` as the one workspace folder, then `initialized`
   * (after which the server reads the folder's .iommu files).
   */
  async initialize(
    dir: string,
    options: { capabilities?: ClientCapabilities; initializationOptions?: unknown; processId?: number | null } = {},
  ): Promise<InitializeResult> {
    const uri = pathToFileURL(dir).href;
    const result = await this.conn.sendRequest(InitializeRequest.type, {
      processId: options.processId === undefined ? process.pid : options.processId,
      rootUri: uri,
      capabilities: options.capabilities ?? {},
      workspaceFolders: [{ uri, name: 'ws' }],
      initializationOptions: options.initializationOptions,
    });
    await this.conn.sendNotification(InitializedNotification.type, {});
    return result;
  }

  /** Checks the waiters of `until` again: for tests that record other messages themselves. */
  nudge(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when `check` holds on the diagnostics, logs and statuses received so far. */
  until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    if (this.exited) return Promise.reject(new Error(`the server exited before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; have ${JSON.stringify([...this.latest]).slice(0, 4000)}`)),
        ms,
      );
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  codes(uri: string): string[] {
    return (this.latest.get(uri) ?? []).map((d) => String(d.code));
  }

  open(uri: string, text: string): Promise<void> {
    return this.conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'iommu', version: 1, text },
    });
  }

  /** Waits for a diagnostic with `code` in `uri` and returns it. */
  async diagnostic(uri: string, code: string): Promise<Diagnostic> {
    await this.until(() => this.codes(uri).includes(code), code);
    return this.latest.get(uri)!.find((x) => x.code === code)!;
  }

  /** The first code action offered for diagnostic `d`. */
  async firstFix(uri: string, d: Diagnostic): Promise<CodeAction> {
    const actions = await this.conn.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d] },
    });
    return actions?.[0] as CodeAction;
  }

  /** The markdown of the hover at a position. */
  async hoverText(uri: string, line: number, character: number): Promise<string> {
    const h = await this.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character } });
    return (h?.contents as { value: string }).value;
  }

  /** The server's memory; the heap is what is kept when it runs with `--expose-gc` (`collected`). */
  memory(): Promise<MemoryReport> {
    return this.conn.sendRequest<MemoryReport>(MEMORY_REQUEST);
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((r) => this.proc.once('exit', r));
      await this.conn.sendRequest(ShutdownRequest.type);
      await this.conn.sendNotification(ExitNotification.type);
      await gone;
    }
    this.conn.dispose();
  }
}

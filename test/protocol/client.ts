/**
 * A minimal LSP client for protocol tests: starts the bundled server (dist/server.cjs)
 * over stdio, records the diagnostics it publishes and wraps the requests tests use.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import {
  CodeActionRequest, createProtocolConnection, DidOpenTextDocumentNotification, ExitNotification, HoverRequest, PublishDiagnosticsNotification,
  ShutdownRequest, StreamMessageReader, StreamMessageWriter, LogMessageNotification,
  type CodeAction, type LogMessageParams, type Diagnostic, type ProtocolConnection, type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';

export const SERVER = join(import.meta.dirname, '..', '..', 'dist', 'server.cjs');

export class Client {
  readonly latest = new Map<string, Diagnostic[]>();
  /** window/logMessage and iommuLens/status notifications, in arrival order. */
  readonly logs: LogMessageParams[] = [];
  readonly statuses: Record<string, unknown>[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  readonly proc: ChildProcessWithoutNullStreams;
  readonly conn: ProtocolConnection;

  constructor() {
    this.proc = spawn(process.execPath, [SERVER, '--stdio']);
    this.conn = createProtocolConnection(new StreamMessageReader(this.proc.stdout), new StreamMessageWriter(this.proc.stdin));
    const settle = () => { this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true)); };
    this.conn.onNotification(PublishDiagnosticsNotification.type, (p: PublishDiagnosticsParams) => {
      this.latest.set(p.uri, p.diagnostics);
      settle();
    });
    this.conn.onNotification(LogMessageNotification.type, (p: LogMessageParams) => { this.logs.push(p); settle(); });
    this.conn.onNotification('iommuLens/status', (p: Record<string, unknown>) => { this.statuses.push(p); settle(); });
    this.conn.listen();
  }

  /** Resolves when `check` holds on the diagnostics, logs and statuses received so far. */
  until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; have ${JSON.stringify([...this.latest])}`)), ms);
      this.waiters.push({ check, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  codes(uri: string): string[] {
    return (this.latest.get(uri) ?? []).map((d) => String(d.code));
  }

  open(uri: string, text: string): Promise<void> {
    return this.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'iommu', version: 1, text } });
  }

  /** Waits for a diagnostic with `code` in `uri` and returns it. */
  async diagnostic(uri: string, code: string): Promise<Diagnostic> {
    await this.until(() => this.codes(uri).includes(code), code);
    return this.latest.get(uri)!.find((x) => x.code === code)!;
  }

  /** The first code action offered for diagnostic `d`. */
  async firstFix(uri: string, d: Diagnostic): Promise<CodeAction> {
    const actions = await this.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    return actions?.[0] as CodeAction;
  }

  /** The markdown of the hover at a position. */
  async hoverText(uri: string, line: number, character: number): Promise<string> {
    const h = await this.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character } });
    return (h?.contents as { value: string }).value;
  }

  async stop(): Promise<void> {
    await this.conn.sendRequest(ShutdownRequest.type);
    await this.conn.sendNotification(ExitNotification.type);
    await new Promise((r) => this.proc.once('exit', r));
    this.conn.dispose();
  }
}


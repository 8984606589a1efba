/**
 * Publishing diagnostics: every file of the workspace, open or not, skipping files whose
 * findings are those published last; the workspace folders' own findings (the limit); the
 * internal errors' stacks, logged once. A client that pulls diagnostics (LSP 3.17,
 * `textDocument/diagnostic`) gets the same diagnostics as reports with result ids
 * (pullDiagnostics.ts answers its requests); the others get them pushed.
 */
import type { Connection, Diagnostic } from 'vscode-languageserver';
import type { Finding } from '../model';
import { applySeverities, type Analysis, type AnalysisHost } from '../ide';
import { toDiagnostic } from './convert';
import type { Log } from './log';
import type { Publisher, Scheduler } from './scheduler';
import type { ServerSettings } from './settings';
import type { WorkspaceLimit } from './workspaceLimit';

type Lines = Pick<Analysis, 'lineIndex'>;

/** What publishing reads of the server's context (serverContext.ts). */
export interface PublishingContext {
  readonly connection: Connection;
  readonly host: AnalysisHost;
  readonly log: Log;
  readonly scheduler: Pick<Scheduler, 'loaded'>;
  readonly limit: WorkspaceLimit;
  readonly folders: readonly string[];
  readonly settings: ServerSettings;
}

/** A file's diagnostics as the client pulls them: `resultId` changes exactly when they do. */
export interface PulledReport {
  resultId: string;
  diagnostics: Diagnostic[];
}

export class Publishing {
  /** Set at `initialize` when the client pulls: reports are kept for its requests, nothing is pushed. */
  private pull: { refresh: boolean } | undefined;
  private readonly reports = new Map<string, PulledReport>();
  private nextResultId = 0;
  private refreshDue = false;
  /** What was last published per uri, to skip sending unchanged diagnostics. */
  private readonly published = new Map<string, string>();
  /**
   * The findings behind it. The host reuses the findings of components it did not
   * re-analyse, so the same objects in the same order mean the same diagnostics, found
   * without converting or serialising them (most files, after an edit in a large workspace).
   */
  private readonly publishedFindings = new Map<string, readonly Finding[]>();
  /** The stacks of internal errors already logged: one failure covers many files, and runs repeat it. */
  private readonly loggedCauses = new Set<string>();
  /** A component's findings come while the host holds the very texts analysed: its line tables fit. */
  private readonly hostLines: Lines;

  constructor(private readonly ctx: PublishingContext) {
    this.hostLines = { lineIndex: (uri: string) => ctx.host.lineIndex(uri) };
  }

  /** Where the scheduler sends findings. */
  publisher(): Publisher {
    return { files: (f) => this.files(f, this.hostLines), analysis: (a) => this.analysis(a) };
  }

  /** Sends the diagnostics of each file whose findings are not those published last. */
  files(findings: ReadonlyMap<string, readonly Finding[]>, lines: Lines): void {
    for (const [uri, list] of findings) {
      if (sameFindings(this.publishedFindings.get(uri), list)) continue;
      this.publishedFindings.set(uri, list);
      this.logCauses(list);
      const diagnostics = list.map((f) => toDiagnostic(f, lines));
      const key = JSON.stringify(diagnostics);
      if (this.published.get(uri) === key) continue;
      this.published.set(uri, key);
      this.send(uri, diagnostics);
    }
  }

  /** The client pulls diagnostics; `refresh`: it takes `workspace/diagnostic/refresh` when they change. */
  pullMode(refresh: boolean): void {
    this.pull = { refresh };
  }

  get pulling(): boolean {
    return this.pull !== undefined;
  }

  /** What a pull answers for `uri` (a file the server holds no findings for has none). */
  report(uri: string): PulledReport {
    return this.reports.get(uri) ?? { resultId: 'none', diagnostics: [] };
  }

  /** Every file with a report: the workspace pull. */
  reported(): IterableIterator<[string, PulledReport]> {
    return this.reports.entries();
  }

  private send(uri: string, diagnostics: Diagnostic[]): void {
    if (!this.pull) {
      void this.ctx.connection.sendDiagnostics({ uri, diagnostics });
      return;
    }
    this.reports.set(uri, { resultId: String(++this.nextResultId), diagnostics });
    // One refresh for a batch of files: the client then pulls what it shows.
    if (!this.pull.refresh || this.refreshDue) return;
    this.refreshDue = true;
    queueMicrotask(() => {
      this.refreshDue = false;
      void this.ctx.connection.languages.diagnostics.refresh().catch(() => undefined);
    });
  }

  /** A whole analysis, and the workspace folders' own findings; what is in neither is cleared. */
  analysis(analysis: Analysis): void {
    const { ctx } = this;
    this.files(analysis.findings, analysis);
    const folderFindings = new Map(
      [...ctx.limit.findings(ctx.folders)].map(([uri, list]) => [uri, applySeverities(list, ctx.settings.severity)]),
    );
    this.files(folderFindings, analysis);
    for (const uri of [...this.published.keys()]) {
      if (!analysis.findings.has(uri) && !folderFindings.has(uri)) {
        this.published.delete(uri);
        this.publishedFindings.delete(uri);
        this.send(uri, []);
      }
    }
  }

  /**
   * While the workspace is read, nothing is analysed, but an open document's syntax
   * findings depend on no other file: they are published at once. Nothing is sent for a
   * document without any (its first diagnostics then come with the analysis).
   */
  syntaxAtOnce(uri: string): void {
    if (!this.ctx.scheduler.loaded()) return;
    const findings = this.ctx.host.syntaxFindings(uri);
    if (findings.length || this.publishedFindings.has(uri)) this.files(new Map([[uri, findings]]), this.hostLines);
  }

  private logCauses(findings: readonly Finding[]): void {
    for (const f of findings) {
      if (f.cause === undefined || this.loggedCauses.has(f.cause)) continue;
      if (this.loggedCauses.size >= 100) this.loggedCauses.clear();
      this.loggedCauses.add(f.cause);
      this.ctx.log.error(`internal error (please report it with the file): ${f.cause}`);
    }
  }
}

function sameFindings(a: readonly Finding[] | undefined, b: readonly Finding[]): boolean {
  return a !== undefined && a.length === b.length && a.every((f, i) => f === b[i]);
}

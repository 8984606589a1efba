/**
 * What the server holds and when it analyses: `initialize` and `initialized` (the folders,
 * the settings, the first scan), folders added and removed, settings changed, documents
 * opened, edited, saved and closed, and files changed on disk. Files are found and read
 * through the context's file source (fileSource.ts: the disk, or the editor), and reads go
 * through one queue, so events about one file cannot overtake each other.
 */
import {
  DidChangeWatchedFilesNotification,
  FileChangeType,
  MessageType,
  type InitializeParams,
  type InitializeResult,
  type TextDocumentChangeEvent,
  type WorkspaceFoldersChangeEvent,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { CAPABILITIES } from './requestHandlers';
import { DIAGNOSTIC_PROVIDER } from './pullDiagnostics';
import type { ServerContext } from './serverContext';
import { readSettings } from './settings';
import { inside, type FileRead } from './fileSource';
import { ENGINE_IDS } from '../domains';

export class WorkspaceHandlers {
  private canWatch = false;
  /** The client tells when folders are added to or removed from the workspace. */
  private canFollowFolders = false;
  /** The settings last applied, as JSON: the client sends them at start and again after `initialized`. */
  private appliedJson: string | undefined;
  /**
   * Reads in the order the events came: a close (which reads the file back) and
   * a watched-file event for the same file cannot overtake each other.
   */
  private readQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: ServerContext) {}

  register(): void {
    const { connection } = this.ctx;
    connection.onInitialize(this.ctx.request('initialize', (params: InitializeParams) => this.initialize(params)));
    connection.onInitialized(this.ctx.notification('initialized', () => this.initialized()));
    connection.onDidChangeConfiguration(
      this.ctx.notification('workspace/didChangeConfiguration', (change: { settings?: unknown } | undefined) => {
        const s = (change?.settings as { iommuLens?: unknown } | undefined)?.iommuLens;
        if (s && this.applySettings(s)) this.ctx.schedule(0);
      }),
    );
    this.registerDocuments();
    connection.onDidChangeWatchedFiles(
      this.ctx.notification('workspace/didChangeWatchedFiles', (params: { changes?: unknown }) => this.watchedFiles(params)),
    );
  }

  private initialize(params: InitializeParams): InitializeResult {
    const { ctx } = this;
    const named = Array.isArray(params.workspaceFolders) ? params.workspaceFolders.map((f) => f?.uri) : [];
    ctx.folders = named.filter((u): u is string => typeof u === 'string');
    if (ctx.folders.length === 0 && typeof params.rootUri === 'string') ctx.folders = [params.rootUri];
    this.canWatch = !!params.capabilities?.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    this.canFollowFolders = params.capabilities?.workspace?.workspaceFolders === true;
    this.applySettings(params.initializationOptions);
    const options = params.initializationOptions as { pushDiagnostics?: unknown; clientFiles?: unknown } | null | undefined;
    ctx.files = ctx.env.files(ctx.connection, options?.clientFiles === true);
    ctx.log.info(`IOMMU Lens server 0.1.0 ${ctx.env.runtime}; workspace ${ctx.folders.join(', ') || '(none)'}`);
    // Pull diagnostics for clients that declare them (with a refresh when they change), push for the others.
    // A client that can pull may still ask for push (`pushDiagnostics`): the VS Code extension does.
    const askedPush = options?.pushDiagnostics === true;
    const pull = !askedPush && params.capabilities?.textDocument?.diagnostic !== undefined;
    if (pull) ctx.publishing.pullMode(params.capabilities?.workspace?.diagnostics?.refreshSupport === true);
    const capabilities = pull ? { ...CAPABILITIES, diagnosticProvider: DIAGNOSTIC_PROVIDER } : CAPABILITIES;
    return { capabilities, serverInfo: { name: 'iommu-lens', version: '0.1.0' } };
  }

  private initialized(): void {
    const { ctx } = this;
    if (this.canWatch) {
      void ctx.connection.client
        .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.iommu' }] })
        .catch(() => undefined);
    }
    // Analyses and requests wait for the scan (Scheduler.hold), which then runs the first analysis.
    ctx.scheduler.hold(this.scanFolders(ctx.folders));
    if (this.canFollowFolders) {
      ctx.connection.workspace.onDidChangeWorkspaceFolders(
        ctx.notification('workspace/didChangeWorkspaceFolders', (e: WorkspaceFoldersChangeEvent) => this.changeFolders(e)),
      );
    }
  }

  /** Applies new settings; false when they are the ones already applied. */
  private applySettings(raw: unknown): boolean {
    const { ctx } = this;
    const json = JSON.stringify(raw ?? {});
    if (json === this.appliedJson) return false;
    this.appliedJson = json;
    const r = readSettings(raw);
    const limitChanged = r.settings.maxFileSize !== ctx.settings.maxFileSize;
    ctx.settings = r.settings;
    ctx.log.level = ctx.settings.logLevel;
    for (const p of r.problems) ctx.log.warn(`settings: ${p}`);
    ctx.host.setOptions(ctx.analysisOptions());
    ctx.scheduler.changed(true);
    // Files held by their size only may be under the new limit: read them again.
    if (limitChanged) {
      for (const uri of ctx.host.uris())
        if (ctx.host.isOversized(uri))
          void this.inOrder(async () => {
            await this.readIn(uri);
            ctx.schedule(0);
          });
    }
    return true;
  }

  /**
   * Reads every file of `scan` (workspace folders) that the editor has not opened, as the
   * walk finds them (a stream: nothing of the whole tree is held but the files read), up
   * to the workspace limit; the rest are counted unread.
   */
  private async scanFolders(scan: readonly string[]): Promise<void> {
    const { ctx } = this;
    let before = 0;
    for (const folder of scan) {
      // One unreadable folder (a bad uri, no permission) does not keep the others out.
      try {
        const found = await ctx.files.scan(folder, {
          // In the read queue and checked again when its turn comes: an open, close or
          // watched-file event that came meanwhile knows better than this scan.
          file: (uri) =>
            this.inOrder(async () => {
              if (ctx.documents.get(uri) || ctx.host.hasFile(uri)) return;
              const r = await ctx.files.read(uri, {
                maxChars: ctx.settings.maxFileSize,
                fits: this.fits,
                unreadable: this.unreadable(uri),
              });
              if (!ctx.documents.get(uri) && !ctx.host.hasFile(uri) && r.kind !== 'none') this.store(uri, r);
            }),
          problem: (message) => ctx.log.warn(message),
          progress: (n) => ctx.scheduler.reading(`${before + n} files`),
        });
        before += found;
        ctx.log.info(`${folder}: ${found} .iommu files`);
      } catch (e) {
        ctx.log.error(`cannot read the workspace folder ${folder}: ${(e as Error).message}`);
      }
    }
    this.tellUnread();
  }

  /**
   * A folder added to the workspace is read like the first ones (analyses wait for it); the
   * files of a folder removed are dropped unless open or inside a folder that stays.
   */
  private changeFolders(event: WorkspaceFoldersChangeEvent): void {
    const { ctx } = this;
    const uris = (list: unknown) =>
      Array.isArray(list) ? list.map((f) => (f as { uri?: unknown } | null)?.uri).filter((u): u is string => typeof u === 'string') : [];
    const removed = uris(event?.removed);
    const added = uris(event?.added).filter((u) => !ctx.folders.includes(u));
    ctx.folders = [...ctx.folders.filter((f) => !removed.includes(f)), ...added];
    const gone = (uri: string) => removed.some((r) => inside(uri, r)) && !ctx.folders.some((f) => inside(uri, f));
    for (const uri of ctx.host.uris()) if (!ctx.documents.get(uri) && gone(uri)) this.removeFile(uri);
    ctx.limit.forgetWhere(gone);
    ctx.log.info(`workspace folders: ${ctx.folders.join(', ') || '(none)'}`);
    if (added.length) ctx.scheduler.hold(this.scanFolders(added));
    else ctx.schedule(0);
  }

  private registerDocuments(): void {
    const { ctx } = this;
    ctx.documents.onDidOpen(
      ctx.notification('textDocument/didOpen', (e: TextDocumentChangeEvent<TextDocument>) => {
        this.setFile(e.document.uri, e.document.getText());
        ctx.publishing.syntaxAtOnce(e.document.uri);
        ctx.schedule(0);
      }),
    );
    ctx.documents.onDidChangeContent(
      ctx.notification('textDocument/didChange', (e: TextDocumentChangeEvent<TextDocument>) => {
        this.setFile(e.document.uri, e.document.getText(), false);
        ctx.publishing.syntaxAtOnce(e.document.uri);
        ctx.schedule();
      }),
    );
    // Saving runs the checks left out while typing (`checksWhileTyping`).
    ctx.documents.onDidSave(
      ctx.notification('textDocument/didSave', () => {
        if (ctx.settings.checksWhileTyping.size === ENGINE_IDS.length) return;
        ctx.scheduler.changed(true);
        ctx.schedule(0);
      }),
    );
    ctx.documents.onDidClose(
      ctx.notification('textDocument/didClose', (e: TextDocumentChangeEvent<TextDocument>) =>
        this.inOrder(async () => {
          // Closed: what counts again is the file on disk (gone for an unsaved buffer, or a file
          // outside the workspace), unless the editor opened it again while it was read.
          const uri = e.document.uri;
          if (ctx.files.belongs(uri, ctx.folders)) await this.readIn(uri);
          else if (!ctx.documents.get(uri)) this.removeFile(uri);
          ctx.schedule(0);
        }),
      ),
    );
  }

  private watchedFiles(params: { changes?: unknown }): Promise<unknown> {
    const { ctx } = this;
    return this.inOrder(async () => {
      const changes = Array.isArray(params?.changes) ? (params.changes as { uri?: unknown; type?: unknown }[]) : [];
      for (const change of changes) {
        const uri = change?.uri;
        if (typeof uri !== 'string' || ctx.documents.get(uri)) continue; // the editor's text wins while open
        // The watcher's pattern is every *.iommu; the workspace is what the scan's rule takes.
        if (change.type === FileChangeType.Deleted || !ctx.files.belongs(uri, ctx.folders)) this.removeFile(uri);
        else await this.readIn(uri);
      }
      ctx.schedule(0);
    });
  }

  private inOrder(work: () => Promise<void>): Promise<unknown> {
    this.readQueue = this.readQueue.then(work, work);
    return this.readQueue;
  }

  /** `full`: every engine should see this change (open, save, disk), not only those run while typing. */
  private setFile(uri: string, text: string, full = true): void {
    if (!this.ctx.host.setFile(uri, text)) return;
    this.ctx.scheduler.changed(full);
    this.ctx.limit.forget(uri);
  }

  private removeFile(uri: string): void {
    this.ctx.host.removeFile(uri);
    this.ctx.scheduler.changed(true);
    this.ctx.limit.forget(uri);
  }

  /** What was read goes into the host; a file declined by the limit stays unread. */
  private store(uri: string, r: FileRead): void {
    const { ctx } = this;
    if (r.kind === 'text') this.setFile(uri, r.text);
    else if (r.kind === 'oversized') {
      if (ctx.host.setOversized(uri, r.bytes)) ctx.scheduler.changed(true);
      ctx.limit.forget(uri);
    } else {
      this.removeFile(uri);
      if (r.kind === 'over-limit') ctx.limit.leave(uri);
    }
  }

  /**
   * Reads a workspace file (from its source) into the host: a file new to the workspace only while
   * it fits the limit (else it stays unread); a file already held, whatever its size.
   */
  private async readIn(uri: string): Promise<void> {
    const { ctx } = this;
    const held = ctx.host.hasFile(uri) && !ctx.host.isOversized(uri);
    const r = await ctx.files.read(uri, {
      maxChars: ctx.settings.maxFileSize,
      fits: held ? undefined : this.fits,
      unreadable: this.unreadable(uri),
    });
    if (!ctx.documents.get(uri)) this.store(uri, r); // else opened while it was read: the editor's text wins
  }

  private readonly fits = (bytes: number) => this.ctx.limit.fits(bytes);

  private unreadable(uri: string) {
    return (why: string) => this.ctx.log.warn(`${uri} cannot be read, so it is left out: ${why}`);
  }

  /** After a scan: the notification, once while the workspace stays past the limit. */
  private tellUnread(): void {
    const message = this.ctx.limit.news();
    if (message === undefined) return;
    this.ctx.log.warn(message);
    void this.ctx.connection.sendNotification('window/showMessage', { type: MessageType.Warning, message });
  }
}

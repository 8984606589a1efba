/**
 * The language server: keeps the analysis host in step with open editors and the
 * files on disk, re-analyses after edits (debounced), and publishes diagnostics for
 * every .iommu file of the workspace, open or not.
 */
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  DocumentHighlightKind,
  ErrorCodes,
  FileChangeType,
  MarkupKind,
  MessageType,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type Location,
  type SelectionRange,
  type TextDocumentChangeEvent,
  type WorkspaceFoldersChangeEvent,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Span } from '@iommu-lens/grammar';
import type { Finding } from '../model';
import {
  AnalysisHost,
  applySeverities,
  completion,
  definition,
  formatDocument,
  formatRange,
  LineIndex,
  type FormatEdit,
  documentHighlights,
  documentSymbols,
  encodeSemanticTokens,
  foldingRanges,
  hover,
  inlayHints,
  prepareRename,
  references,
  rename,
  selectionRanges,
  semanticTokens,
  SEMANTIC_TOKEN_MODIFIERS,
  SEMANTIC_TOKEN_TYPES,
  workspaceSymbols,
  type Analysis,
  type SelectionRange as IdeSelectionRange,
} from '../ide';
import { registerAddressMap } from './addressMap';
import { SYMBOL_KIND, toCodeActions, toCompletionItem, toDiagnostic, toDocumentSymbol, toWorkspaceEdit } from './convert';
import { ENGINES } from '../sim';
import { guardNotification, guardRequest, invalidParams, keepAlive, type RequestGuard } from './guard';
import { Log } from './log';
import { documentUri, offsetAt, spanOf } from './params';
import { MEMORY_REQUEST, type MemoryReport } from './protocol';
import { Scheduler } from './scheduler';
import { DEFAULT_SETTINGS, readSettings } from './settings';
import { belongs, inside, readUri, scanFolder, WorkspaceLimit, type DiskRead } from './workspaceFiles';

export function startServer(connection: Connection): Connection {
  const documents = new TextDocuments(TextDocument);
  let settings = DEFAULT_SETTINGS;
  const log = new Log(connection.console, settings.logLevel);
  keepAlive(log);
  const host = new AnalysisHost({ maxFileSize: settings.maxFileSize });
  let folders: string[] = [];
  let canWatch = false;
  /** The client tells when folders are added to or removed from the workspace. */
  let canFollowFolders = false;
  /** What was last published per uri, to skip sending unchanged diagnostics. */
  const published = new Map<string, string>();
  /**
   * The findings behind it. The host reuses the findings of components it did not
   * re-analyse, so the same objects in the same order mean the same diagnostics, found
   * without converting or serialising them (most files, after an edit in a large workspace).
   */
  const publishedFindings = new Map<string, readonly Finding[]>();
  const sameFindings = (a: readonly Finding[] | undefined, b: readonly Finding[]) =>
    a !== undefined && a.length === b.length && a.every((f, i) => f === b[i]);

  /** The stacks of internal errors already logged: one failure covers many files, and runs repeat it. */
  const loggedCauses = new Set<string>();
  const logCauses = (findings: readonly Finding[]) => {
    for (const f of findings) {
      if (f.cause === undefined || loggedCauses.has(f.cause)) continue;
      if (loggedCauses.size >= 100) loggedCauses.clear();
      loggedCauses.add(f.cause);
      log.error(`internal error (please report it with the file): ${f.cause}`);
    }
  };

  /** Sends the diagnostics of each file whose findings are not those published last. */
  const publishFiles = (findings: ReadonlyMap<string, readonly Finding[]>, lines: Pick<Analysis, 'lineIndex'>) => {
    for (const [uri, list] of findings) {
      if (sameFindings(publishedFindings.get(uri), list)) continue;
      publishedFindings.set(uri, list);
      logCauses(list);
      const diagnostics = list.map((f) => toDiagnostic(f, lines));
      const key = JSON.stringify(diagnostics);
      if (published.get(uri) === key) continue;
      published.set(uri, key);
      void connection.sendDiagnostics({ uri, diagnostics });
    }
  };
  /** A whole analysis, and the workspace folders' own findings; what is in neither is cleared. */
  const publishAnalysis = (analysis: Analysis) => {
    publishFiles(analysis.findings, analysis);
    const folderFindings = new Map([...limit.findings(folders)].map(([uri, list]) => [uri, applySeverities(list, settings.severity)]));
    publishFiles(folderFindings, analysis);
    for (const uri of [...published.keys()]) {
      if (!analysis.findings.has(uri) && !folderFindings.has(uri)) {
        published.delete(uri);
        publishedFindings.delete(uri);
        void connection.sendDiagnostics({ uri, diagnostics: [] });
      }
    }
  };
  // A component's findings come while the host holds the very texts analysed: its line tables fit.
  const hostLines = { lineIndex: (uri: string) => host.lineIndex(uri) };
  const scheduler = new Scheduler(
    host,
    connection,
    log,
    () => settings,
    { files: (f) => publishFiles(f, hostLines), analysis: publishAnalysis },
    () => new Set(documents.keys()),
  );
  /** `full`: every engine should see this change (open, save, disk), not only those run while typing. */
  const setFile = (uri: string, text: string, full = true) => {
    if (!host.setFile(uri, text)) return;
    scheduler.changed(full);
    limit.forget(uri);
  };
  const removeFile = (uri: string) => {
    host.removeFile(uri);
    scheduler.changed(true);
    limit.forget(uri);
  };
  /** What was read from disk goes into the host; a file declined by the limit stays unread. */
  const store = (uri: string, r: DiskRead) => {
    if (r.kind === 'text') setFile(uri, r.text);
    else if (r.kind === 'oversized') {
      if (host.setOversized(uri, r.bytes)) scheduler.changed(true);
      limit.forget(uri);
    } else {
      removeFile(uri);
      if (r.kind === 'over-limit') limit.leave(uri);
    }
  };
  const analysisOptions = () => ({ maxFileSize: settings.maxFileSize, severity: settings.severity, incomplete: limit.incomplete });
  const limit = new WorkspaceLimit(
    () => host.size(),
    () => {
      host.setOptions(analysisOptions());
      scheduler.changed(true);
    },
  );
  const fits = (bytes: number) => limit.fits(bytes);
  /** After a scan: the notification, once while the workspace stays past the limit. */
  const tellUnread = () => {
    const message = limit.news();
    if (message === undefined) return;
    log.warn(message);
    void connection.sendNotification('window/showMessage', { type: MessageType.Warning, message });
  };

  /** The settings last applied, as JSON: the client sends them at start and again after `initialized`. */
  let appliedJson: string | undefined;
  /** Applies new settings; false when they are the ones already applied. */
  const applySettings = (raw: unknown): boolean => {
    const json = JSON.stringify(raw ?? {});
    if (json === appliedJson) return false;
    appliedJson = json;
    const r = readSettings(raw);
    const limitChanged = r.settings.maxFileSize !== settings.maxFileSize;
    settings = r.settings;
    log.level = settings.logLevel;
    for (const p of r.problems) log.warn(`settings: ${p}`);
    host.setOptions(analysisOptions());
    scheduler.changed(true);
    // Files held by their size only may be under the new limit: read them again.
    if (limitChanged) {
      for (const uri of host.uris())
        if (host.isOversized(uri))
          void inOrder(async () => {
            await readIn(uri);
            schedule(0);
          });
    }
    return true;
  };

  /** Requests (hover, code actions) answer from the current text: analyse first if needed. */
  const current = (): Analysis | undefined => scheduler.current();
  /**
   * The current analysis, if it holds `uri`. After a failed run the last good analysis
   * stands, and it may not know a file opened since: such requests get empty answers.
   */
  const at = (uri: string): Analysis | undefined => {
    const a = current();
    return a?.findings.has(uri) && host.hasFile(uri) ? a : undefined;
  };
  /** The host's cached line table when it holds this very text (open documents: always). */
  const linesOf = (uri: string, text: string): LineIndex => (host.text(uri) === text ? host.lineIndex(uri) : new LineIndex(text));
  const toLocation = (a: Analysis, l: { uri: string; span: Span }): Location => ({ uri: l.uri, range: a.lineIndex(l.uri).range(l.span) });
  const schedule = (delay?: number) => scheduler.schedule(delay);
  /** Every handler is guarded (guard.ts): a failure answers with an error and is logged, the server goes on. */
  const request: RequestGuard = (method, handler) => guardRequest(log, method, handler, () => scheduler.loaded());
  const notification = <A extends unknown[]>(method: string, handler: (...args: A) => unknown) => guardNotification(log, method, handler);
  const unreadable = (uri: string) => (why: string) => log.warn(`${uri} cannot be read, so it is left out: ${why}`);
  /**
   * Reads a workspace file from disk into the host: a file new to the workspace only while
   * it fits the limit (else it stays unread); a file already held, whatever its size.
   */
  const readIn = async (uri: string) => {
    const held = host.hasFile(uri) && !host.isOversized(uri);
    const r = await readUri(uri, { maxChars: settings.maxFileSize, fits: held ? undefined : fits, unreadable: unreadable(uri) });
    if (!documents.get(uri)) store(uri, r); // else opened while it was read: the editor's text wins
  };
  /** The text of a document: the editor's while it is open, else the host's (read from disk). */
  const textOf = (uri: string): string | undefined => documents.get(uri)?.getText() ?? host.text(uri);

  connection.onInitialize(
    request('initialize', (params: InitializeParams): InitializeResult => {
      const named = Array.isArray(params.workspaceFolders) ? params.workspaceFolders.map((f) => f?.uri) : [];
      folders = named.filter((u): u is string => typeof u === 'string');
      if (folders.length === 0 && typeof params.rootUri === 'string') folders = [params.rootUri];
      canWatch = !!params.capabilities?.workspace?.didChangeWatchedFiles?.dynamicRegistration;
      canFollowFolders = params.capabilities?.workspace?.workspaceFolders === true;
      applySettings(params.initializationOptions);
      log.info(`IOMMU Lens server 0.1.0 on Node ${process.version}; workspace ${folders.join(', ') || '(none)'}`);
      return {
        capabilities: {
          workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
          textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
          hoverProvider: true,
          codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
          inlayHintProvider: true,
          completionProvider: { triggerCharacters: ['.'] },
          definitionProvider: true,
          referencesProvider: true,
          documentHighlightProvider: true,
          renameProvider: { prepareProvider: true },
          documentSymbolProvider: { label: 'IOMMU Lens' },
          workspaceSymbolProvider: true,
          foldingRangeProvider: true,
          documentFormattingProvider: true,
          documentRangeFormattingProvider: true,
          selectionRangeProvider: true,
          semanticTokensProvider: {
            legend: { tokenTypes: [...SEMANTIC_TOKEN_TYPES], tokenModifiers: [...SEMANTIC_TOKEN_MODIFIERS] },
            full: true,
            range: true,
          },
        },
        serverInfo: { name: 'iommu-lens', version: '0.1.0' },
      };
    }),
  );

  /**
   * Reads every file of `scan` (workspace folders) that the editor has not opened, as the
   * walk finds them (a stream: nothing of the whole tree is held but the files read), up
   * to the workspace limit; the rest are counted unread.
   */
  const scanFolders = async (scan: readonly string[]) => {
    let before = 0;
    for (const folder of scan) {
      // One unreadable folder (a bad uri, no permission) does not keep the others out.
      try {
        const found = await scanFolder(folder, {
          // In the disk queue and checked again when its turn comes: an open, close or
          // watched-file event that came meanwhile knows better than this scan.
          file: (uri) =>
            inOrder(async () => {
              if (documents.get(uri) || host.hasFile(uri)) return;
              const r = await readUri(uri, { maxChars: settings.maxFileSize, fits, unreadable: unreadable(uri) });
              if (!documents.get(uri) && !host.hasFile(uri) && r.kind !== 'none') store(uri, r);
            }),
          problem: (message) => log.warn(message),
          progress: (n) => scheduler.reading(`${before + n} files`),
        });
        before += found;
        log.info(`${folder}: ${found} .iommu files`);
      } catch (e) {
        log.error(`cannot read the workspace folder ${folder}: ${(e as Error).message}`);
      }
    }
    tellUnread();
  };

  connection.onInitialized(
    notification('initialized', () => {
      if (canWatch) {
        void connection.client
          .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.iommu' }] })
          .catch(() => undefined);
      }
      // Analyses and requests wait for the scan (Scheduler.hold), which then runs the first analysis.
      scheduler.hold(scanFolders(folders));
      if (canFollowFolders)
        connection.workspace.onDidChangeWorkspaceFolders(notification('workspace/didChangeWorkspaceFolders', changeFolders));
    }),
  );

  /**
   * A folder added to the workspace is read like the first ones (analyses wait for it); the
   * files of a folder removed are dropped unless open or inside a folder that stays.
   */
  const changeFolders = (event: WorkspaceFoldersChangeEvent) => {
    const uris = (list: unknown) =>
      Array.isArray(list) ? list.map((f) => (f as { uri?: unknown } | null)?.uri).filter((u): u is string => typeof u === 'string') : [];
    const removed = uris(event?.removed);
    const added = uris(event?.added).filter((u) => !folders.includes(u));
    folders = [...folders.filter((f) => !removed.includes(f)), ...added];
    const gone = (uri: string) => removed.some((r) => inside(uri, r)) && !folders.some((f) => inside(uri, f));
    for (const uri of host.uris()) if (!documents.get(uri) && gone(uri)) removeFile(uri);
    limit.forgetWhere(gone);
    log.info(`workspace folders: ${folders.join(', ') || '(none)'}`);
    if (added.length) scheduler.hold(scanFolders(added));
    else schedule(0);
  };

  connection.onDidChangeConfiguration(
    notification('workspace/didChangeConfiguration', (change: { settings?: unknown } | undefined) => {
      const s = (change?.settings as { iommuLens?: unknown } | undefined)?.iommuLens;
      if (s && applySettings(s)) schedule(0);
    }),
  );

  connection.onHover(
    request('textDocument/hover', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      if (!a) return null;
      const lines = a.lineIndex(uri);
      const h = hover(a, uri, offsetAt(lines, params.position));
      return h ? { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: lines.range(h.span) } : null;
    }),
  );

  connection.languages.inlayHint.on(
    request('textDocument/inlayHint', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      if (!a) return [];
      const lines = a.lineIndex(uri);
      return inlayHints(a, uri, spanOf(lines, params.range)).map((h) => ({
        position: lines.position(h.offset),
        label: h.label,
        tooltip: h.tooltip,
        paddingLeft: false,
      }));
    }),
  );

  connection.onCodeAction(
    request('textDocument/codeAction', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      return a ? toCodeActions(a, uri, spanOf(a.lineIndex(uri), params.range)) : [];
    }),
  );
  registerAddressMap(connection, current, request);

  // Completion reads its context from the text at the cursor (the line being typed may not
  // parse) and the names from the analysis of the current text.
  connection.onCompletion(
    request('textDocument/completion', (params) => {
      const uri = documentUri(params);
      const text = textOf(uri);
      const a = current();
      if (text === undefined || !a) return [];
      const lines = linesOf(uri, text);
      return completion(a, uri, text, offsetAt(lines, params.position)).map((item) => toCompletionItem(item, lines));
    }),
  );

  connection.onDefinition(
    request('textDocument/definition', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      const target = a && definition(a, uri, offsetAt(a.lineIndex(uri), params.position));
      return target ? toLocation(a!, target) : null;
    }),
  );

  connection.onReferences(
    request('textDocument/references', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      if (!a) return [];
      return references(a, uri, offsetAt(a.lineIndex(uri), params.position), params.context?.includeDeclaration === true).map((l) =>
        toLocation(a, l),
      );
    }),
  );

  connection.onDocumentHighlight(
    request('textDocument/documentHighlight', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      if (!a) return [];
      const lines = a.lineIndex(uri);
      return documentHighlights(a, uri, offsetAt(lines, params.position)).map((h) => ({
        range: lines.range(h.span),
        kind: h.kind === 'write' ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
      }));
    }),
  );

  connection.onPrepareRename(
    request('textDocument/prepareRename', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      if (!a) return null;
      const r = prepareRename(a, uri, offsetAt(a.lineIndex(uri), params.position));
      if ('error' in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
      return { range: a.lineIndex(uri).range(r.span), placeholder: r.placeholder };
    }),
  );

  connection.onRenameRequest(
    request('textDocument/rename', (params) => {
      const uri = documentUri(params);
      if (typeof params.newName !== 'string') throw invalidParams('newName must be a string');
      const a = at(uri);
      if (!a) return null;
      const r = rename(a, uri, offsetAt(a.lineIndex(uri), params.position), params.newName);
      if ('error' in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
      return toWorkspaceEdit(a, r.edits);
    }),
  );

  connection.onDocumentSymbol(
    request('textDocument/documentSymbol', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      if (!a) return [];
      const lines = a.lineIndex(uri);
      return documentSymbols(a, uri).map((s) => toDocumentSymbol(s, lines));
    }),
  );

  /** The document's text and, when the host analysed exactly that text, its cached parse. */
  const formatInput = (uri: string) => {
    const text = textOf(uri);
    if (text === undefined) return undefined;
    const ast = host.text(uri) === text ? scheduler.settled()?.ast(uri) : undefined;
    return { text, ast, lines: linesOf(uri, text) };
  };
  const toTextEdits = (lines: LineIndex, edits: readonly FormatEdit[]) =>
    edits.map((e) => ({ range: lines.range(e.span), newText: e.newText }));

  connection.onDocumentFormatting(
    request('textDocument/formatting', (params) => {
      const input = formatInput(documentUri(params));
      if (!input) return [];
      return toTextEdits(input.lines, formatDocument(input.text, params.options ?? {}, input.ast));
    }),
  );

  connection.onDocumentRangeFormatting(
    request('textDocument/rangeFormatting', (params) => {
      const input = formatInput(documentUri(params));
      if (!input) return [];
      return toTextEdits(input.lines, formatRange(input.text, spanOf(input.lines, params.range), params.options ?? {}, input.ast));
    }),
  );

  connection.onFoldingRanges(
    request('textDocument/foldingRange', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      const ast = a?.ast(uri);
      if (!a || !ast) return [];
      const lines = a.lineIndex(uri);
      return foldingRanges(ast, lines.text, lines).map((r) => ({ startLine: r.start, endLine: r.end, kind: r.kind }));
    }),
  );

  connection.onSelectionRanges(
    request('textDocument/selectionRange', (params) => {
      const uri = documentUri(params);
      if (!Array.isArray(params.positions)) throw invalidParams('positions must be an array');
      const a = at(uri);
      const ast = a?.ast(uri);
      if (!a || !ast) return [];
      const lines = a.lineIndex(uri);
      const toLsp = (r: IdeSelectionRange): SelectionRange => ({ range: lines.range(r.span), parent: r.parent && toLsp(r.parent) });
      return selectionRanges(
        ast,
        params.positions.map((p) => offsetAt(lines, p)),
      ).map(toLsp);
    }),
  );

  connection.languages.semanticTokens.on(
    request('textDocument/semanticTokens/full', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      return { data: a ? encodeSemanticTokens(semanticTokens(a, uri), a.lineIndex(uri)) : [] };
    }),
  );

  connection.languages.semanticTokens.onRange(
    request('textDocument/semanticTokens/range', (params) => {
      const uri = documentUri(params);
      const a = at(uri);
      if (!a) return { data: [] };
      const lines = a.lineIndex(uri);
      return { data: encodeSemanticTokens(semanticTokens(a, uri, spanOf(lines, params.range)), lines) };
    }),
  );

  connection.onWorkspaceSymbol(
    request('workspace/symbol', (params) => {
      const a = current();
      if (!a) return [];
      const query = typeof params?.query === 'string' ? params.query : '';
      return workspaceSymbols(a, query).map((s) => ({
        name: s.name,
        kind: SYMBOL_KIND[s.kind],
        containerName: s.container,
        location: toLocation(a, s),
      }));
    }),
  );

  /**
   * While the workspace is read, nothing is analysed, but an open document's syntax
   * findings depend on no other file: they are published at once. Nothing is sent for a
   * document without any (its first diagnostics then come with the analysis).
   */
  const syntaxAtOnce = (uri: string) => {
    if (!scheduler.loaded()) return;
    const findings = host.syntaxFindings(uri);
    if (findings.length || publishedFindings.has(uri)) publishFiles(new Map([[uri, findings]]), hostLines);
  };
  documents.onDidOpen(
    notification('textDocument/didOpen', (e: TextDocumentChangeEvent<TextDocument>) => {
      setFile(e.document.uri, e.document.getText());
      syntaxAtOnce(e.document.uri);
      schedule(0);
    }),
  );
  documents.onDidChangeContent(
    notification('textDocument/didChange', (e: TextDocumentChangeEvent<TextDocument>) => {
      setFile(e.document.uri, e.document.getText(), false);
      syntaxAtOnce(e.document.uri);
      schedule();
    }),
  );
  // Saving runs the checks left out while typing (`checksWhileTyping`).
  documents.onDidSave(
    notification('textDocument/didSave', () => {
      if (settings.checksWhileTyping.size === ENGINES.length) return;
      scheduler.changed(true);
      schedule(0);
    }),
  );
  /**
   * Reads from disk in the order the events came: a close (which reads the file back) and
   * a watched-file event for the same file cannot overtake each other.
   */
  let diskQueue: Promise<unknown> = Promise.resolve();
  const inOrder = (work: () => Promise<void>) => {
    diskQueue = diskQueue.then(work, work);
    return diskQueue;
  };

  documents.onDidClose(
    notification('textDocument/didClose', (e: TextDocumentChangeEvent<TextDocument>) =>
      inOrder(async () => {
        // Closed: what counts again is the file on disk (gone for an unsaved buffer, or a file
        // outside the workspace), unless the editor opened it again while it was read.
        const uri = e.document.uri;
        if (belongs(uri, folders)) await readIn(uri);
        else if (!documents.get(uri)) removeFile(uri);
        schedule(0);
      }),
    ),
  );

  connection.onDidChangeWatchedFiles(
    notification('workspace/didChangeWatchedFiles', (params: { changes?: unknown }) =>
      inOrder(async () => {
        const changes = Array.isArray(params?.changes) ? (params.changes as { uri?: unknown; type?: unknown }[]) : [];
        for (const change of changes) {
          const uri = change?.uri;
          if (typeof uri !== 'string' || documents.get(uri)) continue; // the editor's text wins while open
          // The watcher's pattern is every *.iommu; the workspace is what the scan's rule takes.
          if (change.type === FileChangeType.Deleted || !belongs(uri, folders)) removeFile(uri);
          else await readIn(uri);
        }
        schedule(0);
      }),
    ),
  );

  // For soak tests and leak hunts: the server's memory, after a full collection when
  // node runs with --expose-gc (the heap then holds only what is kept).
  connection.onRequest(
    MEMORY_REQUEST,
    request(MEMORY_REQUEST, (): MemoryReport => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      return { ...process.memoryUsage(), collected: gc !== undefined };
    }),
  );

  documents.listen(connection);
  connection.listen();
  return connection;
}

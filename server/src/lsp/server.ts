/**
 * The language server: keeps the analysis host in step with open editors and the
 * files on disk, re-analyses after edits (debounced), and publishes diagnostics for
 * every .iommu file of the workspace, open or not.
 */
import {
  CodeActionKind, createConnection, DidChangeWatchedFilesNotification, DocumentHighlightKind, ErrorCodes, FileChangeType, MarkupKind,
  ProposedFeatures, ResponseError, TextDocuments, TextDocumentSyncKind, type Connection, type InitializeParams, type InitializeResult, type Location,
  type SelectionRange,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Span } from '@iommu-lens/grammar';
import type { Finding } from '../model';
import {
  AnalysisHost, completion, definition, formatDocument, formatRange, LineIndex, type FormatEdit, documentHighlights, documentSymbols, encodeSemanticTokens, foldingRanges, hover, inlayHints,
  prepareRename, references, rename, selectionRanges, semanticTokens, SEMANTIC_TOKEN_MODIFIERS, SEMANTIC_TOKEN_TYPES, workspaceSymbols,
  type Analysis, type SelectionRange as IdeSelectionRange,
} from '../ide';
import { registerAddressMap } from './addressMap';
import { SYMBOL_KIND, toCodeActions, toCompletionItem, toDiagnostic, toDocumentSymbol, toWorkspaceEdit } from './convert';
import { ENGINES } from '../sim';
import { Log } from './log';
import { Scheduler } from './scheduler';
import { DEFAULT_SETTINGS, readSettings } from './settings';
import { findIommuFiles, readUri } from './workspaceFiles';

export function startServer(connection: Connection = createConnection(ProposedFeatures.all)): Connection {
  const documents = new TextDocuments(TextDocument);
  let settings = DEFAULT_SETTINGS;
  const log = new Log(connection.console, settings.logLevel);
  const host = new AnalysisHost({ maxFileSize: settings.maxFileSize });
  let folders: string[] = [];
  let canWatch = false;
  /** What was last published per uri, to skip sending unchanged diagnostics. */
  const published = new Map<string, string>();
  /**
   * The findings behind it. The host reuses the findings of components it did not
   * re-analyse, so the same objects in the same order mean the same diagnostics, found
   * without converting or serialising them (most files, after an edit in a large workspace).
   */
  const publishedFindings = new Map<string, readonly Finding[]>();
  const sameFindings = (a: readonly Finding[] | undefined, b: readonly Finding[]) => a !== undefined && a.length === b.length && a.every((f, i) => f === b[i]);

  const publish = (analysis: Analysis) => {
    for (const [uri, findings] of analysis.findings) {
      if (sameFindings(publishedFindings.get(uri), findings)) continue;
      publishedFindings.set(uri, findings);
      const diagnostics = findings.map((f) => toDiagnostic(f, analysis));
      const key = JSON.stringify(diagnostics);
      if (published.get(uri) === key) continue;
      published.set(uri, key);
      void connection.sendDiagnostics({ uri, diagnostics });
    }
    for (const uri of [...published.keys()]) {
      if (!analysis.findings.has(uri)) {
        published.delete(uri);
        publishedFindings.delete(uri);
        void connection.sendDiagnostics({ uri, diagnostics: [] });
      }
    }
  };
  const scheduler = new Scheduler(host, connection, log, () => settings, publish);
  /** `full`: every engine should see this change (open, save, disk), not only those run while typing. */
  const setFile = (uri: string, text: string, full = true) => { if (host.setFile(uri, text)) scheduler.changed(full); };
  const removeFile = (uri: string) => { host.removeFile(uri); scheduler.changed(true); };

  /** The settings last applied, as JSON: the client sends them at start and again after `initialized`. */
  let appliedJson: string | undefined;
  /** Applies new settings; false when they are the ones already applied. */
  const applySettings = (raw: unknown): boolean => {
    const json = JSON.stringify(raw ?? {});
    if (json === appliedJson) return false;
    appliedJson = json;
    const r = readSettings(raw);
    settings = r.settings;
    log.level = settings.logLevel;
    for (const p of r.problems) log.warn(`settings: ${p}`);
    host.setOptions({ maxFileSize: settings.maxFileSize, severity: settings.severity });
    scheduler.changed(true);
    return true;
  };

  /** Requests (hover, code actions) answer from the current text: analyse first if needed. */
  const current = (): Analysis | undefined => scheduler.current();
  /** The current analysis, if it holds `uri`. */
  const at = (uri: string): Analysis | undefined => {
    const a = current();
    return a && host.hasFile(uri) ? a : undefined;
  };
  /** The host's cached line table when it holds this very text (open documents: always). */
  const linesOf = (uri: string, text: string): LineIndex => (host.text(uri) === text ? host.lineIndex(uri) : new LineIndex(text));
  const toLocation = (a: Analysis, l: { uri: string; span: Span }): Location => ({ uri: l.uri, range: a.lineIndex(l.uri).range(l.span) });
  const schedule = (delay?: number) => scheduler.schedule(delay);

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    folders = (params.workspaceFolders ?? []).map((f) => f.uri);
    if (folders.length === 0 && params.rootUri) folders = [params.rootUri];
    canWatch = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    applySettings(params.initializationOptions);
    log.info(`IOMMU Lens server 0.1.0 on Node ${process.version}; workspace ${folders.join(', ') || '(none)'}`);
    return {
      capabilities: {
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
  });

  connection.onInitialized(async () => {
    if (canWatch) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.iommu' }] });
    }
    for (const folder of folders) {
      const uris = await findIommuFiles(folder);
      log.info(`${folder}: ${uris.length} .iommu files`);
      for (const uri of uris) {
        if (documents.get(uri)) continue;
        const text = await readUri(uri);
        if (text !== undefined) setFile(uri, text);
      }
    }
    schedule(0);
  });

  connection.onDidChangeConfiguration((change) => {
    const s = (change.settings as { iommuLens?: unknown } | undefined)?.iommuLens;
    if (s && applySettings(s)) schedule(0);
  });

  connection.onHover((params) => {
    const a = current();
    if (!a || !host.hasFile(params.textDocument.uri)) return null;
    const lines = a.lineIndex(params.textDocument.uri);
    const h = hover(a, params.textDocument.uri, lines.offset(params.position));
    return h ? { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: lines.range(h.span) } : null;
  });

  connection.languages.inlayHint.on((params) => {
    const a = current();
    const uri = params.textDocument.uri;
    if (!a || !host.hasFile(uri)) return [];
    const lines = a.lineIndex(uri);
    const span = { start: lines.offset(params.range.start), end: lines.offset(params.range.end) };
    return inlayHints(a, uri, span).map((h) => ({ position: lines.position(h.offset), label: h.label, tooltip: h.tooltip, paddingLeft: false }));
  });

  connection.onCodeAction((params) => {
    const a = at(params.textDocument.uri);
    return a ? toCodeActions(a, params.textDocument.uri, params.range) : [];
  });
  registerAddressMap(connection, current);

  // Completion reads its context from the text at the cursor (the line being typed may not
  // parse) and the names from the analysis of the current text.
  connection.onCompletion((params) => {
    const uri = params.textDocument.uri;
    const text = documents.get(uri)?.getText() ?? host.text(uri);
    const a = current();
    if (text === undefined || !a) return [];
    const lines = linesOf(uri, text);
    return completion(a, uri, text, lines.offset(params.position)).map((item) => toCompletionItem(item, lines));
  });

  connection.onDefinition((params) => {
    const uri = params.textDocument.uri;
    const a = at(uri);
    const target = a && definition(a, uri, a.lineIndex(uri).offset(params.position));
    return target ? toLocation(a!, target) : null;
  });

  connection.onReferences((params) => {
    const uri = params.textDocument.uri;
    const a = at(uri);
    if (!a) return [];
    return references(a, uri, a.lineIndex(uri).offset(params.position), params.context.includeDeclaration).map((l) => toLocation(a, l));
  });

  connection.onDocumentHighlight((params) => {
    const uri = params.textDocument.uri;
    const a = at(uri);
    if (!a) return [];
    const lines = a.lineIndex(uri);
    return documentHighlights(a, uri, lines.offset(params.position)).map((h) => ({
      range: lines.range(h.span), kind: h.kind === 'write' ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
    }));
  });

  connection.onPrepareRename((params) => {
    const uri = params.textDocument.uri;
    const a = at(uri);
    if (!a) return null;
    const r = prepareRename(a, uri, a.lineIndex(uri).offset(params.position));
    if ('error' in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
    return { range: a.lineIndex(uri).range(r.span), placeholder: r.placeholder };
  });

  connection.onRenameRequest((params) => {
    const uri = params.textDocument.uri;
    const a = at(uri);
    if (!a) return null;
    const r = rename(a, uri, a.lineIndex(uri).offset(params.position), params.newName);
    if ('error' in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
    return toWorkspaceEdit(a, r.edits);
  });

  connection.onDocumentSymbol((params) => {
    const a = at(params.textDocument.uri);
    if (!a) return [];
    const lines = a.lineIndex(params.textDocument.uri);
    return documentSymbols(a, params.textDocument.uri).map((s) => toDocumentSymbol(s, lines));
  });

  /** The document's text and, when the host analysed exactly that text, its cached parse. */
  const formatInput = (uri: string) => {
    const text = documents.get(uri)?.getText() ?? host.text(uri);
    if (text === undefined) return undefined;
    const ast = host.text(uri) === text ? scheduler.settled()?.ast(uri) : undefined;
    return { text, ast, lines: linesOf(uri, text) };
  };
  const toTextEdits = (lines: LineIndex, edits: readonly FormatEdit[]) => edits.map((e) => ({ range: lines.range(e.span), newText: e.newText }));

  connection.onDocumentFormatting((params) => {
    const input = formatInput(params.textDocument.uri);
    if (!input) return [];
    return toTextEdits(input.lines, formatDocument(input.text, params.options, input.ast));
  });

  connection.onDocumentRangeFormatting((params) => {
    const input = formatInput(params.textDocument.uri);
    if (!input) return [];
    const span = { start: input.lines.offset(params.range.start), end: input.lines.offset(params.range.end) };
    return toTextEdits(input.lines, formatRange(input.text, span, params.options, input.ast));
  });

  connection.onFoldingRanges((params) => {
    const uri = params.textDocument.uri;
    const ast = at(uri)?.ast(uri);
    if (!ast) return [];
    const lines = host.lineIndex(uri);
    return foldingRanges(ast, lines.text, lines).map((r) => ({ startLine: r.start, endLine: r.end, kind: r.kind }));
  });

  connection.onSelectionRanges((params) => {
    const uri = params.textDocument.uri;
    const ast = at(uri)?.ast(uri);
    if (!ast) return [];
    const lines = host.lineIndex(uri);
    const toLsp = (r: IdeSelectionRange): SelectionRange => ({ range: lines.range(r.span), parent: r.parent && toLsp(r.parent) });
    return selectionRanges(ast, params.positions.map((p) => lines.offset(p))).map(toLsp);
  });

  connection.languages.semanticTokens.on((params) => {
    const uri = params.textDocument.uri;
    const a = at(uri);
    return { data: a ? encodeSemanticTokens(semanticTokens(a, uri), a.lineIndex(uri)) : [] };
  });

  connection.languages.semanticTokens.onRange((params) => {
    const uri = params.textDocument.uri;
    const a = at(uri);
    if (!a) return { data: [] };
    const lines = a.lineIndex(uri);
    const span = { start: lines.offset(params.range.start), end: lines.offset(params.range.end) };
    return { data: encodeSemanticTokens(semanticTokens(a, uri, span), lines) };
  });

  connection.onWorkspaceSymbol((params) => {
    const a = current();
    if (!a) return [];
    return workspaceSymbols(a, params.query).map((s) => ({
      name: s.name, kind: SYMBOL_KIND[s.kind], containerName: s.container, location: toLocation(a, s),
    }));
  });

  documents.onDidOpen((e) => { setFile(e.document.uri, e.document.getText()); schedule(0); });
  documents.onDidChangeContent((e) => { setFile(e.document.uri, e.document.getText(), false); schedule(); });
  // Saving runs the checks left out while typing (`checksWhileTyping`).
  documents.onDidSave(() => {
    if (settings.checksWhileTyping.size === ENGINES.length) return;
    scheduler.changed(true);
    schedule(0);
  });
  documents.onDidClose(async (e) => {
    // Closed: what counts again is the file on disk (gone for an unsaved buffer).
    const text = await readUri(e.document.uri);
    if (text === undefined) removeFile(e.document.uri);
    else setFile(e.document.uri, text);
    schedule(0);
  });

  connection.onDidChangeWatchedFiles(async (params) => {
    for (const change of params.changes) {
      if (documents.get(change.uri)) continue; // the editor's text wins while open
      if (change.type === FileChangeType.Deleted) {
        removeFile(change.uri);
      } else {
        const text = await readUri(change.uri);
        if (text === undefined) removeFile(change.uri);
        else setFile(change.uri, text);
      }
    }
    schedule(0);
  });

  documents.listen(connection);
  connection.listen();
  return connection;
}

/**
 * The requests the server answers (hover, completion, navigation, symbols, formatting,
 * syntax features, the server's memory) and the capabilities that announce them. Each
 * answers from the current analysis through the ide layer and converts its result to LSP
 * shapes; none changes what the server holds.
 */
import {
  CodeActionKind,
  DocumentHighlightKind,
  ErrorCodes,
  MarkupKind,
  ResponseError,
  TextDocumentSyncKind,
  type SelectionRange,
  type ServerCapabilities,
} from 'vscode-languageserver';
import {
  completion,
  definition,
  documentHighlights,
  documentSymbols,
  encodeSemanticTokens,
  formatDocument,
  formatRange,
  forFile,
  hover,
  inlayHints,
  looksOf,
  prepareRename,
  references,
  rename,
  selectionRanges,
  semanticTokens,
  SEMANTIC_TOKEN_MODIFIERS,
  SEMANTIC_TOKEN_TYPES,
  workspaceSymbols,
  type FormatEdit,
  type LineIndex,
  type SelectionRange as IdeSelectionRange,
} from '../ide';
import { registerAddressMap } from './addressMap';
import { outlineKind, toCodeActions, toCompletionItem, toDocumentSymbol, toWorkspaceEdit } from './convert';
import { invalidParams } from './guard';
import { documentUri, offsetAt, spanOf } from './params';
import { MEMORY_REQUEST, type MemoryReport } from './protocol';
import type { ServerContext } from './serverContext';

/** What the server answers, announced at `initialize`. */
export const CAPABILITIES: ServerCapabilities = {
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
};

export function registerRequests(ctx: ServerContext): void {
  registerEditorFeatures(ctx);
  registerReferences(ctx);
  registerRename(ctx);
  registerSymbols(ctx);
  registerFormatting(ctx);
  registerSyntaxFeatures(ctx);
  registerAddressMap(ctx.connection, () => ctx.current(), ctx.request);
  registerMemory(ctx);
}

/** Hover, inlay hints, code actions and completion. */
function registerEditorFeatures(ctx: ServerContext): void {
  const { connection, request } = ctx;
  connection.onHover(
    request('textDocument/hover', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
      if (!a) return null;
      const lines = a.lineIndex(uri);
      // The simulation of this file's components only (the others are not kept between analyses).
      const h = hover(forFile(a, uri), uri, offsetAt(lines, params.position));
      return h ? { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: lines.range(h.span) } : null;
    }),
  );

  connection.languages.inlayHint.on(
    request('textDocument/inlayHint', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
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
      const a = ctx.at(uri);
      return a ? toCodeActions(a, uri, spanOf(a.lineIndex(uri), params.range)) : [];
    }),
  );

  // Completion reads its context from the text at the cursor (the line being typed may not
  // parse) and the names from the analysis of the current text.
  connection.onCompletion(
    request('textDocument/completion', (params) => {
      const uri = documentUri(params);
      const text = ctx.textOf(uri);
      const a = ctx.current();
      if (text === undefined || !a) return [];
      const lines = ctx.linesOf(uri, text);
      return completion(a, uri, text, offsetAt(lines, params.position)).map((item) => toCompletionItem(item, lines, looksOf(a.domains)));
    }),
  );
}

/** Where a name is declared, where it is used, and both highlighted in its document. */
function registerReferences(ctx: ServerContext): void {
  const { connection, request } = ctx;
  connection.onDefinition(
    request('textDocument/definition', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
      const target = a && definition(a, uri, offsetAt(a.lineIndex(uri), params.position));
      return target ? ctx.toLocation(a!, target) : null;
    }),
  );

  connection.onReferences(
    request('textDocument/references', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
      if (!a) return [];
      const includeDeclaration = params.context?.includeDeclaration === true;
      return references(a, uri, offsetAt(a.lineIndex(uri), params.position), includeDeclaration).map((l) => ctx.toLocation(a, l));
    }),
  );

  connection.onDocumentHighlight(
    request('textDocument/documentHighlight', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
      if (!a) return [];
      const lines = a.lineIndex(uri);
      return documentHighlights(a, uri, offsetAt(lines, params.position)).map((h) => ({
        range: lines.range(h.span),
        kind: h.kind === 'write' ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
      }));
    }),
  );
}

/** Renaming a name: where the cursor is, whether it can be renamed, then the edits in every file. */
function registerRename(ctx: ServerContext): void {
  const { connection, request } = ctx;
  connection.onPrepareRename(
    request('textDocument/prepareRename', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
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
      const a = ctx.at(uri);
      if (!a) return null;
      const r = rename(a, uri, offsetAt(a.lineIndex(uri), params.position), params.newName);
      if ('error' in r) throw new ResponseError(ErrorCodes.InvalidRequest, r.error);
      return toWorkspaceEdit(a, r.edits);
    }),
  );
}

/** The symbols of a document (its outline) and of the workspace (by name). */
function registerSymbols(ctx: ServerContext): void {
  const { connection, request } = ctx;
  connection.onDocumentSymbol(
    request('textDocument/documentSymbol', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
      if (!a) return [];
      const lines = a.lineIndex(uri);
      return documentSymbols(a, uri).map((s) => toDocumentSymbol(s, lines, looksOf(a.domains)));
    }),
  );

  connection.onWorkspaceSymbol(
    request('workspace/symbol', (params) => {
      const a = ctx.current();
      if (!a) return [];
      const query = typeof params?.query === 'string' ? params.query : '';
      return workspaceSymbols(a, query).map((s) => ({
        name: s.name,
        kind: outlineKind(looksOf(a.domains), s.kind),
        containerName: s.container,
        location: ctx.toLocation(a, s),
      }));
    }),
  );
}

/** Formatting a document or a range: from the text, with the cached parse when it is of that very text. */
function registerFormatting(ctx: ServerContext): void {
  const { connection, request } = ctx;
  const formatInput = (uri: string) => {
    const text = ctx.textOf(uri);
    if (text === undefined) return undefined;
    const ast = ctx.host.text(uri) === text ? ctx.scheduler.settled()?.ast(uri) : undefined;
    return { text, ast, lines: ctx.linesOf(uri, text) };
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
      const range = spanOf(input.lines, params.range);
      return toTextEdits(input.lines, formatRange(input.text, range, params.options ?? {}, input.ast));
    }),
  );
}

/** Folding, selection ranges and semantic tokens: from the parse of the analysed text. */
function registerSyntaxFeatures(ctx: ServerContext): void {
  const { connection, request } = ctx;
  connection.onFoldingRanges(
    request('textDocument/foldingRange', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
      if (!a?.findings.has(uri)) return [];
      // From the units' folding: the whole parse is not put together for it.
      return a.folding(uri).map((r) => ({ startLine: r.start, endLine: r.end, kind: r.kind }));
    }),
  );

  connection.onSelectionRanges(
    request('textDocument/selectionRange', (params) => {
      const uri = documentUri(params);
      if (!Array.isArray(params.positions)) throw invalidParams('positions must be an array');
      const a = ctx.at(uri);
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
      const a = ctx.at(uri);
      return { data: a ? encodeSemanticTokens(semanticTokens(a, uri), a.lineIndex(uri)) : [] };
    }),
  );

  connection.languages.semanticTokens.onRange(
    request('textDocument/semanticTokens/range', (params) => {
      const uri = documentUri(params);
      const a = ctx.at(uri);
      if (!a) return { data: [] };
      const lines = a.lineIndex(uri);
      return { data: encodeSemanticTokens(semanticTokens(a, uri, spanOf(lines, params.range)), lines) };
    }),
  );
}

/** For soak tests and leak hunts: the server's memory, where its runtime can tell. */
function registerMemory(ctx: ServerContext): void {
  const memory = ctx.env.memory;
  if (!memory) return;
  ctx.connection.onRequest(
    MEMORY_REQUEST,
    ctx.request(MEMORY_REQUEST, (): MemoryReport => memory()),
  );
}

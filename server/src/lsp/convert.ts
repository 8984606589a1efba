/** Project the ide layer's results into LSP shapes: diagnostics, code actions, workspace edits, symbols. */
import {
  CodeActionKind,
  CompletionItemKind,
  DiagnosticSeverity,
  MarkupKind,
  SymbolKind,
  type CodeAction,
  type CompletionItem,
  type Diagnostic,
  type DiagnosticRelatedInformation,
  type DocumentSymbol,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import {
  codeActions,
  type Analysis,
  type CompletionItem as IdeCompletionItem,
  type CompletionKind,
  type LineIndex,
  type OutlineSymbol,
  type TextEdit as IdeTextEdit,
} from '../ide';
import type { Span } from '@iommu-lens/grammar';
import type { Finding, Severity, SymbolKind as OurSymbolKind } from '../model';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toDiagnostic(f: Finding, analysis: Pick<Analysis, 'lineIndex'>): Diagnostic {
  const related: DiagnosticRelatedInformation[] = f.related.map((r) => ({
    location: { uri: r.uri, range: analysis.lineIndex(r.uri).range(r.span) },
    message: r.message,
  }));
  return {
    range: analysis.lineIndex(f.uri).range(f.span),
    severity: SEVERITY[f.severity],
    code: f.code,
    source: 'iommu-lens',
    message: f.message,
    relatedInformation: related.length ? related : undefined,
  };
}

/** The ide layer's actions over `span` as quick fixes, each tied to the diagnostic of its finding. */
export function toCodeActions(analysis: Analysis, uri: string, span: Span): CodeAction[] {
  return codeActions(analysis, uri, span).map((action) => ({
    title: action.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: action.finding ? [toDiagnostic(action.finding, analysis)] : undefined,
    isPreferred: action.isPreferred,
    edit: toWorkspaceEdit(analysis, action.edits),
  }));
}

export function toWorkspaceEdit(analysis: Pick<Analysis, 'lineIndex'>, edits: readonly IdeTextEdit[]): WorkspaceEdit {
  const changes: Record<string, TextEdit[]> = {};
  for (const e of edits) (changes[e.uri] ??= []).push({ range: analysis.lineIndex(e.uri).range(e.span), newText: e.newText });
  return { changes };
}

/** LSP's symbol kinds for ours: the outline icon of each kind of name. */
export const SYMBOL_KIND: Record<OurSymbolKind, SymbolKind> = {
  platform: SymbolKind.Namespace,
  guest: SymbolKind.Class,
  timeline: SymbolKind.Event,
  pool: SymbolKind.Array,
  firmware: SymbolKind.Module,
  xen: SymbolKind.Namespace,
  vintf: SymbolKind.Interface,
  device: SymbolKind.Object,
  iommu: SymbolKind.Interface,
  ram: SymbolKind.Field,
  reserved: SymbolKind.Constant,
  'guest-ram': SymbolKind.Field,
  viommu: SymbolKind.Interface,
  iommufd: SymbolKind.Interface,
  driver: SymbolKind.Function,
  mapping: SymbolKind.Variable,
  event: SymbolKind.Event,
  domain: SymbolKind.Class,
};

export function toDocumentSymbol(s: OutlineSymbol, lines: LineIndex): DocumentSymbol {
  return {
    name: s.name,
    detail: s.detail,
    kind: SYMBOL_KIND[s.kind],
    range: lines.range(s.span),
    selectionRange: lines.range(s.nameSpan),
    children: s.children.map((c) => toDocumentSymbol(c, lines)),
  };
}

const COMPLETION_KIND: Record<CompletionKind, CompletionItemKind> = {
  keyword: CompletionItemKind.Keyword,
  value: CompletionItemKind.EnumMember,
  opcode: CompletionItemKind.Function,
  service: CompletionItemKind.Function,
  operand: CompletionItemKind.Field,
  bit: CompletionItemKind.Constant,
  platform: CompletionItemKind.Module,
  guest: CompletionItemKind.Class,
  device: CompletionItemKind.Variable,
  iommu: CompletionItemKind.Interface,
  vintf: CompletionItemKind.Interface,
  domain: CompletionItemKind.Class,
  mapping: CompletionItemKind.Variable,
  event: CompletionItemKind.Event,
  quirk: CompletionItemKind.Constant,
  class: CompletionItemKind.EnumMember,
};

export function toCompletionItem(item: IdeCompletionItem, lines: LineIndex): CompletionItem {
  return {
    label: item.label,
    kind: COMPLETION_KIND[item.kind],
    detail: item.detail,
    documentation: item.documentation ? { kind: MarkupKind.Markdown, value: item.documentation } : undefined,
    sortText: item.sortText,
    textEdit: { range: lines.range(item.replace), newText: item.insertText ?? item.label },
  };
}

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
  type KindLook,
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

/** LSP's kinds for the names the ide layer shows (kindLooks.ts): the outline and completion icons. */
export type Looks = Readonly<Record<OurSymbolKind, KindLook>>;
export const outlineKind = (looks: Looks, kind: OurSymbolKind): SymbolKind => SymbolKind[looks[kind].outline];

export function toDocumentSymbol(s: OutlineSymbol, lines: LineIndex, looks: Looks): DocumentSymbol {
  return {
    name: s.name,
    detail: s.detail,
    kind: outlineKind(looks, s.kind),
    range: lines.range(s.span),
    selectionRange: lines.range(s.nameSpan),
    children: s.children.map((c) => toDocumentSymbol(c, lines, looks)),
  };
}

/** The words of the language; a name takes its kind's completion icon. */
const COMPLETION_KIND: Readonly<Record<Exclude<CompletionKind, OurSymbolKind>, CompletionItemKind>> = {
  keyword: CompletionItemKind.Keyword,
  value: CompletionItemKind.EnumMember,
  opcode: CompletionItemKind.Function,
  service: CompletionItemKind.Function,
  operand: CompletionItemKind.Field,
  bit: CompletionItemKind.Constant,
  quirk: CompletionItemKind.Constant,
  class: CompletionItemKind.EnumMember,
};

function completionKind(kind: CompletionKind, looks: Looks): CompletionItemKind {
  if (Object.hasOwn(COMPLETION_KIND, kind)) return COMPLETION_KIND[kind as keyof typeof COMPLETION_KIND];
  return CompletionItemKind[looks[kind as OurSymbolKind].completion ?? 'Text'];
}

export function toCompletionItem(item: IdeCompletionItem, lines: LineIndex, looks: Looks): CompletionItem {
  return {
    label: item.label,
    kind: completionKind(item.kind, looks),
    detail: item.detail,
    documentation: item.documentation ? { kind: MarkupKind.Markdown, value: item.documentation } : undefined,
    sortText: item.sortText,
    textEdit: { range: lines.range(item.replace), newText: item.insertText ?? item.label },
  };
}

/** Project findings → LSP diagnostics, and their fixes → quick-fix code actions. */
import {
  CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic, type DiagnosticRelatedInformation, type Range, type TextEdit,
} from 'vscode-languageserver';
import type { Analysis } from '../ide';
import type { Finding, Severity } from '../model';

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

function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character
    && a.end.line === b.end.line && a.end.character === b.end.character;
}

/** The fixes of the findings behind the diagnostics the editor asks about. */
export function toCodeActions(analysis: Analysis, uri: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  const findings = analysis.findings.get(uri) ?? [];
  for (const d of diagnostics) {
    for (const f of findings) {
      if (f.code !== d.code || !f.fixes.length || !sameRange(analysis.lineIndex(uri).range(f.span), d.range)) continue;
      for (const fix of f.fixes) {
        const changes: Record<string, TextEdit[]> = {};
        for (const e of fix.edits) (changes[e.uri] ??= []).push({ range: analysis.lineIndex(e.uri).range(e.span), newText: e.newText });
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: f.fixes.length === 1, edit: { changes } });
      }
    }
  }
  return actions;
}

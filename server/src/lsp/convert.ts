/** Project findings → LSP diagnostics. */
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation } from 'vscode-languageserver';
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

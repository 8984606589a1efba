/**
 * Pull diagnostics (LSP 3.17) for clients that declare them: `textDocument/diagnostic` and
 * `workspace/diagnostic` answer from the reports publishing keeps (publishing.ts), with
 * result ids, and `unchanged` when the client already has that id. A request first brings
 * the analysis up to date as other requests do (ServerContext.current), so a pull right after
 * an edit answers for the edited text.
 */
import type {
  DocumentDiagnosticParams,
  DocumentDiagnosticReport,
  ServerCapabilities,
  WorkspaceDiagnosticParams,
  WorkspaceDiagnosticReport,
  WorkspaceDocumentDiagnosticReport,
} from 'vscode-languageserver';
import type { ServerContext } from './serverContext';

/** Announced only to clients that pull: the others keep push, and would get both otherwise. */
export const DIAGNOSTIC_PROVIDER: ServerCapabilities['diagnosticProvider'] = {
  identifier: 'iommu-lens',
  // A finding in one file can come from another (a guest on a platform declared elsewhere).
  interFileDependencies: true,
  workspaceDiagnostics: true,
};

export function registerPullDiagnostics(ctx: ServerContext): void {
  const { diagnostics } = ctx.connection.languages;
  diagnostics.on(
    ctx.request('textDocument/diagnostic', (params: DocumentDiagnosticParams): DocumentDiagnosticReport => {
      ctx.current();
      const { resultId, diagnostics: items } = ctx.publishing.report(params.textDocument.uri);
      return params.previousResultId === resultId ? { kind: 'unchanged', resultId } : { kind: 'full', resultId, items };
    }),
  );
  diagnostics.onWorkspace(
    ctx.request('workspace/diagnostic', (params: WorkspaceDiagnosticParams): WorkspaceDiagnosticReport => {
      ctx.current();
      const previous = new Map((params.previousResultIds ?? []).map((p) => [p.uri, p.value]));
      const items: WorkspaceDocumentDiagnosticReport[] = [];
      for (const [uri, { resultId, diagnostics: found }] of ctx.publishing.reported()) {
        const version = ctx.documents.get(uri)?.version ?? null;
        items.push(
          previous.get(uri) === resultId
            ? { kind: 'unchanged', uri, version, resultId }
            : { kind: 'full', uri, version, resultId, items: found },
        );
      }
      return { items };
    }),
  );
}

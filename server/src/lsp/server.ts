/**
 * The language server: keeps the analysis host in step with open editors and the
 * files on disk, re-analyses after edits (debounced), and publishes diagnostics for
 * every .iommu file of the workspace, open or not. Its parts share one context
 * (serverContext.ts): the workspace handlers (workspaceHandlers.ts: what the server holds
 * and when it analyses), the request handlers (requestHandlers.ts) and publishing
 * (publishing.ts).
 */
import type { Connection } from 'vscode-languageserver';
import { registerPullDiagnostics } from './pullDiagnostics';
import { registerRequests } from './requestHandlers';
import { ServerContext, type ServerEnvironment } from './serverContext';
import { WorkspaceHandlers } from './workspaceHandlers';

export function startServer(connection: Connection, env: ServerEnvironment): Connection {
  const ctx = new ServerContext(connection, env);
  new WorkspaceHandlers(ctx).register();
  registerRequests(ctx);
  registerPullDiagnostics(ctx);
  ctx.documents.listen(connection);
  connection.listen();
  return connection;
}

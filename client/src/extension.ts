/**
 * The VS Code extension on a desktop or a remote (`main`): starts the bundled language
 * server as a Node process over IPC; the rest is common.ts. It runs nothing from the
 * workspace: the server is the one shipped in the extension.
 */
import * as path from 'node:path';
import { window, type ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type ServerOptions } from 'vscode-languageclient/node';
import { SERVER_NODE_FLAGS } from '../../server/src/lsp/protocol';
import { documentSelector, start, stop } from './common';

export async function activate(context: ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.cjs'));
  const serverOptions: ServerOptions = {
    // The server's V8 flags (a larger young generation: faster loading of large workspaces).
    run: { module, transport: TransportKind.ipc, options: { execArgv: [...SERVER_NODE_FLAGS] } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: [...SERVER_NODE_FLAGS, '--nolazy', '--inspect=6009'] } },
  };
  // The server filters its log at `iommuLens.logLevel`; the trace (`iommuLens.trace.server`) goes to its own channel.
  const outputChannel = window.createOutputChannel('IOMMU Lens', { log: true });
  await start(
    context,
    {
      create: (options) => new LanguageClient('iommuLens', 'IOMMU Lens', serverOptions, options),
      // Files on disk always; a virtual workspace's through the client (workspaceFiles.ts).
      documentSelector: documentSelector(['file']),
    },
    outputChannel,
  );
}

export const deactivate = stop;

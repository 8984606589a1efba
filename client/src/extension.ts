/**
 * The VS Code side: starts the bundled language server and registers its commands, the
 * status-bar item and the output channel the server logs to. It runs nothing from the
 * workspace: the server is the one shipped in the extension.
 */
import * as path from 'node:path';
import { commands, window, workspace, type ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { AddressMapView } from './addressMapView';
import { StatusItem } from './status';

let client: LanguageClient | undefined;

/** The `iommuLens` settings as plain JSON, the shape the server reads (server/src/lsp/settings.ts). */
function settings(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(workspace.getConfiguration('iommuLens')));
}

export async function activate(context: ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.cjs'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  // The server filters its log at `iommuLens.logLevel`; the trace (`iommuLens.trace.server`) goes to its own channel.
  const outputChannel = window.createOutputChannel('IOMMU Lens', { log: true });
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'iommu' },
      { scheme: 'untitled', language: 'iommu' },
    ],
    // Push, though this client could pull: each file's findings then reach the Problems view as its
    // component is analysed, open or not. (Pulled, VS Code polls the workspace every 2 s, and the
    // end-to-end suite saw its Problems counter stay short of the server's counts.)
    initializationOptions: { ...settings(), pushDiagnostics: true },
    synchronize: { configurationSection: 'iommuLens' },
    outputChannel,
    traceOutputChannel: window.createOutputChannel('IOMMU Lens Trace', { log: true }),
  };
  client = new LanguageClient('iommuLens', 'IOMMU Lens', serverOptions, clientOptions);
  const status = new StatusItem(client);
  context.subscriptions.push(
    outputChannel,
    status,
    commands.registerCommand('iommuLens.restartServer', () => client?.restart()),
    commands.registerCommand('iommuLens.showOutput', () => outputChannel.show(true)),
    commands.registerCommand('iommuLens.showAddressMap', () => {
      if (client) AddressMapView.show(client);
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

/**
 * The VS Code side: starts the bundled language server and registers its commands.
 * It runs nothing from the workspace: the server is the one shipped in the extension.
 */
import * as path from 'node:path';
import { commands, workspace, type ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { AddressMapView } from './addressMapView';

let client: LanguageClient | undefined;

function settings() {
  const c = workspace.getConfiguration('iommuLens');
  return { maxFileSize: c.get<number>('maxFileSize'), debounceMs: c.get<number>('debounceMs') };
}

export async function activate(context: ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('dist', 'server.cjs'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'iommu' }, { scheme: 'untitled', language: 'iommu' }],
    initializationOptions: settings(),
    synchronize: { configurationSection: 'iommuLens' },
  };
  client = new LanguageClient('iommuLens', 'IOMMU Lens', serverOptions, clientOptions);
  context.subscriptions.push(
    commands.registerCommand('iommuLens.restartServer', () => client?.restart()),
    commands.registerCommand('iommuLens.showOutput', () => client?.outputChannel.show()),
    commands.registerCommand('iommuLens.showAddressMap', () => { if (client) AddressMapView.show(client); }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

/**
 * What the extension does in VS Code, whatever runs its language server: the output
 * channel, the status-bar item, the commands and the address-map webview, and serving the
 * workspace's files to a server that cannot read them. The Node entry (extension.ts) starts
 * the server as a process, the browser entry (browserExtension.ts) in a web worker; this
 * module imports no Node module, so both can bundle it.
 */
import { commands, window, workspace, type ExtensionContext, type LogOutputChannel } from 'vscode';
import type { BaseLanguageClient, DocumentSelector, LanguageClientOptions } from 'vscode-languageclient';
import { AddressMapView } from './addressMapView';
import { StatusItem } from './status';
import { serveWorkspaceFiles } from './workspaceFiles';

/** The `iommuLens` settings as plain JSON, the shape the server reads (server/src/lsp/settings.ts). */
function settings(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(workspace.getConfiguration('iommuLens')));
}

/**
 * The documents the server hears of: `.iommu` files of the workspace folders' file systems
 * (and `extra` schemes), and unsaved buffers. Not every scheme: a diff's old side (`git:`,
 * a pull request's base) would join the workspace as a second copy of the file and every
 * name in it would be declared twice.
 */
export function documentSelector(extra: readonly string[] = []): DocumentSelector {
  const schemes = new Set([...extra, ...(workspace.workspaceFolders ?? []).map((f) => f.uri.scheme), 'untitled']);
  return [...schemes].map((scheme) => ({ scheme, language: 'iommu' }));
}

export interface Runner {
  /** The language client over this entry's transport. */
  create(options: LanguageClientOptions): BaseLanguageClient;
  documentSelector: DocumentSelector;
}

let client: BaseLanguageClient | undefined;

/** Starts the client and everything around it; the entry's activate. */
export async function start(context: ExtensionContext, runner: Runner, outputChannel: LogOutputChannel): Promise<BaseLanguageClient> {
  const clientOptions: LanguageClientOptions = {
    documentSelector: runner.documentSelector,
    // Push, though this client could pull: each file's findings then reach the Problems view as its
    // component is analysed, open or not. (Pulled, VS Code polls the workspace every 2 s, and the
    // end-to-end suite saw its Problems counter stay short of the server's counts.)
    // `clientFiles`: this client serves the workspace's files (workspaceFiles.ts).
    initializationOptions: { ...settings(), pushDiagnostics: true, clientFiles: true },
    synchronize: { configurationSection: 'iommuLens' },
    outputChannel,
    traceOutputChannel: window.createOutputChannel('IOMMU Lens Trace', { log: true }),
  };
  const c = (client = runner.create(clientOptions));
  const status = new StatusItem(c);
  context.subscriptions.push(
    outputChannel,
    status,
    ...serveWorkspaceFiles(c),
    // What the Node client's restart() does; the browser's has none.
    commands.registerCommand('iommuLens.restartServer', async () => {
      await c.stop();
      await c.start();
    }),
    commands.registerCommand('iommuLens.showOutput', () => outputChannel.show(true)),
    commands.registerCommand('iommuLens.showAddressMap', () => AddressMapView.show(c)),
  );
  await c.start();
  return c;
}

export async function stop(): Promise<void> {
  await client?.stop();
  client = undefined;
}

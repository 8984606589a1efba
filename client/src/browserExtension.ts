/**
 * The VS Code extension in the browser (`browser`: vscode.dev, github.dev, a web worker
 * extension host): starts the language server in a web worker (dist/browserServer.js),
 * which gets the workspace's files from this side (workspaceFiles.ts); the rest is
 * common.ts. Bundled for the browser: no Node module may come in (scripts/build.mjs).
 */
import { Uri, window, type ExtensionContext } from 'vscode';
import { BrowserMessageReader, BrowserMessageWriter, LanguageClient, type MessageTransports } from 'vscode-languageclient/browser';
import { documentSelector, start, stop } from './common';

/** The worker API of the extension host (the project's types are Node's, which have none). */
declare const Worker: new (url: string) => object;

/**
 * The server's worker. vscode.dev and github.dev start it from the extension's URL; a remote's
 * web worker host (code-server, a Codespace in a browser) refuses `vscode-remote:` URLs, so
 * there the script is fetched (that host's fetch resolves them) and started from a blob.
 */
async function serverWorker(script: Uri): Promise<object> {
  const url = script.toString(true);
  try {
    return new Worker(url);
  } catch (refused) {
    const response = await fetch(url);
    if (!response.ok)
      throw new Error(`cannot start the language server: ${(refused as Error).message}; fetching ${url}: ${response.status}`);
    const blob = new Blob([await response.text()], { type: 'text/javascript' });
    return new Worker(URL.createObjectURL(blob));
  }
}

/**
 * The message transports over the server's worker. Made here, not by the library from the
 * worker: it tells a worker by `instanceof Worker`, which the extension host's own Worker
 * class does not pass.
 */
async function transports(script: Uri): Promise<MessageTransports> {
  const worker = (await serverWorker(script)) as never;
  return { reader: new BrowserMessageReader(worker), writer: new BrowserMessageWriter(worker) };
}

export async function activate(context: ExtensionContext): Promise<void> {
  const outputChannel = window.createOutputChannel('IOMMU Lens', { log: true });
  const serverMain = Uri.joinPath(context.extensionUri, 'dist', 'browserServer.js');
  // Said in the log, so a user (and the end-to-end test) can tell which host runs the extension.
  outputChannel.info(`IOMMU Lens for the web: the language server runs in a web worker (${serverMain.path.split('/').pop()})`);
  await start(
    context,
    {
      // A fresh worker on every start (a restart): the old one closes itself on `exit`.
      create: (options) => new LanguageClient('iommuLens', 'IOMMU Lens', () => transports(serverMain), options),
      documentSelector: documentSelector(),
    },
    outputChannel,
  );
}

export const deactivate = stop;

/**
 * The VS Code extension in the browser (`browser`: vscode.dev, github.dev, a web worker
 * extension host): starts the language server in a web worker (dist/browserServer.js),
 * which gets the workspace's files from this side (workspaceFiles.ts); the rest is
 * common.ts. Bundled for the browser: no Node module may come in (scripts/build.mjs).
 */
import { Uri, window, type ExtensionContext } from 'vscode';
import { LanguageClient } from 'vscode-languageclient/browser';
import { documentSelector, start, stop } from './common';

/** The worker API of the extension host (the project's types are Node's, which have none). */
declare const Worker: new (url: string) => object;

export async function activate(context: ExtensionContext): Promise<void> {
  const outputChannel = window.createOutputChannel('IOMMU Lens', { log: true });
  const serverMain = Uri.joinPath(context.extensionUri, 'dist', 'browserServer.js');
  // Said in the log, so a user (and the end-to-end test) can tell which host runs the extension.
  outputChannel.info(`IOMMU Lens for the web: the language server runs in a web worker (${serverMain.path.split('/').pop()})`);
  await start(
    context,
    {
      // A fresh worker on every start (a restart): the old one closes itself on `exit`.
      create: (options) =>
        new LanguageClient('iommuLens', 'IOMMU Lens', async () => new Worker(serverMain.toString(true)) as never, options),
      documentSelector: documentSelector(),
    },
    outputChannel,
  );
}

export const deactivate = stop;

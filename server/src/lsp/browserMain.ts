/**
 * Entry point of the server in a web worker (dist/browserServer.js), for the extension in
 * vscode.dev and github.dev (client/src/browserExtension.ts). The same handlers as the Node
 * server (server.ts) in the worker's environment (browserEnvironment.ts).
 */
import { BrowserMessageReader, BrowserMessageWriter } from 'vscode-languageserver/browser';
import { browserEnvironment, workerConnection, type WorkerScope } from './browserEnvironment';
import { startServer } from './server';

const scope = globalThis as unknown as WorkerScope;
startServer(
  workerConnection(new BrowserMessageReader(scope as never), new BrowserMessageWriter(scope as never), scope),
  browserEnvironment(scope),
);

/**
 * Entry point of the server in a web worker (dist/browserServer.js), for the extension in
 * vscode.dev and github.dev (client/src/browserExtension.ts). The same handlers as the Node
 * server (server.ts); what differs is the environment: messages come over the worker's
 * postMessage, and the workspace's files come from the editor (clientFiles.ts), as a worker
 * has no disk.
 */
import { createConnection, createProtocolConnection, ProposedFeatures, type WatchDog } from 'vscode-languageserver';
import { BrowserMessageReader, BrowserMessageWriter } from 'vscode-languageserver/browser';
import { clientFiles } from './clientFiles';
import { describe } from './guard';
import { refuseNullParams } from './nullParams';
import type { ServerEnvironment } from './serverContext';
import { startServer } from './server';

/** The worker's global scope, as much of it as the server uses (the project's types are Node's). */
interface WorkerScope {
  close(): void;
  addEventListener(type: 'error' | 'unhandledrejection', listener: (event: WorkerEvent) => void): void;
}
interface WorkerEvent {
  error?: unknown;
  reason?: unknown;
  message?: string;
  preventDefault(): void;
}
const scope = globalThis as unknown as WorkerScope;

const BROWSER_ENVIRONMENT: ServerEnvironment = {
  runtime: 'in a web worker',
  files: (connection) => clientFiles(connection),
  // As keepAlive does for Node (guard.ts): logged, and the server goes on.
  keepAlive: (log) => {
    let inside = false;
    const report = (what: string, e: unknown) => {
      if (inside) return;
      inside = true;
      try {
        log.error(`${what} (the server goes on): ${describe(e)}`);
      } catch {
        /* the connection is what failed: nowhere left to say it */
      } finally {
        inside = false;
      }
    };
    scope.addEventListener('error', (event) => {
      event.preventDefault();
      report('uncaught exception', event.error ?? event.message);
    });
    scope.addEventListener('unhandledrejection', (event) => {
      event.preventDefault();
      report('unhandled rejection', event.reason);
    });
  },
};

// Nothing to watch: the client ends the worker when it stops. `exit` ends it from inside.
const watchDog: WatchDog = {
  shutdownReceived: false,
  initialize: () => undefined,
  exit: () => scope.close(),
};

const reader = new BrowserMessageReader(scope as never);
const writer = new BrowserMessageWriter(scope as never);
startServer(
  createConnection((logger) => refuseNullParams(createProtocolConnection(reader, writer, logger)), watchDog, ProposedFeatures.all),
  BROWSER_ENVIRONMENT,
);

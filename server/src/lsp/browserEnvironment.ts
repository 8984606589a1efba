/**
 * The server in a web worker (browserMain.ts): its connection and environment, apart from the
 * worker's own message port so that tests can run them over any reader and writer. Messages
 * come over postMessage, the workspace's files from the editor (clientFiles.ts): a worker
 * has no disk.
 */
import {
  createConnection,
  createProtocolConnection,
  ProposedFeatures,
  type Connection,
  type MessageReader,
  type MessageWriter,
  type WatchDog,
} from 'vscode-languageserver';
import { clientFiles } from './clientFiles';
import { describe } from './guard';
import { refuseNullParams } from './nullParams';
import type { ServerEnvironment } from './serverContext';

/** The worker's global scope, as much of it as the server uses (the project's types are Node's). */
export interface WorkerScope {
  close(): void;
  addEventListener(type: 'error' | 'unhandledrejection', listener: (event: WorkerEvent) => void): void;
}

export interface WorkerEvent {
  error?: unknown;
  reason?: unknown;
  message?: string;
  preventDefault(): void;
}

export function browserEnvironment(scope: WorkerScope): ServerEnvironment {
  return {
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
}

/** The connection over `reader` and `writer`; `exit` closes the worker (the client ends it on stop, too). */
export function workerConnection(reader: MessageReader, writer: MessageWriter, scope: WorkerScope): Connection {
  const watchDog: WatchDog = {
    shutdownReceived: false,
    initialize: () => undefined,
    exit: () => scope.close(),
  };
  return createConnection((logger) => refuseNullParams(createProtocolConnection(reader, writer, logger)), watchDog, ProposedFeatures.all);
}

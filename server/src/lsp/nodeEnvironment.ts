/**
 * The Node server's environment (serverContext.ts): files from disk, and from the client for
 * folders that are not on disk (a virtual workspace) when the client offers to serve them.
 */
import { clientFiles } from './clientFiles';
import { bySchemes } from './fileSource';
import { keepAlive } from './guard';
import type { ServerEnvironment } from './serverContext';
import { diskFiles } from './workspaceFiles';

export const NODE_ENVIRONMENT: ServerEnvironment = {
  runtime: `on Node ${process.version}`,
  files: (connection, offered) => bySchemes({ file: diskFiles }, offered ? clientFiles(connection) : diskFiles),
  keepAlive: (log) => keepAlive(log),
  // After a full collection when node runs with --expose-gc (the heap then holds only what is kept).
  memory: () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    return { ...process.memoryUsage(), collected: gc !== undefined };
  },
};

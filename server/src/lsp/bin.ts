/**
 * Entry point of the bundled server (dist/server.cjs, bin `iommu-lens-server`).
 * Transports: --stdio, --node-ipc, --socket=PORT or --pipe=NAME (connection.ts).
 */
// First: it takes --clientProcessId out of process.argv before vscode-languageserver/node loads (clientProcess.ts).
import { CLIENT_PROCESS_ID } from './clientProcess';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServerConnection, transportOf } from './connection';
import { NODE_ENVIRONMENT } from './nodeEnvironment';
import { SERVER_NODE_FLAGS } from './protocol';
import { startServer } from './server';

/**
 * The server keeps a whole workspace's parses, models and findings live (about 230 MiB for
 * 200k lines) and makes short-lived garbage on every edit. By default V8 lets the heap
 * grow to several times what is live before a full collection, so a large workspace peaked
 * near 700 MiB; growing by 20% keeps it under 500 MiB for a few milliseconds more GC per
 * edit (bench/RESULTS.md). Set here so every way of starting the server gets it.
 */
const HEAP_GROWING_PERCENT = 20;
/**
 * Until the first analysis is done. While the workspace loads, what is live only grows, and
 * at 20% V8 marked the whole heap again every fifth of growth: about 20 full collections for
 * 200k lines, their concurrent marking twice the main thread's CPU on a 2-core machine.
 * 100% was as fast and peaked the same while components kept their simulations; with less
 * live (findings only), 50% peaks 15 to 35 MiB lower at 200k lines for the same time
 * (with the Node flags of protocol.ts; bench/RESULTS.md).
 */
const LOADING_HEAP_GROWING_PERCENT = 50;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`usage: iommu-lens-server --stdio | --node-ipc | --socket=PORT | --pipe=NAME [--clientProcessId=PID]

The IOMMU Lens language server. Editors start it; it speaks LSP on the chosen transport,
and exits when the client's process (PID, or initialize's processId) is gone.

  --node-flags   print the Node flags to start it with (node FLAGS .../dist/server.cjs
                 --stdio): a larger young generation, for large workspaces\n`);
  process.exit(0);
} else if (args.includes('--node-flags')) {
  process.stdout.write(`${SERVER_NODE_FLAGS.join(' ')}\n`);
  process.exit(0);
} else if (args.includes('--version') || args.includes('-V')) {
  process.stdout.write('iommu-lens-server 0.1.0\n');
  process.exit(0);
} else {
  const transport = transportOf(args);
  if (!transport) {
    process.stderr.write('iommu-lens-server: choose a transport: --stdio, --node-ipc, --socket=PORT or --pipe=NAME (see --help)\n');
    process.exit(2);
  }
  setFlagsFromString(`--heap-growing-percent=${LOADING_HEAP_GROWING_PERCENT}`);
  const settled = () => {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    collectNow();
  };
  startServer(createServerConnection(transport, { clientProcessId: CLIENT_PROCESS_ID }), { ...NODE_ENVIRONMENT, settled });
}

/**
 * One full collection, once the first analysis is done: V8 sets the next one's threshold at a
 * collection, so without it the edits that follow grow the heap by the loading percentage of
 * its last one, not 20% of what is live (typing bench at 200k lines, loading at 100%: peak 481
 * MiB without, 465 with; it costs one pause of ~200 ms, when the server has nothing else to
 * do). `gc` is only given to contexts made after --expose-gc is set, hence the new context.
 */
function collectNow(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc === 'function') gc();
}

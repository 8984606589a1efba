/**
 * Entry point of the bundled server (dist/server.cjs, bin `iommu-lens-server`).
 * Transports: --stdio, --node-ipc or --socket=PORT (chosen by vscode-languageserver).
 */
import { startServer } from './server';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`usage: iommu-lens-server --stdio | --node-ipc | --socket=PORT

The IOMMU Lens language server. Editors start it; it speaks LSP on the chosen transport.\n`);
  process.exit(0);
} else if (args.includes('--version') || args.includes('-V')) {
  process.stdout.write('iommu-lens-server 0.1.0\n');
  process.exit(0);
} else if (!args.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket') || a.startsWith('--pipe') || a.startsWith('--clientProcessId'))) {
  process.stderr.write('iommu-lens-server: choose a transport: --stdio, --node-ipc or --socket=PORT (see --help)\n');
  process.exit(2);
} else {
  startServer();
}

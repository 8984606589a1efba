// Bundles the extension client, the language server and the CLI with esbuild.
// Output: dist/client.cjs (VS Code loads it), dist/server.cjs, dist/cli.cjs; for the web
// (vscode.dev, github.dev), dist/browserExtension.cjs and dist/browserServer.js (a web worker).
import { build } from 'esbuild';
import { noNodeBuiltins } from './noNodeBuiltins.mjs';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  legalComments: 'none',
};

const browser = {
  ...common,
  platform: 'browser',
  target: 'es2022',
  plugins: [noNodeBuiltins],
};

await Promise.all([
  build({ ...common, entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.cjs', external: ['vscode'] }),
  build({ ...common, entryPoints: ['server/src/lsp/bin.ts'], outfile: 'dist/server.cjs' }),
  build({ ...common, entryPoints: ['server/src/cli/bin.ts'], outfile: 'dist/cli.cjs' }),
  // The web extension host loads the browser entry as CommonJS (.cjs: the package is "type": "module",
  // and that host refuses ES modules); the worker runs a classic script.
  build({ ...browser, entryPoints: ['client/src/browserExtension.ts'], outfile: 'dist/browserExtension.cjs', external: ['vscode'] }),
  build({ ...browser, format: 'iife', entryPoints: ['server/src/lsp/browserMain.ts'], outfile: 'dist/browserServer.js' }),
]);

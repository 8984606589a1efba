/**
 * The web extension's bundles (scripts/build.mjs): built for the browser with no Node built-in
 * (the build fails on one), the server's worker with the editor's file source and not the
 * disk's, and the browser entry sharing the Node entry's commands, status and webview rather
 * than copies. Also the workspace rule as the server applies it to the uris an editor lists.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { noNodeBuiltins } from '../../scripts/noNodeBuiltins.mjs';
import { inFolderUri } from '../../server/src/workspace/rule';

const ROOT = join(import.meta.dirname, '..', '..');

/** The inputs of a browser bundle of `entry`, as paths relative to the repository. */
async function inputs(entry: string): Promise<string[]> {
  const r = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: 'browser',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['vscode'],
    plugins: [noNodeBuiltins],
  });
  return Object.keys(r.metafile.inputs).map((p) => relative(ROOT, join(process.cwd(), p)));
}

test('a Node built-in in a browser bundle fails the build, naming it and its importer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'browser-bundle-'));
  try {
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, "import { readFileSync } from 'node:fs';\nimport { join } from 'path';\nconsole.log(readFileSync, join);\n");
    await assert.rejects(
      build({ entryPoints: [entry], bundle: true, platform: 'browser', write: false, logLevel: 'silent', plugins: [noNodeBuiltins] }),
      (e: Error & { errors?: { text: string }[] }) => {
        const texts = (e.errors ?? []).map((x) => x.text);
        assert.equal(texts.length, 2, texts.join('\n'));
        assert.match(texts[0]!, /^node:fs is a Node built-in, imported by .*entry\.ts/);
        assert.match(texts[1]!, /^path is a Node built-in/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the worker's server reads through the editor, never the disk; the browser entry shares the Node entry's parts", async () => {
  const server = await inputs('server/src/lsp/browserMain.ts');
  for (const f of ['server/src/lsp/clientFiles.ts', 'server/src/lsp/workspaceHandlers.ts', 'server/src/lsp/requestHandlers.ts'])
    assert.ok(server.includes(f), `${f} is not in the worker's bundle`);
  for (const f of ['server/src/lsp/workspaceFiles.ts', 'server/src/workspace/files.ts', 'server/src/lsp/connection.ts'])
    assert.ok(!server.includes(f), `${f} (Node only) is in the worker's bundle`);
  const client = await inputs('client/src/browserExtension.ts');
  for (const f of ['client/src/common.ts', 'client/src/status.ts', 'client/src/addressMapView.ts', 'client/src/workspaceFiles.ts'])
    assert.ok(client.includes(f), `${f} is not in the browser entry's bundle`);
  assert.ok(!client.includes('client/src/extension.ts'));
});

test('the workspace rule on uris: inside the folder, a description, no node_modules or hidden directory on the way', () => {
  const folder = 'vscode-vfs://github/acme/fleet';
  assert.ok(inFolderUri(folder, `${folder}/hosts/h1.iommu`));
  assert.ok(inFolderUri(`${folder}/`, `${folder}/h1.iommu`));
  // Names are compared decoded: `%2E` is a '.', so this is a hidden directory.
  assert.ok(inFolderUri(folder, `${folder}/my%20hosts/h1.iommu`));
  assert.ok(!inFolderUri(folder, `${folder}/%2Egit/h1.iommu`));
  assert.ok(!inFolderUri(folder, `${folder}/.github/h1.iommu`));
  assert.ok(!inFolderUri(folder, `${folder}/a/node_modules/pkg/h1.iommu`));
  assert.ok(!inFolderUri(folder, `${folder}/h1.txt`));
  assert.ok(!inFolderUri(folder, `${folder}`));
  assert.ok(!inFolderUri(folder, `${folder}-2/h1.iommu`));
  assert.ok(!inFolderUri(folder, 'vscode-vfs://github/acme/other/h1.iommu'));
  assert.ok(!inFolderUri(folder, `${folder}/h1.iommu?ref=main`));
  // Escapes that do not decode: not taken, and no throw.
  assert.ok(!inFolderUri(folder, `${folder}/%E0%A4%A/h1.iommu`));
});

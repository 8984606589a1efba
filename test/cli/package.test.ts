/**
 * The README's `npm run package` works: vsce packages the built bundles into a .vsix
 * with the manifest's files and none of the sources or tests.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

test('vsce packages a lean .vsix with the bundles, grammar and docs', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const flags = /vsce package (.*) --out/.exec(pkg.scripts.package ?? '')?.[1]?.split(' ') ?? [];
  const out = join(mkdtempSync(join(tmpdir(), 'vsix-')), 'test.vsix');
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', ...flags, '--out', out], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const files = zipEntries(readFileSync(out));
  for (const f of [
    'extension/package.json',
    'extension/dist/client.cjs',
    'extension/dist/server.cjs',
    'extension/dist/cli.cjs',
    'extension/syntaxes/iommu.tmLanguage.json',
    'extension/syntaxes/language-configuration.json',
    'extension/docs/diagnostics.md',
    'extension/client/images/icon.png',
    'extension/client/images/file-light.svg',
    'extension/client/images/file-dark.svg',
  ]) {
    assert.ok(files.includes(f), `${f} missing from the .vsix`);
  }
  assert.deepEqual(
    files.filter((f) => /\.ts$|\/test\/|node_modules|\.map$/.test(f)),
    [],
  );
});

/** File names from a zip's central directory (enough to list a .vsix). */
function zipEntries(zip: Buffer): string[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'not a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'bad central directory entry');
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

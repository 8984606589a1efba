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
    'extension/dist/browserExtension.cjs',
    'extension/dist/browserServer.js',
    'extension/syntaxes/iommu.tmLanguage.json',
    'extension/syntaxes/language-configuration.json',
    'extension/docs/diagnostics.md',
    'extension/changelog.md',
    'extension/LICENSE.txt',
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
  // The README's images are shown from inside the package (links are not rewritten to a repository).
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  assert.ok(images.length > 0);
  for (const image of images) assert.ok(files.includes(`extension/${image}`), `README image ${image} missing from the .vsix`);
});

test('the manifest is one the marketplaces take: no placeholder, an icon, a licence, a changelog', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  // A repository field, when there is one, must be real: none is better than a placeholder.
  assert.doesNotMatch(JSON.stringify(pkg.repository ?? ''), /example\.|invalid|placeholder/);
  for (const field of ['name', 'displayName', 'description', 'version', 'publisher', 'license', 'icon', 'engines'])
    assert.ok(pkg[field], `package.json has no ${field}`);
  const icon = readFileSync(join(ROOT, pkg.icon as string));
  assert.equal(icon.toString('latin1', 1, 4), 'PNG');
  assert.ok(icon.readUInt32BE(16) >= 128 && icon.readUInt32BE(20) >= 128, 'the marketplaces want an icon of at least 128x128');
  assert.match(
    readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'),
    new RegExp(`^## ${(pkg.version as string).replace(/\./g, '\\.')}\\b`, 'm'),
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

/**
 * `iommu-lens format`: the editor's formatter from the command line, on copies of the
 * examples: print, --check (exit 1 and the paths) and --write (then --check is clean).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, cli } from './run';



test('format prints, --check lists what would change, --write rewrites; meaning is unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fmt-'));
  try {
    cpSync(join(ROOT, 'examples', 'seed-002-arm-msi-migration'), dir, { recursive: true });
    writeFileSync(join(dir, 'messy.iommu'), 'platform   messy{\n arch arm64\n      reserved a msi 0x1000 .. 0x1fff\n  reserved longer-name reserved 0x2000..0x2fff\n}');
    const printed = cli(['format', 'messy.iommu'], dir);
    assert.equal(printed.status, 0, printed.stderr);
    assert.equal(printed.stdout, 'platform messy {\n  arch arm64\n  reserved a           msi      0x1000..0x1fff\n  reserved longer-name reserved 0x2000..0x2fff\n}\n');
    const before = cli(['check', '.'], dir);
    const checked = cli(['format', '--check', '.'], dir);
    assert.equal(checked.status, 1);
    assert.ok(checked.stdout.split('\n').includes('messy.iommu'), checked.stdout);
    const written = cli(['format', '--write', '.'], dir);
    assert.equal(written.status, 0, written.stderr);
    assert.equal(written.stdout, checked.stdout);
    assert.equal(readFileSync(join(dir, 'messy.iommu'), 'utf8'), printed.stdout);
    assert.deepEqual(cli(['format', '--check', '.'], dir), { status: 0, stdout: '', stderr: '' });
    // The same findings on the same lines (formatting moves no line; columns may shift).
    const lines = (out: string) => out.replace(/^(\S+:\d+):\d+:/gm, '$1:');
    assert.equal(lines(cli(['check', '.'], dir).stdout), lines(before.stdout));
    assert.match(before.stdout, /error ram-over-reserved/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file with syntax errors is reported and left alone; bad options are usage errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fmt-'));
  try {
    writeFileSync(join(dir, 'broken.iommu'), 'platform   p {\n  arch\n');
    const r = cli(['format', '--write', 'broken.iommu'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /broken\.iommu: not formatted: it has syntax errors/);
    assert.equal(readFileSync(join(dir, 'broken.iommu'), 'utf8'), 'platform   p {\n  arch\n');
    assert.equal(cli(['format', '--check', '--write', 'broken.iommu'], dir).status, 2);
    assert.equal(cli(['format'], dir).status, 2);
    writeFileSync(join(dir, 'other.iommu'), 'platform q {\n}\n');
    const two = cli(['format', 'other.iommu', 'broken.iommu'], dir);
    assert.equal(two.status, 2);
    assert.match(two.stderr, /format prints one file; use --check or --write for several/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

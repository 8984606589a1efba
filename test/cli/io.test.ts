/**
 * The CLI's I/O failures (issue 22, item 7): every problem reading the input exits 2 with
 * a message that names the path (1 means "errors found", so it must never come from I/O);
 * a FIFO or other file that is not a regular file is skipped with a note, never opened
 * (opening a FIFO blocks until a writer comes). The directories a walk searches follow the
 * one rule the server uses (server/src/workspace/files.ts; its walk: test/unit/workspaceFiles.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI } from './run';
import { otherUser } from '../files';

const root = mkdtempSync(join(tmpdir(), 'iommu-lens-io-'));
// Readable by the other user the unreadable-directory test runs as.
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));

/** A fresh directory under the test root. */
let dirs = 0;
function fresh(files: Record<string, string> = {}): string {
  const dir = join(root, `case-${dirs++}`);
  mkdirSync(dir, { mode: 0o755 });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, rel), text, { mode: 0o644 });
  }
  return dir;
}

/** The CLI in `cwd`, with a timeout: a hang is a failure, not a stuck test run. */
function cli(args: string[], cwd: string, options: { uid?: number; gid?: number } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 20_000, maxBuffer: 64 * 2 ** 20, ...options });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const mkfifo = (path: string) => assert.equal(spawnSync('mkfifo', [path]).status, 0, 'mkfifo');

describe('iommu-lens check: I/O', () => {
  test('an unreadable subdirectory exits 2 and names it', () => {
    const dir = fresh({ 'a.iommu': 'platform a { arch arm64 }\n', 'locked/b.iommu': 'platform b { arch arm64 }\n' });
    chmodSync(join(dir, 'locked'), 0o000);
    try {
      // Root reads any directory: then the CLI runs as another user, for whom it is locked.
      const r = cli(['check', '.'], dir, otherUser() ?? {});
      assert.equal(r.status, 2, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^iommu-lens: cannot read directory 'locked': permission denied\n$/);
      assert.equal(r.stdout, '');
    } finally {
      chmodSync(join(dir, 'locked'), 0o755);
    }
  });

  test('a FIFO named on the command line is skipped with a note, not opened', () => {
    const dir = fresh({ 'a.iommu': 'platform a { arch arm64 }\n' });
    mkfifo(join(dir, 'pipe.iommu'));
    const r = cli(['check', 'pipe.iommu', 'a.iommu'], dir);
    assert.equal(r.signal, null, 'it must not hang');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "iommu-lens: skipped 'pipe.iommu': not a regular file (a FIFO)\n");
    assert.equal(r.stdout, '1 file checked: 0 errors, 0 warnings, 0 information, 0 hints\n');
    // Nothing else to check: nothing was read, which is an input problem.
    const alone = cli(['check', 'pipe.iommu'], dir);
    assert.equal(alone.status, 2);
    assert.match(alone.stderr, /skipped 'pipe\.iommu': not a regular file \(a FIFO\)\niommu-lens: no files to check\n$/);
    // format reads the same way, and says so the same way.
    const formatted = cli(['format', '--check', 'pipe.iommu', 'a.iommu'], dir);
    assert.equal(formatted.signal, null, 'it must not hang');
    assert.equal(formatted.stderr, "iommu-lens: skipped 'pipe.iommu': not a regular file (a FIFO)\n");
  });

  test('in a directory, FIFOs and links named *.iommu are skipped with a note; dependency and hidden directories are not searched', () => {
    const dir = fresh({
      'a.iommu': 'platform a { arch arm64 }\n',
      'node_modules/pkg/x.iommu': 'platform broken {\n',
      '.git/y.iommu': 'platform broken {\n',
      '.cache/z.iommu': 'platform broken {\n',
      // Build-output names are ordinary directories: a description there is checked.
      'out/b.iommu': 'platform b { arch arm64 }\n',
      'dist/c.iommu': 'platform c { arch arm64 }\n',
    });
    mkfifo(join(dir, 'pipe.iommu'));
    symlinkSync(join(dir, 'a.iommu'), join(dir, 'link.iommu'));
    const r = cli(['check', '.'], dir);
    assert.equal(r.signal, null, 'it must not hang');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stderr,
      [
        "iommu-lens: skipped 'link.iommu': not a regular file (a symbolic link, which a directory search does not follow)",
        "iommu-lens: skipped 'pipe.iommu': not a regular file (a FIFO)",
        '',
      ].join('\n'),
    );
    assert.equal(r.stdout, '3 files checked: 0 errors, 0 warnings, 0 information, 0 hints\n');
  });

  test('a file that cannot be opened exits 2 and names it', () => {
    const dir = fresh({ 'a.iommu': 'platform a { arch arm64 }\n' });
    const locked = join(dir, 'locked.iommu');
    writeFileSync(locked, 'platform b { arch arm64 }\n');
    chmodSync(locked, 0o000);
    const r = cli(['check', '.'], dir, otherUser() ?? {});
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.equal(r.stderr, "iommu-lens: cannot read 'locked.iommu': permission denied\n");
  });
});

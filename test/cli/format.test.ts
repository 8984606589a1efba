/**
 * `iommu-lens format`: the editor's formatter from the command line, on copies of the
 * examples: print, --check (exit 1 and the paths) and --write (then --check is clean).
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { realFs, type WriteFs } from '../../server/src/cli/atomicWrite';
import { run } from '../../server/src/cli/main';
import { ROOT, cli } from './run';

test('format prints, --check lists what would change, --write rewrites; meaning is unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fmt-'));
  try {
    cpSync(join(ROOT, 'examples', 'seed-002-arm-msi-migration'), dir, { recursive: true });
    writeFileSync(
      join(dir, 'messy.iommu'),
      'platform   messy{\n arch arm64\n      reserved a msi 0x1000 .. 0x1fff\n  reserved longer-name reserved 0x2000..0x2fff\n}',
    );
    const printed = cli(['format', 'messy.iommu'], dir);
    assert.equal(printed.status, 0, printed.stderr);
    assert.equal(
      printed.stdout,
      'platform messy {\n  arch arm64\n  reserved a           msi      0x1000..0x1fff\n  reserved longer-name reserved 0x2000..0x2fff\n}\n',
    );
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

describe('format --write never loses a file', () => {
  const MESSY = 'platform   messy{\n arch arm64\n      reserved a msi 0x1000 .. 0x1fff\n}\n';
  const TIDY = 'platform messy {\n  arch arm64\n  reserved a msi 0x1000..0x1fff\n}\n';

  /** A directory with the given files; removed after the test. */
  function workspace(t: TestContext, files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fmt-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  /** `iommu-lens format --write ...` in process, with file operations `fs`. */
  function formatWrite(dir: string, paths: string[], fs: WriteFs = realFs) {
    const out: string[] = [];
    const err: string[] = [];
    const status = run(['format', '--write', ...paths], { out: (s) => out.push(s), err: (s) => err.push(s), cwd: dir, fs });
    return { status, stdout: out.join(''), stderr: err.join('') };
  }

  const failure = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

  test('a write that fails at any step leaves the original whole and no temporary file', (t) => {
    // Half the text reaches the disk, then it is full (the 500-device file cut to 389 devices).
    const writeHalf = (fd: number, b: Uint8Array, off: number, len: number) => {
      if (len > 8) return realFs.writeSync(fd, b, off, Math.floor(len / 2));
      throw failure('ENOSPC');
    };
    const openNoTemp = (p: string, flags: string, mode?: number) => {
      if (p.endsWith('.tmp')) throw failure('EROFS');
      return realFs.openSync(p, flags, mode);
    };
    const failing: [string, Partial<WriteFs>, RegExp][] = [
      ['write', { writeSync: writeHalf as unknown as WriteFs['writeSync'] }, /no space left on device/],
      [
        'fsync',
        {
          fsyncSync: () => {
            throw failure('EDQUOT');
          },
        },
        /disk quota exceeded/,
      ],
      [
        'rename',
        {
          renameSync: () => {
            throw failure('EIO');
          },
        },
        /input\/output error/,
      ],
      ['open', { openSync: openNoTemp as unknown as WriteFs['openSync'] }, /read-only file system/],
    ];
    for (const [step, ops, reason] of failing) {
      const dir = workspace(t, { 'messy.iommu': MESSY });
      const r = formatWrite(dir, ['messy.iommu'], { ...realFs, ...ops });
      assert.equal(r.status, 2, step);
      assert.equal(r.stdout, '', step);
      assert.match(
        r.stderr,
        new RegExp(
          `^iommu-lens: cannot write 'messy\\.iommu': ${reason.source}; the file is unchanged\\n` +
            `iommu-lens: 1 of 1 file could not be formatted \\(named above\\)\\n$`,
        ),
        step,
      );
      assert.equal(readFileSync(join(dir, 'messy.iommu'), 'utf8'), MESSY, step);
      assert.deepEqual(readdirSync(dir), ['messy.iommu'], `${step}: a temporary file was left`);
    }
  });

  test('a file changed between the read and the write is left as it is, named, exit 2', (t) => {
    const dir = workspace(t, { 'a.iommu': MESSY, 'b.iommu': MESSY, 'c.iommu': MESSY });
    const appended = `${MESSY}platform late {\n}\n`;
    // Another writer while the formatter writes: a.iommu gets a line appended; b.iommu is rewritten with the
    // same size and its old mtime put back, so only the content hash tells.
    const WHOLE_SECOND = 1_700_000_000; // an mtime that a Date or a number of seconds restores exactly
    utimesSync(join(dir, 'b.iommu'), WHOLE_SECOND, WHOLE_SECOND);
    const opened = new Map<number, string>();
    const fs: WriteFs = {
      ...realFs,
      openSync: ((p: string, flags: string, mode?: number) => {
        const fd = realFs.openSync(p, flags, mode);
        opened.set(fd, p);
        return fd;
      }) as unknown as WriteFs['openSync'],
      fsyncSync: (fd) => {
        const tmp = opened.get(fd) ?? '';
        if (tmp.includes('.a.iommu.')) appendFileSync(join(dir, 'a.iommu'), 'platform late {\n}\n');
        if (tmp.includes('.b.iommu.')) {
          writeFileSync(join(dir, 'b.iommu'), MESSY.replace('messy', 'mossy'));
          utimesSync(join(dir, 'b.iommu'), WHOLE_SECOND, WHOLE_SECOND);
        }
        realFs.fsyncSync(fd);
      },
    };
    const r = formatWrite(dir, ['.'], fs);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, 'c.iommu\n');
    assert.equal(
      r.stderr,
      [
        'iommu-lens: a.iommu: not written: it changed since it was read; format it again',
        'iommu-lens: b.iommu: not written: it changed since it was read; format it again',
        'iommu-lens: 2 of 3 files could not be formatted (named above)',
        '',
      ].join('\n'),
    );
    assert.equal(readFileSync(join(dir, 'a.iommu'), 'utf8'), appended);
    assert.equal(readFileSync(join(dir, 'b.iommu'), 'utf8'), MESSY.replace('messy', 'mossy'));
    assert.equal(readFileSync(join(dir, 'c.iommu'), 'utf8'), TIDY);
    assert.deepEqual(readdirSync(dir).sort(), ['a.iommu', 'b.iommu', 'c.iommu']);
  });

  test('an unwritable file does not stop the files after it', (t) => {
    const dir = workspace(t, { 'a.iommu': MESSY, 'b.iommu': MESSY, 'c.iommu': MESSY });
    // a.iommu read-only, as a user without write permission sees it (the tests may run as root, who has it).
    const fs: WriteFs = {
      ...realFs,
      accessSync: (p, mode) => {
        if (String(p).endsWith('a.iommu')) throw failure('EACCES');
        realFs.accessSync(p, mode);
      },
    };
    const r = formatWrite(dir, ['.'], fs);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, 'b.iommu\nc.iommu\n');
    assert.equal(
      r.stderr,
      "iommu-lens: cannot write 'a.iommu': permission denied; the file is unchanged\n" +
        'iommu-lens: 1 of 3 files could not be formatted (named above)\n',
    );
    assert.equal(readFileSync(join(dir, 'a.iommu'), 'utf8'), MESSY);
    assert.equal(readFileSync(join(dir, 'b.iommu'), 'utf8'), TIDY);
    assert.equal(readFileSync(join(dir, 'c.iommu'), 'utf8'), TIDY);
    assert.deepEqual(readdirSync(dir).sort(), ['a.iommu', 'b.iommu', 'c.iommu']);
  });

  test('the mode is kept, and a symbolic link stays a link to the formatted file', (t) => {
    const dir = workspace(t, { 'private.iommu': MESSY, 'script.iommu': MESSY, 'target.iommu': MESSY });
    chmodSync(join(dir, 'private.iommu'), 0o600);
    chmodSync(join(dir, 'script.iommu'), 0o755);
    symlinkSync('target.iommu', join(dir, 'link.iommu'));
    const r = cli(['format', '--write', 'private.iommu', 'script.iommu', 'link.iommu'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(join(dir, 'private.iommu')).mode & 0o7777, 0o600);
    assert.equal(statSync(join(dir, 'script.iommu')).mode & 0o7777, 0o755);
    assert.ok(lstatSync(join(dir, 'link.iommu')).isSymbolicLink());
    for (const f of ['private.iommu', 'script.iommu', 'target.iommu']) assert.equal(readFileSync(join(dir, f), 'utf8'), TIDY, f);
  });
});

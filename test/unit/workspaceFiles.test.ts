/**
 * The files of a workspace (server/src/workspace/files.ts): one rule for the server and
 * the CLI, one walk in two forms (asynchronous for the server, synchronous for the CLI)
 * that finds the same files in the same order, never recurses and keeps only what counts
 * of each directory; reading never opens what is not a regular file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { collectInputs } from '../../server/src/cli/files';
import { readUri, scanFolder } from '../../server/src/lsp/workspaceFiles';
import { inWorkspace, readRegularFileSync, walk, walkSync, type Found } from '../../server/src/workspace/files';

const root = mkdtempSync(join(tmpdir(), 'iommu-lens-walk-'));
after(() => rmSync(root, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'tree-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const show = (dir: string) => (f: Found) => `${f.kind} ${f.path.slice(dir.length + 1)}${f.kind === 'skipped' ? ` (${f.why})` : ''}`;

test('both walks find the same files in the same order, by the one rule', async () => {
  const dir = tree({
    'b.iommu': '',
    'a.iommu': '',
    'notes.txt': '',
    'z/c.iommu': '',
    'z/y/d.iommu': '',
    'm/e.iommu': '',
    'node_modules/p/x.iommu': '',
    '.git/x.iommu': '',
    '.vscode/x.iommu': '',
    'm/.hidden/x.iommu': '',
    'out/f.iommu': '',
    'dist/g.iommu': '',
    'dir.iommu/h.iommu': '',
  });
  assert.equal(spawnSync('mkfifo', [join(dir, 'pipe.iommu')]).status, 0);
  symlinkSync(join(dir, 'a.iommu'), join(dir, 'link.iommu'));
  symlinkSync(join(dir, 'z'), join(dir, 'zlink'));
  const expected = [
    'file a.iommu',
    'file b.iommu',
    'skipped link.iommu (not a regular file (a symbolic link, which a directory search does not follow))',
    'skipped pipe.iommu (not a regular file (a FIFO))',
    'file dir.iommu/h.iommu',
    'file dist/g.iommu',
    'file m/e.iommu',
    'file out/f.iommu',
    'file z/c.iommu',
    'file z/y/d.iommu',
  ];
  const sync = [...walkSync(dir)].map(show(dir));
  const async: string[] = [];
  for await (const f of walk(dir)) async.push(show(dir)(f));
  assert.deepEqual(sync, expected);
  assert.deepEqual(async, expected);
  // The watcher's events join by the same rule.
  for (const line of expected.filter((l) => l.startsWith('file '))) assert.ok(inWorkspace(dir, join(dir, line.slice(5))), line);
  for (const rel of ['node_modules/p/x.iommu', '.git/x.iommu', 'm/.hidden/x.iommu', 'notes.txt', '../a.iommu']) {
    assert.ok(!inWorkspace(dir, join(dir, rel)), rel);
  }
  assert.ok(!inWorkspace(dir, '/elsewhere/a.iommu'));
});

test('a directory that cannot be read is reported, and the walk goes on', async () => {
  const dir = tree({ 'a.iommu': '', 'b/c.iommu': '' });
  const missing = join(dir, 'gone');
  const found = [...walkSync(missing)];
  assert.equal(found.length, 1);
  assert.equal(found[0]!.kind, 'unreadable');
  assert.equal((found[0] as { error: NodeJS.ErrnoException }).error.code, 'ENOENT');
  const all: string[] = [];
  for await (const f of walk(dir)) all.push(show(dir)(f));
  assert.deepEqual(all, ['file a.iommu', 'file b/c.iommu']);
});

test('reading opens a FIFO without blocking and leaves it unread', () => {
  const dir = tree({ 'a.iommu': 'platform a { }\n' });
  const fifo = join(dir, 'pipe.iommu');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.deepEqual(readRegularFileSync(fifo), { kind: 'not-regular', why: 'not a regular file (a FIFO)' });
  assert.deepEqual(
    readRegularFileSync(fifo, () => true),
    { kind: 'not-regular', why: 'not a regular file (a FIFO)' },
  );
  const read = readRegularFileSync(join(dir, 'a.iommu'));
  assert.equal(read.kind === 'read' && read.bytes.toString(), 'platform a { }\n');
  // Declined by its size: the file is not read.
  assert.deepEqual(
    readRegularFileSync(join(dir, 'a.iommu'), (size) => size < 10),
    { kind: 'declined', size: 15 },
  );
});

test('130,000 files in one directory: every one is found (the old walk overflowed the stack spreading them)', () => {
  // On tmpfs when there is one: creating the files on disk takes most of a minute here.
  const base = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/iommu-lens-walk-') : mkdtempSync(join(root, 'many-'));
  try {
    const many = join(base, 'many');
    mkdirSync(many);
    for (let i = 0; i < 130_000; i++) writeFileSync(join(many, `f${i}.iommu`), '');
    const notes: string[] = [];
    const inputs = collectInputs(['.'], base, (n) => notes.push(n));
    assert.equal(inputs.length, 130_000);
    assert.deepEqual(notes, []);
    assert.equal(inputs[0]!.display, 'many/f0.iommu');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("the server's scan reads synchronously but lets the event loop run between its slices", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i++) files[`d/f${String(i).padStart(3, '0')}.iommu`] = `platform p${i} { }\n`;
  const dir = tree(files);
  const folder = pathToFileURL(dir).href;
  // A timer due at once, set as the first file is read (the directory is listed by then):
  // with no yield it would fire only after the whole scan.
  let timerFiredAfter: number | undefined;
  let read = 0;
  const texts: string[] = [];
  const found = await scanFolder(folder, {
    file: async (uri) => {
      const r = await readUri(uri, { maxChars: 1000 });
      if (r.kind === 'text') texts.push(r.text);
      if (read++ === 0) setTimeout(() => (timerFiredAfter = read), 0);
      // Each file costs a millisecond here (as parsing a large one would): the scan is 300 ms long.
      const until = performance.now() + 1;
      while (performance.now() < until);
    },
    problem: (m) => assert.fail(m),
    progress: () => {},
  });
  assert.equal(found, 300);
  assert.equal(texts.length, 300);
  assert.equal(texts[0], 'platform p0 { }\n');
  assert.ok(timerFiredAfter !== undefined && timerFiredAfter < 100, `the timer ran after ${timerFiredAfter} of 300 files`);
  // Over the size limit (three bytes a character at most): not read, its size told.
  assert.deepEqual(await readUri(`${folder}/d/f000.iommu`, { maxChars: 5 }), { kind: 'oversized', bytes: 16 });
});

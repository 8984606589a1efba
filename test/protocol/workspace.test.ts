/**
 * The workspace the server reads (issue 22, item 6): the files the CLI would check, by the
 * one rule of server/src/workspace/files.ts; every one of them, past the old cap of 20,000
 * files; up to a documented limit, past which the user is told (a notification and a
 * `workspace-too-large` finding) and no `unknown-name` is reported that the unread files
 * could explain; and start-up that shows the open document's findings first: its syntax at
 * once, its component's findings before a slow component's, and requests answered meanwhile.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import {
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  HoverRequest,
  MessageType,
  ShowMessageNotification,
  type PublishDiagnosticsParams,
  type ShowMessageParams,
} from 'vscode-languageserver-protocol/node';
import { regions } from '../helpers';
import { Client } from './client';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A workspace folder with these files; on tmpfs when asked and there is one (tens of thousands of files). */
function workspace(files: Record<string, string>, fast = false): { dir: string; uri: (rel: string) => string } {
  const dir = fast && existsSync('/dev/shm') ? mkdtempSync('/dev/shm/iommu-lens-ws-') : mkdtempSync(join(tmpdir(), 'iommu-lens-ws-'));
  roots.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return { dir, uri: (rel: string) => pathToFileURL(join(dir, rel)).href };
}

const HOST =
  'platform h1 {\n  arch x86_64\n  iommu vtd0 vt-d { address-width 48 }\n  reserved pci-win reserved 0x80000000..0x8fffffff\n' +
  '  device nic { bdf 0000:01:00.0; iommu vtd0; group 1 }\n}\n';
/** A guest on h1 whose RAM runs over h1's reserved region: `ram-over-reserved` needs h1's file. */
const GUEST = 'guest vm on h1 {\n  ram low 0x0 size 3G\n  assign nic\n}\n';

describe('the files of the workspace', () => {
  test("the CLI's rule: dependency and hidden directories are left out, build-output names are not; links, FIFOs are not opened", async () => {
    const ws = workspace({
      'out/h1.iommu': HOST,
      'dist/guest.iommu': GUEST,
      'node_modules/pkg/x.iommu': 'platform broken {\n',
      '.cache/y.iommu': 'platform broken {\n',
    });
    assert.equal(spawnSync('mkfifo', [join(ws.dir, 'pipe.iommu')]).status, 0);
    symlinkSync(join(ws.dir, 'out', 'h1.iommu'), join(ws.dir, 'link.iommu'));
    const client = new Client();
    try {
      await client.initialize(ws.dir, { capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } });
      await client.until(
        () => client.codes(ws.uri('dist/guest.iommu')).includes('ram-over-reserved') && client.latest.has(ws.uri('out/h1.iommu')),
        'the guest in dist/ against the host in out/',
      );
      assert.deepEqual([...client.latest.keys()].sort(), [ws.uri('dist/guest.iommu'), ws.uri('out/h1.iommu')]);
      assert.ok(
        client.logs.some((l) => l.type === MessageType.Warning && /pipe\.iommu is left out: not a regular file \(a FIFO\)/.test(l.message)),
      );
      assert.ok(client.logs.some((l) => /link\.iommu is left out: not a regular file \(a symbolic link/.test(l.message)));
      // The watcher reports every *.iommu; a file under node_modules stays out as the scan left it.
      const published = client.published;
      const watched = (rel: string, type: FileChangeType) =>
        client.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: ws.uri(rel), type }] });
      await watched('node_modules/pkg/x.iommu', FileChangeType.Changed);
      writeFileSync(join(ws.dir, 'out', 'more.iommu'), 'platform more {\n');
      await watched('out/more.iommu', FileChangeType.Created);
      await client.until(() => client.codes(ws.uri('out/more.iommu')).includes('unclosed-block'), 'a file created in out/');
      assert.ok(client.published > published);
      assert.equal(client.latest.has(ws.uri('node_modules/pkg/x.iommu')), false);
    } finally {
      await client.stop();
    }
  });

  test('more than 20,000 files are all read, with progress while they are', async () => {
    const files: Record<string, string> = { 'g/guest.iommu': GUEST, 'z/h1.iommu': HOST };
    for (let i = 0; i < 20_500; i++) files[`f/${String(i).padStart(5, '0')}.iommu`] = `platform p${i} { }\n`;
    const ws = workspace(files, true);
    const client = new Client();
    try {
      await client.initialize(ws.dir);
      await client.until(() => client.latest.size === 20_502, "every file's diagnostics", 120_000);
      assert.deepEqual(client.codes(ws.uri('g/guest.iommu')), ['ram-over-reserved']);
      const messages = client.statuses.map((s) => s.message ?? '');
      assert.ok(
        messages.some((m) => /^reading the workspace: \d+ files$/.test(m)),
        `the scan's progress: ${messages.slice(0, 10).join(' | ')}`,
      );
      assert.ok(
        messages.some((m) => /^analysing 20502 files: \d+ of \d+ components$/.test(m)),
        "the analysis's progress",
      );
    } finally {
      await client.stop();
    }
  });
});

describe('past the workspace limit (16 MiB of text or 50,000 files)', () => {
  test('the user is told, on the folder and in a notification, and unknown-name is not reported', async () => {
    // Three fillers over the file size limit (read, reported file-too-large) take 16 MiB less
    // 100 bytes; g.iommu (80 bytes) still fits, p.iommu (which declares g's platform) does not.
    const filler = (n: number) => `// ${'x'.repeat(n - 4)}\n`;
    const third = Math.floor((16 * 2 ** 20 - 100) / 3);
    const ws = workspace({
      'a1.iommu': filler(third),
      'a2.iommu': filler(third),
      'a3.iommu': filler(16 * 2 ** 20 - 100 - 2 * third),
      'g.iommu': 'guest vm on far {\n  ram r 0x0 size 1G\n}\n}\n',
      'p.iommu': `platform far {\n  arch x86_64\n}\n${'//\n'.repeat(70)}`,
    });
    const shown: ShowMessageParams[] = [];
    const client = new Client();
    client.conn.onNotification(ShowMessageNotification.type, (p) => {
      shown.push(p);
      client.nudge();
    });
    try {
      await client.initialize(ws.dir);
      const folder = pathToFileURL(ws.dir).href;
      await client.until(() => client.codes(folder).includes('workspace-too-large'), 'the finding on the folder');
      const [d] = client.latest.get(folder)!;
      assert.match(
        String(d!.message),
        new RegExp(
          '^1 \\.iommu files in this folder were not read\\. IOMMU Lens read 4 files \\(16\\.0 MiB of text\\) ' +
            'of this workspace and left 1 more unread: it holds at most 50000 files or 16\\.0 MiB of text\\. ',
        ),
      );
      await client.until(() => shown.length > 0, 'the notification');
      assert.equal(shown.length, 1);
      assert.equal(shown[0]!.type, MessageType.Warning);
      assert.match(shown[0]!.message, /left 1 more unread/);
      // far is declared in the file not read: no unknown-name; the syntax error is still there.
      await client.until(() => client.codes(ws.uri('g.iommu')).length > 0, 'g.iommu analysed');
      assert.deepEqual(client.codes(ws.uri('g.iommu')), ['syntax-error']);
      assert.equal(client.latest.has(ws.uri('p.iommu')), false);
      // A filler deleted frees room, but p.iommu is read only when it changes (or at the next start).
      rmSync(join(ws.dir, 'a1.iommu'));
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: ws.uri('a1.iommu'), type: FileChangeType.Deleted }],
      });
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: ws.uri('p.iommu'), type: FileChangeType.Changed }],
      });
      await client.until(() => client.codes(folder).length === 0, "the folder's finding cleared once every file is read");
      await client.until(() => client.latest.has(ws.uri('p.iommu')), 'p.iommu read');
      assert.deepEqual(client.codes(ws.uri('g.iommu')), ['syntax-error']);
    } finally {
      await client.stop();
    }
  });

  test('a file three times over the size limit is held by its size, and read when the limit rises', async () => {
    const text = `platform big {\n  arch x86_64\n}\n${'// comment line\n'.repeat(500)}`;
    const ws = workspace({ 'big.iommu': text });
    const client = new Client();
    try {
      await client.initialize(ws.dir, { initializationOptions: { maxFileSize: 1024 } });
      await client.until(() => client.codes(ws.uri('big.iommu')).includes('file-too-large'), 'file-too-large');
      const message = String(client.latest.get(ws.uri('big.iommu'))![0]!.message);
      assert.match(message, new RegExp(`^file is ${text.length} bytes, more than three times the limit of 1024 characters`));
      await client.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: { iommuLens: { maxFileSize: 10_000 } } });
      await client.until(() => client.latest.get(ws.uri('big.iommu'))?.length === 0, 'read and analysed under the new limit');
    } finally {
      await client.stop();
    }
  });
});

describe('start-up in a large folder', () => {
  test("the open document's syntax at once, its component before a slow one, and a hover answered meanwhile", async () => {
    // The guest, then a stray brace: a syntax error of its own.
    const open = `${GUEST}}\n`;
    const ws = workspace({
      // About 1.9 MB of regions: a component that takes a second or more to parse and analyse.
      'big.iommu': regions(45_000),
      'h1.iommu': HOST,
      'zz-open.iommu': open,
    });
    const order: string[] = [];
    const client = new Client();
    client.onPublish = (p: PublishDiagnosticsParams) =>
      order.push(`${p.uri.split('/').pop()} ${p.diagnostics.map((d) => d.code).join(',')}`);
    try {
      await client.initialize(ws.dir);
      await client.open(ws.uri('zz-open.iommu'), open);
      const hover = client.conn
        .sendRequest(HoverRequest.type, { textDocument: { uri: ws.uri('zz-open.iommu') }, position: { line: 1, character: 11 } })
        .then((h) => {
          order.push('hover');
          return h;
        });
      await client.until(() => client.latest.has(ws.uri('big.iommu')), 'big.iommu analysed', 60_000);
      const h = await hover;
      assert.match((h?.contents as { value: string }).value, /h1/);
      const first = (name: string) => order.findIndex((o) => o.startsWith(name));
      assert.match(order[0]!, /^zz-open\.iommu syntax-error/, order.join('\n'));
      const full = order.findIndex((o) => /^zz-open\.iommu .*ram-over-reserved/.test(o));
      assert.ok(full >= 0 && full < first('big.iommu'), `the open document's component before the slow one:\n${order.join('\n')}`);
      assert.ok(order.indexOf('hover') < first('big.iommu'), `the hover answered before the slow component is done:\n${order.join('\n')}`);
    } finally {
      await client.stop();
    }
  });
});

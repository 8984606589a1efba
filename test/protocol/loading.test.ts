/**
 * Reading the workspace's folders. VS Code activates on `workspaceContains`, so a user's
 * first file often opens before the scan is done; an analysis of half the workspace shows
 * false findings (a guest whose host platform is not read yet is an `unknown-name`), so
 * nothing is published, and no request answered, until every file is in. Also: the first
 * analysis's progress, and folders added to or removed from the workspace later.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import {
  DidChangeWorkspaceFoldersNotification,
  HoverRequest,
  WorkDoneProgress,
  WorkspaceSymbolRequest,
  WorkDoneProgressCreateRequest,
  type ProgressToken,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { EXAMPLES } from '../files';
import { Client } from './client';

const GUEST = join(EXAMPLES, 'seed-002-arm-msi-migration', 'guests', 'vm-analytics.iommu');

test("a document opened during the workspace scan gets only the whole workspace's findings", async () => {
  const client = new Client();
  try {
    const uri = pathToFileURL(GUEST).href;
    const seen: PublishDiagnosticsParams[] = [];
    client.onPublish = (p) => {
      if (p.uri === uri) seen.push(p);
    };
    await client.initialize(EXAMPLES);
    // Right behind `initialized`, as VS Code does: the open and a hover arrive while the scan reads.
    void client.open(uri, readFileSync(GUEST, 'utf8'));
    const hover = client.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 5, character: 3 } });
    await client.until(() => client.codes(uri).includes('ram-over-reserved'), 'ram-over-reserved on vm-analytics.iommu');
    // `machine virt memory 4G` over armsrv-1's PCI window, and nothing before it.
    assert.deepEqual(
      seen.map((p) => p.diagnostics.map((d) => `${d.range.start.line}:${d.code}`)),
      [['5:ram-over-reserved']],
    );
    const h = await hover;
    assert.match((h?.contents as { value: string }).value, /armsrv-1|pci-win32|mach-virt/);
    const loading = client.statuses.find((s) => s.message === 'reading the workspace');
    assert.ok(loading, `a status says the workspace is being read: ${JSON.stringify(client.statuses)}`);
  } finally {
    await client.stop();
  }
});

/** A client that shows progress: `answer` is how it answers `window/workDoneProgress/create`. */
async function withProgress(answer: () => Promise<void>) {
  const client = new Client();
  const progress: { token: ProgressToken; kind: string; message?: string }[] = [];
  client.conn.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    client.conn.onProgress(WorkDoneProgress.type, token, (v) => {
      progress.push({ token, kind: v.kind, message: 'message' in v ? v.message : undefined });
      client.nudge();
    });
    return answer();
  });
  await client.initialize(EXAMPLES, { capabilities: { window: { workDoneProgress: true } } });
  const uri = pathToFileURL(GUEST).href;
  await client.until(() => client.codes(uri).includes('ram-over-reserved'), 'the first analysis');
  return { client, progress };
}

test('one work-done progress from the read of the workspace to the end of the first analysis', async () => {
  const { client, progress } = await withProgress(async () => undefined);
  try {
    await client.until(() => progress.some((p) => p.kind === 'end'), 'the end of the progress');
    assert.equal(progress[0]!.kind, 'begin');
    assert.equal(progress[0]!.message, 'Reading the workspace');
    assert.equal(progress.at(-1)!.kind, 'end');
    assert.deepEqual(new Set(progress.slice(1, -1).map((p) => p.kind)), new Set(progress.length > 2 ? ['report'] : []));
    assert.ok(
      progress.every((p) => p.token === progress[0]!.token),
      'one token',
    );
    // Reports say what is going on: the files found, then the components done.
    for (const p of progress.slice(1, -1))
      assert.match(p.message!, /^(Reading the workspace: \d+ files|Analysing \d+ files(: \d+ of \d+ components)?)$/);
  } finally {
    await client.stop();
  }
});

test('a client slow to answer the progress request does not hold the analysis back', async () => {
  const { client, progress } = await withProgress(() => new Promise(() => undefined));
  try {
    assert.deepEqual(progress, []);
  } finally {
    await client.stop();
  }
});

test('folders added to and removed from the workspace: their files come in and go', async () => {
  const root = mkdtempSync(join(tmpdir(), 'iommu-lens-folders-'));
  const guests = join(root, 'guests');
  const hosts = join(root, 'hosts');
  mkdirSync(guests);
  mkdirSync(hosts);
  // Seed 002's guest in one folder, its host in another.
  cpSync(GUEST, join(guests, 'vm-analytics.iommu'));
  cpSync(join(EXAMPLES, 'seed-002-arm-msi-migration', 'hosts'), hosts, { recursive: true });
  const guest = pathToFileURL(join(guests, 'vm-analytics.iommu')).href;
  const hostFiles = readdirSync(hosts).map((f) => pathToFileURL(join(hosts, f)).href);
  assert.equal(hostFiles.length, 2);
  const folder = (dir: string) => ({ uri: pathToFileURL(dir).href, name: dir });
  const client = new Client();
  try {
    const init = await client.initialize(guests, { capabilities: { workspace: { workspaceFolders: true } } });
    assert.equal(init.capabilities.workspace?.workspaceFolders?.changeNotifications, true);
    await client.until(() => client.codes(guest).includes('unknown-name'), 'armsrv-1 unknown while its folder is out');

    await client.conn.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [folder(hosts)], removed: [] } });
    await client.until(() => client.codes(guest).join() === 'ram-over-reserved', 'the host folder read: RAM over its PCI window');
    await client.until(() => hostFiles.every((u) => client.latest.has(u)), "the added folder's files analysed");
    const platforms = async () =>
      ((await client.conn.sendRequest(WorkspaceSymbolRequest.type, { query: 'armsrv' })) ?? []).map((x) => x.name).sort();
    assert.deepEqual(await platforms(), ['armsrv-0', 'armsrv-1']);

    await client.conn.sendNotification(DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [folder(hosts)] } });
    await client.until(() => client.codes(guest).includes('unknown-name'), 'armsrv-1 unknown again');
    assert.deepEqual(await platforms(), [], "the removed folder's files are gone from the workspace");
  } finally {
    await client.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

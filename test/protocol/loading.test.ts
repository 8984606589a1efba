/**
 * A document opened while the server still reads the workspace: VS Code activates on
 * `workspaceContains`, so a user's first file often opens before the scan is done. An
 * analysis of half the workspace shows false findings (a guest whose host platform is not
 * read yet is an `unknown-name`), so nothing is published, and no request answered,
 * until every file is in.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import {
  HoverRequest, WorkDoneProgress, WorkDoneProgressCreateRequest,
  type ProgressToken, type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { EXAMPLES } from '../files';
import { Client } from './client';

const GUEST = join(EXAMPLES, 'seed-002-arm-msi-migration', 'guests', 'vm-analytics.iommu');

test('a document opened during the workspace scan gets only the whole workspace\'s findings', async () => {
  const client = new Client();
  try {
    const uri = pathToFileURL(GUEST).href;
    const seen: PublishDiagnosticsParams[] = [];
    client.onPublish = (p) => { if (p.uri === uri) seen.push(p); };
    await client.initialize(EXAMPLES);
    // Right behind `initialized`, as VS Code does: the open and a hover arrive while the scan reads.
    void client.open(uri, readFileSync(GUEST, 'utf8'));
    const hover = client.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 5, character: 3 } });
    await client.until(() => client.codes(uri).includes('ram-over-reserved'), 'ram-over-reserved on vm-analytics.iommu');
    // `machine virt memory 4G` over armsrv-1's PCI window, and nothing before it.
    assert.deepEqual(seen.map((p) => p.diagnostics.map((d) => `${d.range.start.line}:${d.code}`)), [['5:ram-over-reserved']]);
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
  const progress: { token: ProgressToken; kind: string }[] = [];
  client.conn.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    client.conn.onProgress(WorkDoneProgress.type, token, (v) => { progress.push({ token, kind: v.kind }); client.nudge(); });
    return answer();
  });
  await client.initialize(EXAMPLES, { capabilities: { window: { workDoneProgress: true } } });
  const uri = pathToFileURL(GUEST).href;
  await client.until(() => client.codes(uri).includes('ram-over-reserved'), 'the first analysis');
  return { client, progress };
}

test('the first analysis shows work-done progress, begun and ended', async () => {
  const { client, progress } = await withProgress(async () => undefined);
  try {
    await client.until(() => progress.some((p) => p.kind === 'end'), 'the end of the progress');
    assert.deepEqual(progress.map((p) => p.kind), ['begin', 'end']);
    assert.equal(progress[0]!.token, progress[1]!.token);
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

/**
 * Pull diagnostics (LSP 3.17) through the protocol: a client that declares
 * `textDocument.diagnostic` gets the diagnosticProvider, no pushed diagnostics, reports with
 * result ids (`unchanged` when it has the current one), a refresh when they change, and the
 * workspace pull over every file, open or not. A client that does not declare it keeps push.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  DiagnosticRefreshRequest,
  DidChangeTextDocumentNotification,
  DocumentDiagnosticRequest,
  WorkspaceDiagnosticRequest,
  type DocumentDiagnosticReport,
  type FullDocumentDiagnosticReport,
  type InitializeResult,
} from 'vscode-languageserver-protocol/node';
import { Client } from './client';

const HOST = 'platform epyc-a {\n  iommu amdvi0 amd-vi { address-width 48 }\n  device gpu0 { bdf 0000:41:00.0; iommu amdvi0 }\n}\n';
// A guest that assigns a device its platform does not have: unknown-name, in the guest's file.
const GUEST = 'guest vm1 on epyc-a {\n  ram r 0x0 size 1G\n  assign gpu1\n}\n';

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-pull-'));
  mkdirSync(join(dir, 'hosts'));
  writeFileSync(join(dir, 'hosts', 'a.iommu'), HOST);
  writeFileSync(join(dir, 'guest.iommu'), GUEST);
  return dir;
}

const codes = (r: DocumentDiagnosticReport) => (r as FullDocumentDiagnosticReport).items.map((d) => String(d.code));

describe('pull diagnostics', () => {
  const dir = workspace();
  const guest = pathToFileURL(join(dir, 'guest.iommu')).href;
  const host = pathToFileURL(join(dir, 'hosts', 'a.iommu')).href;
  let client: Client;
  let init: InitializeResult;
  let refreshes = 0;

  before(async () => {
    client = new Client();
    client.conn.onRequest(DiagnosticRefreshRequest.type, () => {
      refreshes++;
      client.nudge();
    });
    init = await client.initialize(dir, {
      capabilities: { textDocument: { diagnostic: { dynamicRegistration: false } }, workspace: { diagnostics: { refreshSupport: true } } },
    });
    await client.until(() => client.statuses.some((s) => s.state === 'ready'), 'the first analysis');
  });
  after(() => client.stop());

  test('the server announces a diagnostic provider with workspace diagnostics, and pushes nothing', () => {
    assert.deepEqual(init.capabilities.diagnosticProvider, {
      identifier: 'iommu-lens',
      interFileDependencies: true,
      workspaceDiagnostics: true,
    });
    assert.equal(client.published, 0);
  });

  test('a document pull is a full report, then unchanged for the same result id', async () => {
    const first = await client.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: guest } });
    assert.equal(first.kind, 'full');
    assert.deepEqual(codes(first), ['unknown-name']);
    assert.ok(first.resultId);
    const again = await client.conn.sendRequest(DocumentDiagnosticRequest.type, {
      textDocument: { uri: guest },
      previousResultId: first.resultId,
    });
    assert.deepEqual(again, { kind: 'unchanged', resultId: first.resultId });
    // A file without findings has a report too (empty), and one the server does not hold.
    const clean = await client.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: host } });
    assert.deepEqual([clean.kind, codes(clean)], ['full', []]);
  });

  test('an edit changes the report and its id; the client is asked to refresh', async () => {
    const before = await client.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: guest } });
    await client.open(guest, GUEST);
    const refreshed = refreshes;
    await client.conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: guest, version: 2 },
      contentChanges: [{ text: GUEST.replace('gpu1', 'gpu0') }],
    });
    // Pulled at once, the report is already that of the new text (the request brings the analysis up to date).
    const after = await client.conn.sendRequest(DocumentDiagnosticRequest.type, {
      textDocument: { uri: guest },
      previousResultId: before.resultId,
    });
    assert.equal(after.kind, 'full');
    assert.deepEqual(codes(after), []);
    assert.notEqual(after.resultId, before.resultId);
    await client.until(() => refreshes > refreshed, 'workspace/diagnostic/refresh');
    assert.equal(client.published, 0);
  });

  test('the workspace pull reports every file, open or not, and unchanged for the ids the client has', async () => {
    const full = await client.conn.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] });
    const uris = full.items.map((i) => i.uri).sort();
    assert.deepEqual(uris, [guest, host].sort());
    assert.ok(full.items.every((i) => i.kind === 'full'));
    // The open document carries its version; a file only on disk has none.
    assert.equal(full.items.find((i) => i.uri === guest)?.version, 2);
    assert.equal(full.items.find((i) => i.uri === host)?.version, null);
    const again = await client.conn.sendRequest(WorkspaceDiagnosticRequest.type, {
      previousResultIds: full.items.map((i) => ({ uri: i.uri, value: i.resultId! })),
    });
    assert.ok(
      again.items.every((i) => i.kind === 'unchanged'),
      JSON.stringify(again.items),
    );
  });
});

describe('push stays for clients that do not pull, or ask for push', () => {
  test('a client that can pull but sets pushDiagnostics gets push (the VS Code extension does)', async () => {
    const dir = workspace();
    const client = new Client();
    try {
      const init = await client.initialize(dir, {
        capabilities: { textDocument: { diagnostic: { dynamicRegistration: false } } },
        initializationOptions: { pushDiagnostics: true },
      });
      assert.equal(init.capabilities.diagnosticProvider, undefined);
      await client.diagnostic(pathToFileURL(join(dir, 'guest.iommu')).href, 'unknown-name');
    } finally {
      await client.stop();
    }
  });

  test('no diagnosticProvider, and diagnostics are published', async () => {
    const dir = workspace();
    const client = new Client();
    try {
      const init = await client.initialize(dir);
      assert.equal(init.capabilities.diagnosticProvider, undefined);
      const guest = pathToFileURL(join(dir, 'guest.iommu')).href;
      await client.diagnostic(guest, 'unknown-name');
    } finally {
      await client.stop();
    }
  });
});

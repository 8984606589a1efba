/**
 * The server as it runs in a web worker (vscode.dev, github.dev): the same handlers, with the
 * worker's environment (server/src/lsp/browserEnvironment.ts), over an in-memory connection
 * instead of the worker's port. The test is the editor: it serves a virtual workspace's files
 * through `iommuLens/findFiles` and `iommuLens/readFile`, as client/src/workspaceFiles.ts does,
 * and the findings that need two files (a guest here, its host there) arrive for files never
 * opened; a file changed in the editor's file system is read again.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import {
  createProtocolConnection,
  DidChangeWatchedFilesNotification,
  DidOpenTextDocumentNotification,
  FileChangeType,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type Hover,
  type LogMessageParams,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
// The server's own copy of the library, for its side of the pipe (loading its node entry also sets up its runtime).
import { StreamMessageReader as ServerReader, StreamMessageWriter as ServerWriter } from 'vscode-languageserver/node';
import { browserEnvironment, workerConnection, type WorkerEvent } from '../../server/src/lsp/browserEnvironment';
import {
  FIND_FILES_REQUEST,
  READ_FILE_REQUEST,
  type FindFilesParams,
  type ReadFileParams,
  type ReadFileResult,
} from '../../server/src/lsp/protocol';
import { startServer } from '../../server/src/lsp/server';

const ROOT = 'vscode-vfs://github/acme/fleet';
const HOST =
  'platform h1 {\n  arch x86_64\n  iommu vtd0 vt-d { address-width 48 }\n  reserved pci-win reserved 0x80000000..0x8fffffff\n' +
  '  device nic { bdf 0000:01:00.0; iommu vtd0; group 1 }\n}\n';
/** A guest on h1 whose RAM runs over h1's reserved region: `ram-over-reserved` needs h1's file. */
const GUEST = 'guest vm on h1 {\n  ram low 0x0 size 3G\n  assign nic\n}\n';

/** The editor's side: a file system of texts, and what the server published and logged. */
class Editor {
  readonly files = new Map<string, string>();
  readonly latest = new Map<string, Diagnostic[]>();
  readonly logs: LogMessageParams[] = [];
  readonly reads: string[] = [];
  readonly conn: ProtocolConnection;
  /** The worker's scope: what the server listens to, and whether it closed itself. */
  readonly scope = { closed: false, listeners: new Map<string, (e: WorkerEvent) => void>() };
  private waiters: (() => void)[] = [];

  constructor() {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const scope = {
      close: () => {
        this.scope.closed = true;
      },
      addEventListener: (type: string, listener: (e: WorkerEvent) => void) => this.scope.listeners.set(type, listener),
    };
    startServer(workerConnection(new ServerReader(toServer), new ServerWriter(toClient), scope), browserEnvironment(scope));
    this.conn = createProtocolConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
    this.conn.onNotification(PublishDiagnosticsNotification.type, (p: PublishDiagnosticsParams) => {
      this.latest.set(p.uri, p.diagnostics);
      this.nudge();
    });
    this.conn.onNotification(LogMessageNotification.type, (p: LogMessageParams) => {
      this.logs.push(p);
      this.nudge();
    });
    this.conn.onRequest(FIND_FILES_REQUEST, (p: FindFilesParams) => ({
      uris: [...this.files.keys()].filter((u) => u.startsWith(`${p.folder}/`)).slice(0, p.maxResults),
    }));
    this.conn.onRequest(READ_FILE_REQUEST, (p: ReadFileParams): unknown => {
      this.reads.push(p.uri);
      const text = this.files.get(p.uri);
      const answer = (r: ReadFileResult) => r;
      if (text === undefined) return answer({ kind: 'none' });
      const bytes = Buffer.byteLength(text);
      return answer(bytes > p.maxBytes ? { kind: 'too-large', bytes } : { kind: 'text', text, bytes });
    });
    // The watcher the server registers for `**/*.iommu`: accepted.
    this.conn.onRequest(RegistrationRequest.type, () => undefined);
    this.conn.listen();
  }

  private nudge(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until<T>(what: string, check: () => T | undefined | false, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  codes(uri: string): string[] {
    return (this.latest.get(uri) ?? []).map((d) => String(d.code));
  }

  async start(settings: Record<string, unknown> = {}): Promise<void> {
    await this.conn.sendRequest(InitializeRequest.type, {
      processId: null,
      rootUri: null,
      workspaceFolders: [{ uri: ROOT, name: 'fleet' }],
      capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true }, workspaceFolders: true } },
      initializationOptions: { ...settings, clientFiles: true },
    });
    await this.conn.sendNotification(InitializedNotification.type, {});
  }
}

const editors: Editor[] = [];
after(() => {
  for (const e of editors) e.conn.dispose();
});

function editor(files: Record<string, string>): Editor {
  const e = new Editor();
  editors.push(e);
  for (const [rel, text] of Object.entries(files)) e.files.set(`${ROOT}/${rel}`, text);
  return e;
}

describe('the server in a web worker, its files from the editor', () => {
  test('a finding that needs two files arrives for a file never opened, with its related location in the other', async () => {
    const e = editor({ 'hosts/h1.iommu': HOST, 'guests/vm.iommu': GUEST });
    await e.start();
    const guest = `${ROOT}/guests/vm.iommu`;
    const found = await e.until('ram-over-reserved on the guest', () => e.latest.get(guest)?.find((d) => d.code === 'ram-over-reserved'));
    assert.deepEqual(found.range.start, { line: 1, character: 2 });
    assert.ok(
      found.relatedInformation?.some((r) => r.location.uri === `${ROOT}/hosts/h1.iommu` && r.message.includes('pci-win')),
      JSON.stringify(found.relatedInformation),
    );
    assert.deepEqual(e.codes(`${ROOT}/hosts/h1.iommu`), []);
    assert.ok(e.logs.some((l) => l.message.includes('IOMMU Lens server 0.1.0 in a web worker')));
    // What a worker's uncaught failures go to is in place (the worker's own error events).
    assert.deepEqual([...e.scope.listeners.keys()].sort(), ['error', 'unhandledrejection']);
  });

  test("the workspace rule holds whatever the editor lists: no node_modules, no hidden directories, no other folder's files", async () => {
    const e = editor({
      'hosts/h1.iommu': HOST,
      'guests/vm.iommu': GUEST,
      // Each would declare h1 a second time if it were read.
      'node_modules/pkg/h1.iommu': HOST,
      '.github/h1.iommu': HOST,
      'notes/h1.txt': HOST,
    });
    e.files.set('vscode-vfs://github/acme/other/h1.iommu', HOST);
    await e.start();
    await e.until('ram-over-reserved on the guest', () => e.codes(`${ROOT}/guests/vm.iommu`).includes('ram-over-reserved'));
    assert.deepEqual(e.codes(`${ROOT}/hosts/h1.iommu`), []);
    assert.deepEqual(e.reads.sort(), [`${ROOT}/guests/vm.iommu`, `${ROOT}/hosts/h1.iommu`]);
  });

  test("a change in the editor's file system is read again: the host fixed, the guest's finding goes", async () => {
    const e = editor({ 'hosts/h1.iommu': HOST, 'guests/vm.iommu': GUEST });
    await e.start();
    const guest = `${ROOT}/guests/vm.iommu`;
    await e.until('ram-over-reserved on the guest', () => e.codes(guest).includes('ram-over-reserved'));
    const host = `${ROOT}/hosts/h1.iommu`;
    e.files.set(host, HOST.replace('0x80000000..0x8fffffff', '0xf0000000..0xf0ffffff'));
    await e.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: host, type: FileChangeType.Changed }] });
    await e.until('the guest without ram-over-reserved', () => e.latest.has(guest) && !e.codes(guest).includes('ram-over-reserved'));
    // Gone from the file system: the guest's host is unknown.
    e.files.delete(host);
    await e.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: host, type: FileChangeType.Deleted }] });
    await e.until('unknown-name on the guest', () => e.codes(guest).includes('unknown-name'));
  });

  test('an open document wins over the file system, and a file over the size limit is held by its size', async () => {
    const e = editor({ 'hosts/h1.iommu': HOST, 'guests/vm.iommu': GUEST, 'big.iommu': `// ${'x'.repeat(5000)}\n` });
    await e.start({ maxFileSize: 1024 });
    const guest = `${ROOT}/guests/vm.iommu`;
    await e.until('ram-over-reserved on the guest', () => e.codes(guest).includes('ram-over-reserved'));
    assert.deepEqual(e.codes(`${ROOT}/big.iommu`), ['file-too-large']);
    // The buffer moves the RAM clear of the window, unsaved: the editor's text counts.
    await e.conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: guest, languageId: 'iommu', version: 1, text: GUEST.replace('size 3G', 'size 1G') },
    });
    await e.until('the guest without ram-over-reserved', () => !e.codes(guest).includes('ram-over-reserved'));
    const hover = (await e.conn.sendRequest(HoverRequest.type, {
      textDocument: { uri: guest },
      position: { line: 2, character: 10 },
    })) as Hover | null;
    // The device's hover, from the host's file: its platform and the reserved region there.
    const text = JSON.stringify(hover?.contents ?? '');
    assert.match(text, /device nic\*\* `0000:01:00.0` on platform h1/);
    assert.match(text, /0x0000000080000000 0x000000008fffffff reserved/);
  });

  test('an editor that answers nonsense costs only the files it garbles', async () => {
    const e = editor({ 'hosts/h1.iommu': HOST, 'guests/vm.iommu': GUEST, 'bad.iommu': 'x' });
    // A malformed answer for one file: logged, the file left out, the rest analysed.
    e.conn.onRequest(READ_FILE_REQUEST, (p: ReadFileParams): unknown => {
      if (p.uri.endsWith('bad.iommu')) return { kind: 'text', text: 42, bytes: -1 };
      const text = e.files.get(p.uri)!;
      return { kind: 'text', text, bytes: Buffer.byteLength(text) };
    });
    await e.start();
    await e.until('ram-over-reserved on the guest', () => e.codes(`${ROOT}/guests/vm.iommu`).includes('ram-over-reserved'));
    await e.until('the log naming the garbled file', () => e.logs.some((l) => l.message.includes('bad.iommu cannot be read')));
    assert.equal(e.latest.has(`${ROOT}/bad.iommu`), false);
  });
});

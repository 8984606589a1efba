/**
 * Limits over the real protocol (issue 11, docs/limits.md): files over
 * `iommuLens.maxFileSize` (a million regions among them) are reported and the rest of the
 * workspace still analyses, and the setting changes the limit live; pathological documents
 * (deep nesting, 100k-character lines, numbers of thousands of digits, NUL and lone
 * surrogates) get their diagnostics and hovers; requests with garbage params, unknown
 * uris, positions past the end, notifications that make no sense and documents closed
 * mid-analysis get answers or are ignored, and the server never exits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DidSaveTextDocumentNotification,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  ErrorCodes,
  FoldingRangeRequest,
  HoverRequest,
  InlayHintRequest,
  MessageType,
  ReferencesRequest,
  RenameRequest,
  ResponseError,
  SelectionRangeRequest,
  SemanticTokensRangeRequest,
  SemanticTokensRequest,
  WorkspaceSymbolRequest,
} from 'vscode-languageserver-protocol/node';
import { ADDRESS_MAP_REQUEST } from '../../server/src/lsp/protocol';
import { regions } from '../helpers';
import { loadShapes, SIZE_LIMIT } from '../shapes/lib/shapes.mjs';
import type { Client } from './client';
import { settle, startOn } from './soak';

const MiB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-limits-'));
const uriOf = (rel: string) => pathToFileURL(join(dir, rel)).href;
let client: Client;

before(async () => {
  // A million regions: 47 MB, far over the default limit of 2 MiB of text.
  writeFileSync(join(dir, 'million.iommu'), regions(1_000_000));
  // About 3 kB, with a finding of its own (the arch given twice).
  writeFileSync(
    join(dir, 'medium.iommu'),
    `platform medium {\n  arch x86_64\n  arch x86_64\n${regions(60).split('\n').slice(2).join('\n')}`,
  );
  writeFileSync(join(dir, 'small.iommu'), 'platform small {\n  arch sparc\n}\n');
  client = await startOn(dir);
});

after(async () => {
  if (!client.exited) await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('files over the size limit', () => {
  test('a million regions is reported as too large, not parsed; the other files analyse', async () => {
    const [d] = client.latest.get(uriOf('million.iommu')) ?? [];
    assert.equal(d?.code, 'file-too-large');
    assert.deepEqual(d.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
    // More than three times the limit in bytes: not even read (its text would count against the workspace's).
    assert.match(d.message as string, /^file is 47\d{6} bytes, more than three times the limit of 2097152 characters .*; it was not read$/);
    assert.ok(client.codes(uriOf('small.iommu')).includes('syntax-error'));
    assert.deepEqual(client.codes(uriOf('medium.iommu')), ['duplicate-setting']);
    // Requests on it answer at once, with nothing to say.
    assert.equal(
      await client.conn.sendRequest(HoverRequest.type, {
        textDocument: { uri: uriOf('million.iommu') },
        position: { line: 500_000, character: 5 },
      }),
      null,
    );
    assert.deepEqual(await client.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uriOf('million.iommu') } }), []);
  });

  test('iommuLens.maxFileSize changes the limit live, both ways', async () => {
    const medium = uriOf('medium.iommu');
    await client.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: { iommuLens: { maxFileSize: 1000 } } });
    await client.until(() => client.codes(medium).join() === 'file-too-large', 'medium.iommu over the lowered limit');
    assert.match(client.latest.get(medium)![0]!.message as string, /over the limit of 1000/);
    assert.ok(client.codes(uriOf('small.iommu')).includes('syntax-error'), 'the small file still analyses');
    await client.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: { iommuLens: { maxFileSize: 2 * MiB } } });
    await client.until(() => client.codes(medium).join() === 'duplicate-setting', 'medium.iommu analysed again');
  });

  test('settings cannot raise the limit past its cap (8 MiB): a million regions stay unparsed', async () => {
    const million = uriOf('million.iommu');
    await client.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: { iommuLens: { maxFileSize: 100 * MiB } } });
    await client.until(
      () => /the limit of 8388608 /.test(String(client.latest.get(million)?.[0]?.message)),
      'the capped limit in the finding',
    );
    assert.ok(
      client.logs.some((l) => l.type === MessageType.Warning && /iommuLens\.maxFileSize is at most 8388608, not 104857600/.test(l.message)),
      'the cap in the log',
    );
    await client.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: { iommuLens: { maxFileSize: 2 * MiB } } });
    await client.until(() => /the limit of 2097152 /.test(String(client.latest.get(million)?.[0]?.message)), 'the default limit again');
  });
});

describe('pathological documents', () => {
  const long = 100_000;
  const cases: { name: string; text: string; codes: string[] }[] = [
    { name: 'nested-braces', text: '{'.repeat(long), codes: ['syntax-error'] },
    { name: 'nested-platforms', text: 'platform p {\n'.repeat(20_000), codes: ['unclosed-block'] },
    { name: 'long-name', text: `platform ${'n'.repeat(long)} {\n  arch x86_64\n}\n`, codes: [] },
    {
      name: 'long-number',
      text: `platform q {\n  iommu i vt-d\n  reserved r reserved 0x${'f'.repeat(long)} size 4K\n}\n`,
      codes: ['number-too-large'],
    },
    {
      name: 'long-decimal',
      text: `platform q2 {\n  iommu i vt-d\n  reserved r reserved ${'9'.repeat(long)} size 4K\n}\n`,
      codes: ['number-too-large'],
    },
    { name: 'long-comment', text: `// ${'c'.repeat(long)}\nplatform q3 { }\n`, codes: [] },
    { name: 'long-garbage', text: `${Array.from({ length: long }, (_, i) => '#$%^&`~@'[i % 8]).join('')}\n`, codes: ['invalid-character'] },
    {
      name: 'nul-and-surrogates',
      text: 'platform s\u0000 {\n  arch \ud800x86_64\n  // \udc00 \u0000 in a comment\n}\n',
      codes: ['invalid-character'],
    },
  ];

  test('each gets its diagnostics and hovers; messages stay short', async () => {
    for (const c of cases) await client.open(uriOf(`${c.name}.iommu`), c.text);
    for (const c of cases) {
      const uri = uriOf(`${c.name}.iommu`);
      await client.until(() => client.latest.has(uri), `${c.name} analysed`, 60_000);
      const codes = [...new Set(client.codes(uri))];
      for (const code of c.codes) assert.ok(codes.includes(code), `${c.name}: ${code} in ${codes.join()}`);
      if (c.codes.length === 0) assert.deepEqual(codes, [], c.name);
      for (const d of client.latest.get(uri)!)
        assert.ok((d.message as string).length < 400, `${c.name}: a ${(d.message as string).length}-character message`);
      for (const at of [0, 0.5, 1]) {
        const lines = c.text.split('\n');
        const line = Math.floor(at * (lines.length - 1));
        const h = await client.conn.sendRequest(HoverRequest.type, {
          textDocument: { uri },
          position: { line, character: Math.floor(lines[line]!.length / 2) },
        });
        assert.ok(h === null || typeof h.contents === 'object', c.name);
      }
    }
    // NUL and a lone surrogate are reported where they are (outside the comment only).
    const nul = client.latest
      .get(uriOf('nul-and-surrogates.iommu'))!
      .filter((d) => d.code === 'invalid-character')
      .map((d) => [d.range.start.line, d.range.start.character]);
    assert.deepEqual(nul, [
      [0, 10],
      [1, 7],
    ]);
  });
});

describe('bad requests and notifications', () => {
  const uri = uriOf('small.iommu');
  const garbage: [string, unknown][] = [
    ['textDocument/hover', {}],
    ['textDocument/hover', { textDocument: { uri: 5 }, position: { line: 0, character: 0 } }],
    ['textDocument/hover', { textDocument: { uri }, position: { line: -1, character: 0 } }],
    ['textDocument/hover', { textDocument: { uri }, position: null }],
    ['textDocument/hover', { textDocument: { uri }, position: { line: 'one', character: 0 } }],
    ['textDocument/hover', { textDocument: { uri }, position: { line: 0.5, character: 0 } }],
    ['textDocument/completion', { textDocument: { uri }, position: { line: 0, character: -3 } }],
    ['textDocument/definition', { textDocument: null, position: { line: 0, character: 0 } }],
    ['textDocument/references', { textDocument: { uri }, position: { line: 0, character: 1e400 } }],
    ['textDocument/rename', { textDocument: { uri }, position: { line: 0, character: 10 }, newName: 42 }],
    ['textDocument/selectionRange', { textDocument: { uri }, positions: 'all of them' }],
    ['textDocument/selectionRange', { textDocument: { uri }, positions: [{ line: 0, character: 0 }, 7] }],
    ['textDocument/codeAction', { textDocument: { uri }, context: { diagnostics: [] } }],
    ['textDocument/inlayHint', { textDocument: { uri }, range: null }],
    ['textDocument/semanticTokens/range', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: 'end' } }],
    ['textDocument/rangeFormatting', { textDocument: { uri }, range: { start: {}, end: {} }, options: {} }],
    [ADDRESS_MAP_REQUEST, { uri, position: { line: -5, character: 0 } }],
  ];

  test('garbage params get InvalidParams, never an internal error', async () => {
    for (const [method, params] of garbage) {
      await assert.rejects(
        client.conn.sendRequest(method, params),
        (e: unknown) => e instanceof ResponseError && e.code === ErrorCodes.InvalidParams,
        `${method} ${JSON.stringify(params)}`,
      );
    }
    await assert.rejects(
      client.conn.sendRequest('iommuLens/noSuchRequest', {}),
      (e: unknown) => e instanceof ResponseError && e.code === ErrorCodes.MethodNotFound,
    );
  });

  test('unknown uris, positions past the end and odd but valid params get ordinary answers', async () => {
    const far = { line: 2 ** 31, character: 2 ** 31 };
    const past = { line: 1, character: 10_000 };
    for (const u of ['file:///nowhere/x.iommu', 'untitled:Untitled-9', 'not a uri', '']) {
      assert.equal(await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: u }, position: far }), null);
      assert.deepEqual(await client.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: u } }), []);
      assert.deepEqual(await client.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri: u } }), []);
    }
    for (const position of [far, past, { line: 0, character: 0 }]) {
      await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
      await client.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position });
      await client.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position });
      await client.conn.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position, context: { includeDeclaration: true } });
      await client.conn.sendRequest(CodeActionRequest.type, {
        textDocument: { uri },
        range: { start: position, end: far },
        context: { diagnostics: [] },
      });
      await client.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: position, end: far } });
      await client.conn.sendRequest(SelectionRangeRequest.type, { textDocument: { uri }, positions: [position] });
      await client.conn.sendRequest(SemanticTokensRangeRequest.type, { textDocument: { uri }, range: { start: position, end: far } });
      await client.conn.sendRequest(ADDRESS_MAP_REQUEST, { uri, position });
    }
    await client.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } });
    assert.ok(Array.isArray(await client.conn.sendRequest(WorkspaceSymbolRequest.type, { query: 42 } as never)));
    assert.ok(
      Array.isArray(await client.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: null } as never)),
    );
    assert.equal(await client.conn.sendRequest(ADDRESS_MAP_REQUEST, null), null);
    await assert.rejects(
      client.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: far, newName: '' }),
      (e: unknown) => e instanceof ResponseError && e.code === ErrorCodes.InvalidRequest,
    );
  });

  test('notifications that make no sense are ignored or logged; documents closed mid-analysis; the server goes on', async () => {
    const doc = uriOf('edited.iommu');
    const send = (method: string, params: unknown) => client.conn.sendNotification(method, params);
    await send(DidChangeTextDocumentNotification.type.method, {
      textDocument: { uri: uriOf('never-opened.iommu'), version: 2 },
      contentChanges: [{ text: 'platform x { }' }],
    });
    await send(DidCloseTextDocumentNotification.type.method, { textDocument: { uri: uriOf('never-opened.iommu') } });
    await send(DidSaveTextDocumentNotification.type.method, { textDocument: { uri: 'untitled:nothing' } });
    await send(DidChangeWatchedFilesNotification.type.method, { changes: 'everything' });
    await send(DidChangeWatchedFilesNotification.type.method, {
      changes: [
        { uri: 5, type: 1 },
        null,
        { uri: uriOf('missing/gone.iommu'), type: 2 },
        { uri: 'https://example.invalid/a.iommu', type: 1 },
      ],
    });
    await send(DidChangeWatchedFilesNotification.type.method, null);
    await send(DidChangeConfigurationNotification.type.method, { settings: null });
    await send(DidChangeConfigurationNotification.type.method, {
      settings: { iommuLens: { maxFileSize: 'big', debounceMs: -1, checksWhileTyping: 'all', diagnostics: { severity: 5 }, logLevel: 3 } },
    });
    await send('$/cancelRequest', { id: { nested: true } });
    await send('iommuLens/noSuchNotification', [1, 2, 3]);
    await send(DidOpenTextDocumentNotification.type.method, { textDocument: null });

    // A document edited with huge versions and ranges past its end, then closed while its analysis is due.
    await client.open(doc, 'platform edited {\n  arch x86_64\n}\n');
    await send(DidChangeTextDocumentNotification.type.method, {
      textDocument: { uri: doc, version: Number.MAX_SAFE_INTEGER },
      contentChanges: [
        { range: { start: { line: 99, character: 99 }, end: { line: 120, character: 0 } }, text: 'guest g on nowhere { }\n' },
      ],
    });
    await send(DidChangeTextDocumentNotification.type.method, {
      textDocument: { uri: doc, version: 1e308 },
      contentChanges: [{ range: { start: { line: 1, character: 7 }, end: { line: 1, character: 500 } }, text: 'sparc' }],
    });
    // Both edits applied, clamped to the text: the outline has the platform and the appended guest.
    await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: doc }, position: { line: 1, character: 3 } });
    const outline = await client.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: doc } });
    assert.deepEqual(
      (outline ?? []).map((x) => x.name),
      ['edited', 'g'],
    );
    await send(DidCloseTextDocumentNotification.type.method, { textDocument: { uri: doc } });
    await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: doc }, position: { line: 0, character: 3 } });
    // Opened twice, the second text wins.
    await client.open(uriOf('twice.iommu'), 'platform twice {\n  arch sparc\n}\n');
    await client.open(uriOf('twice.iommu'), 'platform twice {\n  arch arm64\n}\n');

    // Settings back to the defaults, then the server answers as before.
    await send(DidChangeConfigurationNotification.type.method, { settings: { iommuLens: {} } });
    await settle(client, uriOf('small.iommu'));
    assert.equal(client.exited, undefined, client.stderr);
    assert.deepEqual(client.latest.get(doc), [], 'the closed buffer (never saved) is gone');
    assert.deepEqual(client.codes(uriOf('twice.iommu')), []);
    assert.ok(client.codes(uriOf('small.iommu')).includes('syntax-error'));
    assert.match(await client.hoverText(uriOf('medium.iommu'), 4, 12), /r1/);
    // What was wrong is in the log as warnings and errors, none of them a failing handler of ours.
    for (const setting of ['maxFileSize', 'debounceMs', 'checksWhileTyping', 'diagnostics.severity', 'logLevel']) {
      assert.ok(
        client.logs.some((l) => l.type === MessageType.Warning && l.message.startsWith(`settings: iommuLens.${setting} must be`)),
        setting,
      );
    }
    const ours = client.logs.filter(
      (l) => l.type === MessageType.Error && /failed: |uncaught|unhandled/.test(l.message) && !/Notification handler/.test(l.message),
    );
    assert.deepEqual(
      ours.map((l) => l.message),
      [],
    );
  });
});

/**
 * Issue 22: every shape of test/shapes/ (read from the folder) just under the default size
 * limit, in a workspace of its own, through the server over stdio with a 1 GiB heap: the
 * first analysis publishes the findings the shape expects and the server is still up.
 * The timeouts only guard against a hang (docs/limits.md has the figures).
 */
describe('engine shapes at the size limit, through the server', async () => {
  for (const shape of await loadShapes()) {
    test(`${shape.name}: ${shape.description}`, { timeout: 600_000 }, async () => {
      const ws = mkdtempSync(join(tmpdir(), `iommu-lens-shape-${shape.name}-`));
      const file = join(ws, `${shape.name}.iommu`);
      writeFileSync(file, shape.generate(SIZE_LIMIT - 1));
      const server = await startOn(ws, { nodeArgs: ['--max-old-space-size=1024'] });
      try {
        const uri = pathToFileURL(file).href;
        const codes = new Set(server.codes(uri));
        for (const code of shape.expect) assert.ok(codes.has(code), `${code} missing from ${[...codes].join(', ')}`);
        assert.ok(!codes.has('internal-error'), [...codes].join(', '));
        // Still answering, and still there.
        assert.ok(Array.isArray(await server.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } })));
        assert.equal(server.exited, undefined, server.stderr);
      } finally {
        if (!server.exited) await server.stop();
        rmSync(ws, { recursive: true, force: true });
      }
    });
  }
});

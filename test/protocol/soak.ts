/**
 * The soak driver shared by test/protocol/soak.test.ts (CI: fixed seed, short) and
 * bench/soak.mjs (long runs): random edits through the real protocol, as VS Code sends
 * them, on several open documents of a workspace on disk, with requests interleaved.
 *
 * Edits are incremental `didChange`s with ranges: typing a word one character at a time,
 * pasting a line of the corpus, inserting numbers, names, braces and garbage (NUL, lone
 * surrogates, CR, emoji), deleting ranges and lines, multi-cursor changes, and undo
 * (the exact inverse of an earlier change). Documents are closed and others opened,
 * unsaved buffers come and go, files change on disk (`didChangeWatchedFiles`), and the
 * checks run while typing are switched now and then. Hover, completion, definition and
 * document symbols (and now and then the other requests) are sent between edits, some
 * cancelled; every answer must be a result or a cancellation.
 *
 * The client keeps its own copy of every open document (vscode-languageserver-textdocument,
 * the library the server uses), so at the end it knows the exact texts the server should
 * hold, to compare its diagnostics with a fresh server's.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CancellationTokenSource,
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DidSaveTextDocumentNotification,
  DocumentHighlightRequest,
  DocumentSymbolRequest,
  FileChangeType,
  FoldingRangeRequest,
  HoverRequest,
  InlayHintRequest,
  LSPErrorCodes,
  ReferencesRequest,
  ResponseError,
  SemanticTokensRequest,
  type Diagnostic,
  type Position,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { iommuFiles } from '../files';
import { prng } from '../prng.mjs';
import { Client } from './client';
import { ENGINE_IDS } from '../../server/src/domains';

export { iommuFiles };

/** Starts a server on `dir` (a workspace folder) and waits for its first analysis. */
export async function startOn(dir: string, options: { nodeArgs?: string[]; settings?: Record<string, unknown> } = {}): Promise<Client> {
  const client = new Client({ nodeArgs: options.nodeArgs });
  await client.initialize(dir, { initializationOptions: options.settings ?? {} });
  await client.until(() => client.statuses.some((s) => s.state === 'ready'), 'the first analysis', 600_000);
  return client;
}

/**
 * Waits until the server has analysed everything it was sent and published the result:
 * a request analyses the current text first (and publishes it before answering), then
 * nothing may arrive for `quietMs` (a debounced run finishing).
 */
export async function settle(client: Client, anyUri: string, quietMs = 400): Promise<void> {
  await client.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: anyUri } });
  for (;;) {
    const seen = client.statuses.length + client.logs.length + client.published;
    await new Promise((r) => setTimeout(r, quietMs));
    if (seen === client.statuses.length + client.logs.length + client.published) return;
  }
}

/** Diagnostics per uri, uris sorted, files with none left out (a deleted file's last, empty list included). */
export function diagnosticsOf(client: Client): Map<string, Diagnostic[]> {
  return new Map([...client.latest].filter(([, d]) => d.length > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface SoakOptions {
  client: Client;
  /** The workspace folder the server was started on (files are changed there). */
  dir: string;
  seed: number;
  /** Stop after this many edits (a typed character is one edit) ... */
  edits?: number;
  /** ... or at this `performance.now()` time. */
  deadline?: number;
  /** Documents open at once. */
  openDocs?: number;
  /** Lines to paste and words to type (the examples' lines). */
  corpus: readonly string[];
  /** A request that has no answer after this long fails the run (liveness, not speed). */
  answerBoundMs?: number;
  /** Called every `sampleEvery` edits (the bench prints figures, the test samples memory). */
  onSample?: (s: SoakSample) => void | Promise<void>;
  sampleEvery?: number;
}

export interface SoakSample {
  edits: number;
  ms: number;
  /** Hover latencies (ms) since the last sample. */
  hovers: number[];
}

export interface SoakResult {
  edits: number;
  requests: number;
  cancelled: number;
  /** Every hover latency (ms), in order. */
  hovers: number[];
  /** Every answer's latency (ms) by request kind. */
  latency: Map<string, number[]>;
  /** Answers that were neither a result nor a cancellation, and requests past the bound. */
  failures: string[];
  /** The open documents and their texts at the end. */
  open: Map<string, string>;
  ms: number;
}

interface OpenDoc {
  doc: TextDocument;
  /** Inverse changes, newest last: undo applies one group. */
  undo: TextDocumentContentChangeEvent[][];
  size: number;
}

const KEYWORD_FRAGMENTS = [
  '{',
  '}',
  ';',
  '..',
  ' ',
  '\n',
  '  ',
  '//',
  '/*',
  '*/',
  '.',
  ':',
  ',',
  'size',
  'device',
  'platform',
  'reserved',
  'ram',
  'guest',
  'assign',
  'iommu',
  'timeline',
  'start',
  '}\n',
  '{\n',
];
const GARBAGE = [
  '\u0000',
  '\t',
  '\r',
  '\r\n',
  '\ud800',
  '\udfff',
  '\u{1F600}',
  '\u00e9',
  '\u200b',
  '\ufeff',
  '\ufffd',
  '"',
  "'",
  '\\',
  '#',
  '@',
  '$',
  '%',
  '`',
  '~',
  '\u0007',
  '\u2028',
];

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const random = prng(o.seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => random() < p;
  const { client } = o;
  const bound = o.answerBoundMs ?? 10_000;
  const words = [...new Set(o.corpus.flatMap((l) => l.match(/[A-Za-z][\w-]*/g) ?? []))];
  const open = new Map<string, OpenDoc>();
  const failures: string[] = [];
  const hovers: number[] = [];
  const latency = new Map<string, number[]>();
  let sampleHovers: number[] = [];
  let edits = 0;
  let requests = 0;
  let cancelled = 0;
  let untitled = 0;
  const inFlight = new Set<Promise<void>>();
  const created: string[] = [];
  const started = performance.now();
  const uriOf = (rel: string) => pathToFileURL(join(o.dir, rel)).href;
  const diskFiles = () => iommuFiles(o.dir);

  const number = () =>
    pick([
      () => `0x${int(2 ** 32).toString(16)}`,
      () => `${1 + int(512)}${pick(['K', 'M', 'G', 'T', ''])}`,
      () => `0x${int(0xffff).toString(16)}_${int(0xffff).toString(16).padStart(4, '0')}`,
      () => `${int(10)}`,
      () => `0x${'f'.repeat(1 + int(40))}`,
      () => '9'.repeat(1 + int(60)),
    ])();
  const fragment = () => (chance(0.3) ? number() : chance(0.5) ? pick(words) : pick(KEYWORD_FRAGMENTS));
  const garbage = () =>
    Array.from({ length: 1 + int(12) }, () => (chance(0.5) ? pick(GARBAGE) : String.fromCharCode(32 + int(95)))).join('');

  /** Sends one didChange with `changes` (each against the text left by the ones before) and records its inverse. */
  const change = async (uri: string, changes: TextDocumentContentChangeEvent[], undoable = true) => {
    const d = open.get(uri)!;
    const inverse: TextDocumentContentChangeEvent[] = [];
    for (const c of changes) {
      if (!('range' in c)) throw new Error('ranged changes only');
      const start = d.doc.offsetAt(c.range.start);
      const end = d.doc.offsetAt(c.range.end);
      const removed = d.doc.getText().slice(start, end);
      d.doc = TextDocument.update(d.doc, [c], d.doc.version + 1);
      inverse.unshift({ range: { start: d.doc.positionAt(start), end: d.doc.positionAt(start + c.text.length) }, text: removed });
    }
    if (undoable) d.undo.push(inverse);
    edits++;
    await client.conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: d.doc.version },
      contentChanges: changes,
    });
  };
  const insertAt = (d: OpenDoc, offset: number, text: string): TextDocumentContentChangeEvent => {
    const p = d.doc.positionAt(offset);
    return { range: { start: p, end: p }, text };
  };
  const deleteRange = (d: OpenDoc, start: number, end: number): TextDocumentContentChangeEvent => ({
    range: { start: d.doc.positionAt(start), end: d.doc.positionAt(end) },
    text: '',
  });

  const openDoc = async (uri: string, text: string) => {
    open.set(uri, { doc: TextDocument.create(uri, 'iommu', 1, text), undo: [], size: text.length });
    await client.conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'iommu', version: 1, text },
    });
  };
  const closeDoc = async (uri: string) => {
    open.delete(uri);
    await client.conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  };
  const openSome = async () => {
    const closed = diskFiles()
      .map(uriOf)
      .filter((u) => !open.has(u));
    if (closed.length === 0) return;
    const uri = pick(closed);
    await openDoc(uri, readFileSync(new URL(uri), 'utf8'));
  };

  /** One request at a random place of an open document; answers are checked as they come. */
  const request = (uri: string) => {
    const d = open.get(uri)!;
    const text = d.doc.getText();
    const position: Position = chance(0.03) ? { line: d.doc.lineCount + 5, character: 3 } : d.doc.positionAt(int(text.length + 1));
    const textDocument = { uri };
    const token = new CancellationTokenSource();
    const r = random();
    const kind =
      r < 0.45
        ? 'hover'
        : r < 0.6
          ? 'completion'
          : r < 0.75
            ? 'definition'
            : r < 0.85
              ? 'documentSymbol'
              : pick(['references', 'highlight', 'folding', 'semanticTokens', 'inlayHint', 'codeAction']);
    const sent = performance.now();
    const answer: Promise<unknown> =
      kind === 'hover'
        ? client.conn.sendRequest(HoverRequest.type, { textDocument, position }, token.token)
        : kind === 'completion'
          ? client.conn.sendRequest(CompletionRequest.type, { textDocument, position }, token.token)
          : kind === 'definition'
            ? client.conn.sendRequest(DefinitionRequest.type, { textDocument, position }, token.token)
            : kind === 'documentSymbol'
              ? client.conn.sendRequest(DocumentSymbolRequest.type, { textDocument }, token.token)
              : kind === 'references'
                ? client.conn.sendRequest(
                    ReferencesRequest.type,
                    { textDocument, position, context: { includeDeclaration: true } },
                    token.token,
                  )
                : kind === 'highlight'
                  ? client.conn.sendRequest(DocumentHighlightRequest.type, { textDocument, position }, token.token)
                  : kind === 'folding'
                    ? client.conn.sendRequest(FoldingRangeRequest.type, { textDocument }, token.token)
                    : kind === 'semanticTokens'
                      ? client.conn.sendRequest(SemanticTokensRequest.type, { textDocument }, token.token)
                      : kind === 'inlayHint'
                        ? client.conn.sendRequest(
                            InlayHintRequest.type,
                            { textDocument, range: { start: { line: 0, character: 0 }, end: position } },
                            token.token,
                          )
                        : client.conn.sendRequest(
                            CodeActionRequest.type,
                            { textDocument, range: { start: position, end: position }, context: { diagnostics: [] } },
                            token.token,
                          );
    requests++;
    // Cancelled a moment later, as an editor does when the cursor moves on: the request may still be queued.
    if (chance(0.05)) setTimeout(() => token.cancel(), int(4));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        failures.push(`${kind} at ${uri} ${JSON.stringify(position)}: no answer after ${bound} ms`);
        resolve();
      }, bound);
    });
    const done = answer
      .then(
        () => {
          const ms = performance.now() - sent;
          if (!latency.has(kind)) latency.set(kind, []);
          latency.get(kind)!.push(ms);
          if (kind === 'hover') {
            hovers.push(ms);
            sampleHovers.push(ms);
          }
        },
        (e: unknown) => {
          if (e instanceof ResponseError && e.code === LSPErrorCodes.RequestCancelled) cancelled++;
          else
            failures.push(
              `${kind} at ${uri} ${JSON.stringify(position)}: ${e instanceof ResponseError ? `error ${e.code}: ` : ''}${(e as Error).message}`,
            );
        },
      )
      .finally(() => {
        clearTimeout(timer);
        token.dispose();
      });
    const tracked: Promise<void> = Promise.race([done, late]).then(() => {
      inFlight.delete(tracked);
    });
    inFlight.add(tracked);
  };

  /** One step: an edit (or a burst of typing), a document or disk event, maybe requests. */
  const step = async () => {
    if (open.size < (o.openDocs ?? 4)) await openSome();
    const uri = pick([...open.keys()]);
    const d = open.get(uri)!;
    const text = d.doc.getText();
    const grown = text.length > 2 * d.size + 2000;
    const r = random();
    if (r < 0.25 && !grown) {
      // Typing: one didChange per character, as an editor sends keystrokes.
      let at = int(text.length + 1);
      for (const ch of chance(0.7) ? pick(words) : fragment()) {
        await change(uri, [insertAt(open.get(uri)!, at, ch)]);
        at += ch.length;
      }
    } else if (r < 0.37 && !grown) {
      const line = int(d.doc.lineCount);
      await change(uri, [insertAt(d, d.doc.offsetAt({ line, character: 0 }), `${pick(o.corpus)}\n`)]);
    } else if (r < 0.5 && !grown) {
      await change(uri, [insertAt(d, int(text.length + 1), fragment())]);
    } else if (r < 0.54 && !grown) {
      await change(uri, [insertAt(d, int(text.length + 1), garbage())]);
    } else if (r < 0.72) {
      if (chance(0.5) || text.length === 0) {
        const start = int(text.length + 1);
        await change(uri, [deleteRange(d, start, Math.min(text.length, start + 1 + int(40)))]);
      } else {
        const line = int(d.doc.lineCount);
        await change(uri, [deleteRange(d, d.doc.offsetAt({ line, character: 0 }), d.doc.offsetAt({ line: line + 1, character: 0 }))]);
      }
    } else if (r < 0.88) {
      // Undo: the inverse of the last change group, as one didChange.
      const inverse = d.undo.pop();
      if (inverse) await change(uri, inverse, false);
    } else if (r < 0.92 && !grown) {
      // Several cursors: changes from the end backwards, so each range holds in the text the ones before leave.
      const at = Array.from({ length: 2 + int(3) }, () => int(text.length + 1)).sort((a, b) => b - a);
      const piece = fragment();
      await change(
        uri,
        at.map((x) => insertAt(d, x, piece)),
      );
    } else if (r < 0.94) {
      await closeDoc(uri);
      if (chance(0.3)) {
        // An unsaved buffer: in the workspace folder but not on disk, or untitled; it goes when closed.
        const name = chance(0.5) ? `untitled:Untitled-${++untitled}` : uriOf(`unsaved-${++untitled}.iommu`);
        await openDoc(name, Array.from({ length: 3 + int(20) }, () => pick(o.corpus)).join('\n'));
      } else {
        await openSome();
      }
    } else if (r < 0.96) {
      await diskChange();
    } else if (r < 0.97) {
      await client.conn.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
    } else if (r < 0.975) {
      // The checks run while typing: some of them for a while, then all again.
      const checks = chance(0.5) ? ['vfio', 'pools'] : [...ENGINE_IDS];
      await client.conn.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { iommuLens: { checksWhileTyping: checks } },
      });
    }
    const n = chance(0.5) ? 1 : chance(0.3) ? 2 : 0;
    for (let i = 0; i < n; i++) {
      const u = pick([...open.keys()]);
      request(u);
    }
    // Keep a few requests in flight, as an editor does, without letting them pile up.
    while (inFlight.size > 6) await Promise.race(inFlight);
  };

  /** A file that is not open changes on disk: rewritten, created or deleted. */
  const diskChange = async () => {
    const r = random();
    // Created files are deleted again (at most a few live), so the workspace keeps its size and memory can be compared.
    if (created.length > 0 && (r < 0.3 || created.length >= 4)) {
      const rel = created.splice(int(created.length), 1)[0]!;
      if (open.has(uriOf(rel))) return;
      rmSync(join(o.dir, rel), { force: true });
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: uriOf(rel), type: FileChangeType.Deleted }],
      });
    } else if (r < 0.6) {
      const rel = `soak-created/file-${o.seed}-${edits}.iommu`;
      mkdirSync(dirname(join(o.dir, rel)), { recursive: true });
      writeFileSync(join(o.dir, rel), Array.from({ length: 2 + int(10) }, () => pick(o.corpus)).join('\n'));
      created.push(rel);
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: uriOf(rel), type: FileChangeType.Created }],
      });
    } else {
      const closed = diskFiles().filter((rel) => !open.has(uriOf(rel)));
      if (closed.length === 0) return;
      const rel = pick(closed);
      const lines = readFileSync(join(o.dir, rel), 'utf8').split('\n');
      // An edit made elsewhere (git checkout, another editor): a line replaced by one of the corpus.
      lines.splice(int(lines.length), 1, pick(o.corpus));
      writeFileSync(join(o.dir, rel), lines.join('\n'));
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: uriOf(rel), type: FileChangeType.Changed }],
      });
    }
  };

  let nextSample = o.sampleEvery ?? Infinity;
  while ((o.edits === undefined || edits < o.edits) && (o.deadline === undefined || performance.now() < o.deadline)) {
    await step();
    if (client.exited) {
      failures.push(`the server exited: ${JSON.stringify(client.exited)}\n${client.stderr}`);
      break;
    }
    if (edits >= nextSample) {
      nextSample += o.sampleEvery!;
      await Promise.all(inFlight);
      await o.onSample?.({ edits, ms: performance.now() - started, hovers: sampleHovers });
      sampleHovers = [];
    }
  }
  await Promise.all(inFlight);
  return {
    edits,
    requests,
    cancelled,
    hovers,
    latency,
    failures,
    open: new Map([...open].map(([u, d]) => [u, d.doc.getText()])),
    ms: performance.now() - started,
  };
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

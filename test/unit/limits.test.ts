/**
 * Limits (issue 11), the parts testable without a process: reading bytes that are not
 * UTF-8 (the CLI's decoder against the platform's own), the LSP layer's guards (a handler
 * that throws answers with an error and logs; a notification's failure is logged) and
 * position checks, and the scheduler after an analysis that throws (logged, a `failed`
 * status, the next edit recovers). The same over the real protocol: test/protocol/limits.test.ts.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import { LineIndex, type Analysis, type AnalysisHost } from '../../server/src/ide';
import { decodeUtf8, encodingFindings } from '../../server/src/cli/files';
import { guardNotification, guardRequest, keepAlive } from '../../server/src/lsp/guard';
import { Log } from '../../server/src/lsp/log';
import { offsetAt, spanOf } from '../../server/src/lsp/params';
import type { StatusParams } from '../../server/src/lsp/protocol';
import { Scheduler } from '../../server/src/lsp/scheduler';
import { DEFAULT_SETTINGS } from '../../server/src/lsp/settings';
import { ENGINE_IDS } from '../../server/src/domains';

const reference = new TextDecoder('utf-8', { ignoreBOM: true });
const bytes = (...b: number[]) => Uint8Array.from(b);
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('bytes that are not UTF-8', () => {
  test('read as the platform reads them: one U+FFFD per maximal ill-formed subsequence', () => {
    // Bytes that start or cut sequences, overlong forms, surrogates and values past U+10FFFF, among valid text.
    const piece = fc.oneof(
      fc.string({ unit: 'binary' }).map(utf8),
      fc.uint8Array({ maxLength: 6 }),
      fc.constantFrom(
        bytes(0xc3, 0x28),
        bytes(0xe2, 0x82),
        bytes(0xf0, 0x9f, 0x98),
        bytes(0xed, 0xa0, 0x80),
        bytes(0xc0, 0xaf),
        bytes(0xf4, 0x90, 0x80, 0x80),
        bytes(0xff),
        bytes(0xef, 0xbf, 0xbd),
        bytes(0xef, 0xbb, 0xbf),
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const all = Uint8Array.from(pieces.flatMap((p) => [...p]));
        const d = decodeUtf8(all);
        assert.equal(d.text, reference.decode(all));
        for (const r of d.invalid) {
          assert.equal(d.text.slice(r.span.start, r.span.end), '\ufffd'.repeat(r.span.end - r.span.start));
          assert.deepEqual(r.bytes, [...all.subarray(r.byteOffset, r.byteOffset + Math.min(r.length, 8))]);
        }
        // Valid bytes between the runs decode to the text between their spans.
        let at = 0;
        let byte = 0;
        for (const r of [...d.invalid, { span: { start: d.text.length, end: d.text.length }, byteOffset: all.length, length: 0 }]) {
          assert.equal(d.text.slice(at, r.span.start), reference.decode(all.subarray(byte, r.byteOffset)));
          at = r.span.end;
          byte = r.byteOffset + r.length;
        }
      }),
      { seed: 11, numRuns: 3000 },
    );
  });

  test('valid UTF-8 (with a real U+FFFD, a BOM, astral characters) has no invalid runs', () => {
    const d = decodeUtf8(utf8('\ufeffplatform p { } // caf\u00e9 \ufffd \u{1F600}\n'));
    assert.deepEqual(d.invalid, []);
    assert.equal(d.text, '\ufeffplatform p { } // caf\u00e9 \ufffd \u{1F600}\n');
  });

  test('adjacent bad subsequences are one run; each run is one invalid-utf8 error at its U+FFFD', () => {
    const file = Uint8Array.from([...utf8('ab'), 0xed, 0xa0, 0x80, ...utf8('\u00e9'), 0xff, 0xc3]);
    const d = decodeUtf8(file);
    assert.equal(d.text, 'ab\ufffd\ufffd\ufffd\u00e9\ufffd\ufffd');
    assert.deepEqual(d.invalid, [
      { span: { start: 2, end: 5 }, byteOffset: 2, length: 3, bytes: [0xed, 0xa0, 0x80] },
      { span: { start: 6, end: 8 }, byteOffset: 7, length: 2, bytes: [0xff, 0xc3] },
    ]);
    const findings = encodingFindings({ uri: 'file:///x.iommu', invalidUtf8: d.invalid });
    assert.deepEqual(
      findings.map((f) => [f.code, f.severity, f.span.start, f.span.end]),
      [
        ['invalid-utf8', 'error', 2, 5],
        ['invalid-utf8', 'error', 6, 8],
      ],
    );
    assert.match(findings[1]!.message, /^bytes 0xff 0xc3 at byte offset 7 are not UTF-8/);
  });

  test('a long run of bad bytes is one finding with a short message', () => {
    const d = decodeUtf8(new Uint8Array(100_000).fill(0xff));
    assert.equal(d.invalid.length, 1);
    const [f] = encodingFindings({ uri: 'file:///x.iommu', invalidUtf8: d.invalid });
    assert.ok(f!.message.length < 120 && f!.message.includes('(100000 bytes)'), f!.message);
    assert.equal(d.invalid[0]!.bytes.length, 8, 'only the bytes the message shows are kept');
  });

  test('a binary file gets at most 200 invalid-utf8 and a count of the rest', () => {
    // 0xff, 'a': a run of one bad byte every two bytes.
    const d = decodeUtf8(Uint8Array.from({ length: 2000 }, (_, i) => (i % 2 ? 0x61 : 0xff)));
    assert.equal(d.invalid.length, 1000);
    const findings = encodingFindings({ uri: 'file:///x.bin', invalidUtf8: d.invalid });
    assert.equal(findings.length, 201);
    assert.equal(findings[200]!.message, '800 more runs of bytes that are not UTF-8 not shown (is this a text file?)');
    assert.deepEqual(findings[200]!.span, d.invalid[200]!.span);
  });
});

/** A log that keeps what it is sent. */
function recordingLog(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const keep = (kind: string) => (m: string) => {
    lines.push(`${kind}: ${m}`);
  };
  const console = { error: keep('error'), warn: keep('warn'), info: keep('info'), log: keep('log') };
  return { log: new Log(console as never, level), lines };
}

describe('the LSP layer answers bad input and bugs with errors, never by exiting', () => {
  test('a request handler that throws answers InternalError and logs the stack; its own ResponseError passes as it is', async () => {
    const { log, lines } = recordingLog();
    const broken = guardRequest(log, 'textDocument/hover', (): null => {
      throw new TypeError('boom');
    });
    assert.throws(
      () => broken(),
      (e: unknown) =>
        e instanceof ResponseError && e.code === ErrorCodes.InternalError && /textDocument\/hover failed: boom/.test(e.message),
    );
    assert.match(lines.join('\n'), /^error: textDocument\/hover failed: TypeError: boom\n\s+at /);
    const refused = guardRequest(log, 'textDocument/rename', (): null => {
      throw new ResponseError(ErrorCodes.InvalidRequest, 'no');
    });
    assert.throws(
      () => refused(),
      (e: unknown) => e instanceof ResponseError && e.code === ErrorCodes.InvalidRequest,
    );
    assert.equal(lines.length, 1, 'a refusal is not a bug');
    const later = guardRequest(log, 'x', async () => {
      throw new Error('later');
    });
    await assert.rejects(later(), (e: unknown) => e instanceof ResponseError && e.code === ErrorCodes.InternalError);
    assert.equal(guardRequest(log, 'y', (a: number) => a + 1)(1), 2);
  });

  test('a request cancelled before it is served answers RequestCancelled without running', () => {
    const { log } = recordingLog();
    let ran = 0;
    const hover = guardRequest(log, 'textDocument/hover', (_params: unknown, _token: unknown) => ++ran);
    assert.throws(
      () => hover({}, { isCancellationRequested: true }),
      (e: unknown) => e instanceof ResponseError && e.code === LSPErrorCodes.RequestCancelled,
    );
    assert.equal(ran, 0);
    assert.equal(hover({}, { isCancellationRequested: false }), 1);
  });

  test('a notification handler that throws or rejects is logged and returns', async () => {
    const { log, lines } = recordingLog();
    guardNotification(log, 'textDocument/didChange', () => {
      throw new Error('sync');
    })();
    guardNotification(log, 'workspace/didChangeWatchedFiles', async () => {
      throw new Error('async');
    })();
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /didChange failed: Error: sync/);
    assert.match(lines[1]!, /didChangeWatchedFiles failed: Error: async/);
  });

  test('an exception nobody caught and a rejection nobody awaited are logged, and the process goes on', () => {
    const { log, lines } = recordingLog();
    const written: string[] = [];
    const proc = Object.assign(new EventEmitter(), { stderr: { write: (s: string) => written.push(s) } });
    keepAlive(log, proc as never);
    proc.emit('uncaughtException', new Error('in a timer'));
    proc.emit('unhandledRejection', 'a plain value');
    assert.match(lines[0]!, /^error: uncaught exception \(the server goes on\): Error: in a timer/);
    assert.equal(lines[1], 'error: unhandled rejection (the server goes on): a plain value');
    // When the log itself fails (the connection is gone), stderr gets it, once.
    log.error = () => {
      throw new Error('EPIPE');
    };
    proc.emit('uncaughtException', new Error('again'));
    assert.equal(written.length, 1);
    assert.match(written[0]!, /uncaught exception: Error: again/);
  });

  test('positions: past the end of a line or of the document mean the end; anything else that is not two counts is InvalidParams', () => {
    const lines = new LineIndex('ab\r\ncd\nef');
    assert.equal(offsetAt(lines, { line: 0, character: 1 }), 1);
    assert.equal(offsetAt(lines, { line: 0, character: 99 }), 2, 'the end of the line, not into the next');
    assert.equal(offsetAt(lines, { line: 1, character: 2 }), 6);
    assert.equal(offsetAt(lines, { line: 2, character: 1e9 }), 9);
    assert.equal(offsetAt(lines, { line: 2 ** 31, character: 0 }), 9);
    assert.equal(offsetAt(lines, { line: Number.MAX_SAFE_INTEGER, character: Number.MAX_SAFE_INTEGER }), 9);
    for (const bad of [
      undefined,
      null,
      'x',
      {},
      { line: -1, character: 0 },
      { line: 0, character: -1 },
      { line: 0.5, character: 0 },
      { line: NaN, character: 0 },
      { line: '1', character: 0 },
      { line: 0, character: Infinity },
      [0, 0],
    ]) {
      assert.throws(
        () => offsetAt(lines, bad),
        (e: unknown) => e instanceof ResponseError && e.code === ErrorCodes.InvalidParams,
        JSON.stringify(bad),
      );
    }
    assert.deepEqual(spanOf(lines, { start: { line: 1, character: 1 }, end: { line: 0, character: 0 } }), { start: 0, end: 5 });
    assert.throws(
      () => spanOf(lines, { start: { line: 0, character: 0 } }),
      (e: unknown) => e instanceof ResponseError && e.code === ErrorCodes.InvalidParams,
    );
  });
});

describe('the scheduler after an analysis that throws', () => {
  /** A host whose analysis throws while `failing` is set; a connection that keeps the statuses. */
  function rig() {
    const state = { failing: true, runs: 0 };
    const analysis = {
      findings: new Map([['file:///a.iommu', []]]),
      sim: { engines: new Set(ENGINE_IDS) },
      stats: {},
    } as unknown as Analysis;
    const host = {
      uris: () => ['file:///a.iommu'],
      prepare: () => false,
      analyze: () => {
        state.runs++;
        if (state.failing) throw new RangeError('a check ran away');
        return analysis;
      },
    } as unknown as AnalysisHost;
    const statuses: StatusParams[] = [];
    const connection = {
      sendNotification: (_: string, p: StatusParams) => {
        statuses.push(p);
        return Promise.resolve();
      },
      window: { createWorkDoneProgress: () => Promise.reject(new Error('no progress support')) },
    };
    const { log, lines } = recordingLog();
    const published: Analysis[] = [];
    const publisher = { analysis: (a: Analysis) => published.push(a), files: () => undefined };
    const firstOver = { count: 0 };
    const scheduler = new Scheduler(
      host,
      connection as never,
      log,
      () => ({ ...DEFAULT_SETTINGS, debounceMs: 0 }),
      publisher,
      () => new Set(),
      () => firstOver.count++,
    );
    return { state, scheduler, statuses, lines, published, firstOver };
  }
  const idle = () => new Promise((r) => setTimeout(r, 20));

  test('a failed background run is logged with its stack and reported in the status; the next edit recovers', async () => {
    const { state, scheduler, statuses, lines, published } = rig();
    scheduler.schedule(0);
    await idle();
    assert.equal(statuses.at(-1)?.state, 'failed');
    assert.equal(statuses.at(-1)?.message, 'a check ran away');
    assert.match(lines.find((l) => l.startsWith('error:')) ?? '', /analysis failed: RangeError: a check ran away\n\s+at /);
    assert.equal(scheduler.current(), undefined, 'no analysis to answer from yet');
    const runs = state.runs;
    scheduler.current();
    assert.equal(state.runs, runs, 'requests do not retry a failure one by one');

    state.failing = false;
    scheduler.changed(false);
    scheduler.schedule(0);
    await idle();
    assert.equal(statuses.at(-1)?.state, 'ready');
    assert.equal(published.length, 1);
    assert.ok(scheduler.current());
  });

  test('the end of the first run is told once, whether it failed or not (bin.ts then lets the heap grow less)', async () => {
    const { state, scheduler, firstOver } = rig();
    scheduler.schedule(0);
    await idle();
    assert.equal(firstOver.count, 1, 'after the failed first run');
    state.failing = false;
    scheduler.changed(false);
    scheduler.schedule(0);
    await idle();
    assert.equal(firstOver.count, 1, 'not again after the first adopted one');
  });

  test('a request that meets a failing analysis gets the last good one', async () => {
    const { state, scheduler } = rig();
    state.failing = false;
    const good = scheduler.current();
    assert.ok(good);
    state.failing = true;
    scheduler.changed(false);
    assert.equal(scheduler.current(), good);
    assert.equal(scheduler.settled(), undefined, 'but it is not the analysis of the current text');
  });
});

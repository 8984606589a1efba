// Benchmark: time from a one-character edit (textDocument/didChange) to the diagnostics the
// real language server publishes for it, on the generated large workspaces
// (bench/workspace.mjs), with the server spawned over stdio as an editor runs it.
//
// The server analyses the whole workspace after each edit, then publishes only the files
// whose diagnostics CHANGED (server.ts keeps the last list per uri). An edit that changes
// nothing would publish nothing, and there would be no message to time. So each edit
// toggles one digit of a guest's RAM line, `ram low 0x0 size 2G` <-> `size 4G`: at 4G the
// RAM (0x0..0xffffffff) covers the x86 interrupt window 0xfee00000..0xfeefffff of the
// assigned device's group, so every edit adds or removes a ram-over-doorbell error (and the
// pool warnings that go with it) in the edited file, and the server must publish that file.
// The file stays valid at every step. We check the diagnostic count alternates, so a
// publish left over from an earlier edit cannot be taken for the answer.
// "edit -> diagnostics" stops at that publish. "edit -> idle" also waits for the answer to
// a foldingRange request sent after it: the server answers requests in order and from the
// analysis it already has, so the answer means it has finished publishing every file.
// Debounce is set to 0 (initializationOptions) so it does not pollute the figure; an editor
// with the default (120 ms) adds that delay on top. The server gets the Node flags the VS
// Code client starts it with (`server.cjs --node-flags`; none for a tree from before them).
//
// Run on demand (after `npm run build`):
//   node bench/typing.mjs [--sizes 10k,50k,200k] [--edits 40] [--warmup 5] [--root DIR]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  FoldingRangeRequest,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { flag, REPO } from './throughput.mjs';
import { generateWorkspace, parseSize, writeWorkspace } from './workspace.mjs';

/** Generous: the first full analysis of 200k lines takes a while, and that is what we measure. */
const TIMEOUT_MS = 15 * 60_000;

/**
 * CPU time of the server's main thread so far, in ms (/proc/PID/schedstat, nanoseconds). The
 * analysis runs there; unlike wall time it does not grow while other processes hold the CPU.
 */
function cpuOf(pid) {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

function memOf(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/** Nearest-rank percentile. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

/**
 * `settings`: more initializationOptions (bench/oneFile.mjs raises maxFileSize). `toggle`:
 * the two texts the edit swaps at the digit of `size 2G` (default '2' and '4', one
 * character; ['2G', '4096M'] changes the length, so everything after the edit moves).
 */
/** The Node flags the VS Code client starts `root`'s server with: what `--node-flags` prints, if it knows the option. */
export function serverNodeFlags(root) {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'server.cjs'), '--node-flags'], { encoding: 'utf8' });
  const out = r.status === 0 ? r.stdout.trim() : '';
  return /^(--[\w-]+(=\S+)?\s*)+$/.test(out) ? out.split(/\s+/) : [];
}

export async function measureTyping({ root, dir, ws, edits, warmup, settings = {}, toggle }) {
  const server = join(root, 'dist', 'server.cjs');
  const proc = spawn(process.execPath, [...serverNodeFlags(root), server, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const all = new Set([...ws.files.keys()].map((p) => pathToFileURL(join(dir, p)).href));
  const editUri = pathToFileURL(join(dir, ws.edit.path)).href;
  const seen = new Set();
  let published = 0;
  /** The one pending wait: resolved with the time of the first publish `check` accepts. */
  let waiter;
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    const at = performance.now();
    seen.add(p.uri);
    published++;
    if (waiter?.check(p)) {
      const w = waiter;
      waiter = undefined;
      w.resolve({ at, params: p });
    }
  });
  conn.onRequest(() => null); // window/workDoneProgress/create (long runs): accepted, as an editor does
  conn.listen();
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const until = (check, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; server stderr: ${stderr.slice(-2000)}`)), TIMEOUT_MS);
      waiter = {
        check,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      };
      void exited.then(() => reject(new Error(`server exited while waiting for ${what}: ${stderr.slice(-2000)}`)));
    });

  const t0 = performance.now();
  const rootUri = pathToFileURL(dir).href;
  const firstAll = until(() => [...all].every((u) => seen.has(u)), 'the first diagnostics of every file');
  await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: 'bench' }],
    // As VS Code declares them: with workDoneProgress the server asks to show progress for long runs.
    capabilities: { textDocument: { publishDiagnostics: { relatedInformation: true } }, window: { workDoneProgress: true } },
    initializationOptions: { debounceMs: 0, ...settings },
  });
  await conn.sendNotification(InitializedNotification.type, {});
  const first = await firstAll;
  const firstMs = first.at - t0;
  const afterFirst = memOf(proc.pid);

  // The edited character: the digit of `size 2G` on the target line.
  const textA = readFileSync(join(dir, ws.edit.path), 'utf8');
  const line = textA.split('\n')[ws.edit.line];
  const character = line.indexOf(ws.edit.from) + ws.edit.from.length - 2;
  const digit = toggle ?? [ws.edit.from.at(-2), ws.edit.to.at(-2)]; // '2' (as on disk), '4'
  const lines = textA.split('\n');
  lines[ws.edit.line] = line.slice(0, character) + digit[1] + line.slice(character + digit[0].length);
  const textB = lines.join('\n');

  // Opening the file with the other digit already typed is the first toggle: it publishes.
  let version = 1;
  const openDone = until((p) => p.uri === editUri, 'diagnostics after didOpen');
  await conn.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri: editUri, languageId: 'iommu', version, text: textB },
  });
  const opened = await openDone;
  const counts = { [digit[1]]: opened.params.diagnostics.length };

  const samples = [];
  for (let i = 0; i < warmup + edits; i++) {
    const ch = digit[i % 2 === 0 ? 0 : 1];
    const was = digit[i % 2 === 0 ? 1 : 0];
    version++;
    const before = published;
    const expect = counts[ch];
    const done = until(
      (p) => p.uri === editUri && (expect === undefined || p.diagnostics.length === expect),
      `diagnostics after edit ${i}`,
    );
    const cpu0 = cpuOf(proc.pid);
    const sent = performance.now();
    await conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: editUri, version },
      contentChanges: [
        { range: { start: { line: ws.edit.line, character }, end: { line: ws.edit.line, character: character + was.length } }, text: ch },
      ],
    });
    const got = await done;
    await conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri: editUri } });
    const idle = performance.now();
    const cpu = cpuOf(proc.pid) - cpu0;
    if (counts[ch] === undefined) {
      counts[ch] = got.params.diagnostics.length;
      if (counts[digit[0]] === counts[digit[1]])
        throw new Error(`the edit does not change the diagnostic count (${counts[ch]}): nothing to time`);
    }
    if (i >= warmup) samples.push({ diag: got.at - sent, idle: idle - sent, cpu, publishes: published - before });
  }
  const mem = memOf(proc.pid);
  await conn.sendRequest(ShutdownRequest.type);
  await conn.sendNotification(ExitNotification.type);
  await exited;
  conn.dispose();
  const diag = samples.map((s) => s.diag),
    idle = samples.map((s) => s.idle);
  return {
    firstMs,
    rssAfterFirstMiB: afterFirst.rssMiB,
    peakAfterFirstMiB: afterFirst.peakMiB,
    peakMiB: mem.peakMiB,
    counts,
    edits: samples.length,
    warmup,
    diag: { p50: percentile(diag, 50), p95: percentile(diag, 95), max: Math.max(...diag), min: Math.min(...diag) },
    idle: { p50: percentile(idle, 50), p95: percentile(idle, 95) },
    cpu: {
      p50: percentile(
        samples.map((s) => s.cpu),
        50,
      ),
      p95: percentile(
        samples.map((s) => s.cpu),
        95,
      ),
    },
    publishesPerEdit: percentile(
      samples.map((s) => s.publishes),
      50,
    ),
  };
}

const f0 = (x) => x.toFixed(0);

export function typingTable(rows) {
  const out = [];
  out.push(
    '| lines | files | edited file | first diagnostics ms | edit -> diagnostics p50 / p95 / max ms | edit -> idle p50 / p95 ms | server main-thread CPU per edit p50 / p95 ms | server RSS / peak after start, peak at end MiB | diagnostics in file (2G / 4G) |',
  );
  out.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const { lines, files, editFile, t } of rows) {
    out.push(
      `| ${lines} | ${files} | ${editFile} | ${f0(t.firstMs)} | ${f0(t.diag.p50)} / ${f0(t.diag.p95)} / ${f0(t.diag.max)} | ${f0(t.idle.p50)} / ${f0(t.idle.p95)} | ${f0(t.cpu.p50)} / ${f0(t.cpu.p95)} | ${f0(t.rssAfterFirstMiB)} / ${f0(t.peakAfterFirstMiB)}, ${f0(t.peakMiB)} | ${t.counts['2']} / ${t.counts['4']} |`,
    );
  }
  return out.join('\n');
}

/** "guests/rack004/x.iommu (87 lines, 1.8 KB)" for the table. */
export function describeEdit(ws) {
  const text = ws.files.get(ws.edit.path);
  return `${ws.edit.path.split('/').pop()} (${text.split('\n').length - 1} lines, ${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB)`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = flag('sizes', '10k,50k,200k').split(',').map(parseSize);
  const edits = Number(flag('edits', '40'));
  const warmup = Number(flag('warmup', '5'));
  const root = flag('root', REPO);
  const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-typing-'));
  const rows = [];
  for (const lines of sizes) {
    const ws = generateWorkspace(lines);
    const dir = join(tmp, `ws-${lines}`);
    writeWorkspace(dir, ws);
    rows.push({
      lines: ws.stats.lines,
      files: ws.stats.files,
      editFile: describeEdit(ws),
      t: await measureTyping({ root, dir, ws, edits, warmup }),
    });
    rmSync(dir, { recursive: true, force: true });
    console.error(`done: ${ws.stats.lines} lines`);
  }
  rmSync(tmp, { recursive: true, force: true });
  console.log(typingTable(rows));
}

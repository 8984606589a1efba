// Benchmark: the language server started in a large folder, as when a user opens one file
// in a home directory. The folder holds N small descriptions, N other files the walk must
// list and pass over, a dependency and a hidden directory it must not enter, one slow
// component (about 1.9 MB of reserved regions) and the document the user opens: a guest
// with a syntax error and RAM over its host's reserved region (`ram-over-reserved` needs
// the host's file, so it comes from the analysis, not the parse).
//
// Measured from `initialize`, for the working tree and, with --ref, a commit (the "before"),
// in one run: the open document's first diagnostics (its syntax), its component's findings,
// the end of the scan (the first status that is not "reading"), the end of the first
// analysis (status `ready`), how many files got diagnostics, peak RSS (VmHWM) and the heap
// after a full collection.
//
//   npm run build && node bench/startup.mjs [--files 5000,20000,50000] [--ref GIT-REF]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serverNodeFlags } from './typing.mjs';
import {
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { flag, REPO } from './throughput.mjs';
import { treeAt } from './tree.mjs';

const TIMEOUT_MS = 10 * 60_000;
const HOST =
  'platform h1 {\n  arch x86_64\n  iommu vtd0 vt-d { address-width 48 }\n  reserved pci-win reserved 0x80000000..0x8fffffff\n' +
  '  device nic { bdf 0000:01:00.0; iommu vtd0; group 1 }\n}\n';
const OPEN = 'guest vm on h1 {\n  ram low 0x0 size 3G\n  assign nic\n}\n}\n';

/** The folder: `files` descriptions in directories of 1,000, as many other files, and what a home directory has besides. */
function writeFolder(dir, files) {
  const put = (rel, text) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  for (let i = 0; i < files; i++) {
    const d = `projects/p${Math.floor(i / 1000)}`;
    const device = '  device d { bdf 0000:01:00.0; iommu i; group 1 }';
    put(`${d}/host${i}.iommu`, `platform host${i} {\n  arch x86_64\n  iommu i vt-d { address-width 48 }\n${device}\n}\n`);
    put(`${d}/notes${i}.txt`, 'not a description\n');
  }
  for (let i = 0; i < 1000; i++) put(`node_modules/pkg${i}/index.iommu`, 'platform skipped { }\n');
  for (let i = 0; i < 1000; i++) put(`.cache/c${i}.iommu`, 'platform skipped { }\n');
  const lines = ['platform big {', '  iommu smmu smmuv3 { address-width 48 }', '  device dev { bdf 0000:01:00.0; iommu smmu; group 1 }'];
  for (let i = 0; i < 45_000; i++) lines.push(`  reserved r${i} reserved 0x${(0x100000000 + i * 0x2000).toString(16)} size 4K`);
  put('big.iommu', `${lines.join('\n')}\n}\n`);
  put('h1.iommu', HOST);
  put('zz-open.iommu', OPEN);
  return files + 3;
}

function memOf(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(s)?.[1] ?? NaN) / 1024;
}

async function measure(root, dir, expected) {
  // With the Node flags the VS Code client starts the server with (bench/typing.mjs).
  const flags = [...serverNodeFlags(root), '--expose-gc'];
  const proc = spawn(process.execPath, [...flags, join(root, 'dist', 'server.cjs'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const open = pathToFileURL(join(dir, 'zz-open.iommu')).href;
  const t = {};
  const seen = new Set();
  const t0 = performance.now();
  const at = () => Math.round(performance.now() - t0);
  let done;
  let timer;
  const ready = new Promise((resolve, reject) => {
    done = resolve;
    timer = setTimeout(() => reject(new Error(`timed out; server stderr: ${stderr}`)), TIMEOUT_MS);
    proc.once('exit', () => reject(new Error(`the server exited: ${stderr}`)));
  }).finally(() => clearTimeout(timer));
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    seen.add(p.uri);
    if (p.uri !== open) return;
    t.syntax ??= at();
    if (p.diagnostics.some((d) => d.code === 'ram-over-reserved')) t.component ??= at();
  });
  conn.onNotification('iommuLens/status', (s) => {
    if (s.state === 'analysing' && !/^reading/.test(s.message ?? '')) t.scan ??= at();
    if (s.state !== 'analysing') {
      t.ready ??= at();
      done();
    }
  });
  conn.onRequest(() => null); // window/workDoneProgress/create: accepted, as an editor does
  conn.listen();
  const rootUri = pathToFileURL(dir).href;
  await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: 'bench' }],
    capabilities: { window: { workDoneProgress: true } },
  });
  await conn.sendNotification(InitializedNotification.type, {});
  // The user's file opens right away, while the folder is read (VS Code activates on it).
  await conn.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri: open, languageId: 'iommu', version: 1, text: OPEN },
  });
  await ready;
  // Everything published by the end of the first analysis (the old server read at most 20,000 files).
  const peak = memOf(proc.pid);
  const heap = (await conn.sendRequest('iommuLens/memory')).heapUsed / 2 ** 20;
  await conn.sendRequest(ShutdownRequest.type);
  await conn.sendNotification(ExitNotification.type);
  conn.dispose();
  return { ...t, published: seen.size, expected, peak, heap };
}

const sizes = flag('files', '5000,20000,50000').split(',').map(Number);
const ref = flag('ref', undefined);
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-startup-'));
try {
  const roots = [...(ref ? [[`before (${ref})`, treeAt(ref, tmp)]] : []), ['working tree', REPO]];
  const rows = [];
  for (const files of sizes) {
    const dir = mkdtempSync(join(base, 'iommu-lens-startup-ws-'));
    try {
      const expected = writeFolder(dir, files);
      for (const [name, root] of roots) {
        console.error(`${files} descriptions: ${name} ...`);
        rows.push({ files, name, ...(await measure(root, dir, expected)) });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const head = [
    'descriptions (+ as many other files)',
    'server',
    'open document: syntax',
    'its component',
    'scan done',
    'first analysis done',
    'files with diagnostics',
    'peak RSS MiB',
    'heap after GC MiB',
  ];
  console.log(`| ${head.join(' | ')} |`);
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  const ms = (v) => (v === undefined ? '-' : `${(v / 1000).toFixed(1)} s`);
  for (const r of rows) {
    const cells = [
      r.files,
      r.name,
      ms(r.syntax),
      ms(r.component),
      ms(r.scan),
      ms(r.ready),
      `${r.published} of ${r.expected}`,
      r.peak.toFixed(0),
      r.heap.toFixed(0),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// Runs the mocha suite in test/vscode/suite/ inside a real VS Code extension host, with the
// extension loaded from this checkout as a development extension and a fresh copy of examples/
// as the workspace. Usage: node test/vscode/run.mjs [--code-server]
//
// Where the VS Code comes from, first match wins:
//   1. VSCODE_EXECUTABLE_PATH: a local VS Code (Electron) binary, run by @vscode/test-electron.
//   2. update.code.visualstudio.com reachable: test-electron downloads VS Code (VSCODE_VERSION,
//      default stable) into .cache/vscode-test/.
//   3. otherwise (or with --code-server): the VS Code server inside code-server (installed by
//      test/e2e/setup.mjs under .cache/e2e/) with its web workbench in headless Chromium. The
//      extension host is the same Node host as the desktop's, minus Electron.
//   If none of these can be had, the run is skipped with one line saying why, and exits 0
//   (under CI=true it fails instead).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, CI, cleanEnv, copyExamples, freePort } from '../e2e/harness.mjs';
import { setup } from '../e2e/setup.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SUITE = join(ROOT, 'test', 'vscode', 'suite');
const CACHE = join(ROOT, '.cache', 'vscode-suite');
const OUT = join(CACHE, 'out');
// User data, logs and the result file of the last run; wiped when the next one starts.
const RUN = join(CACHE, 'run');
const RESULT = join(RUN, 'result.json');
const UPDATE_HOST = 'update.code.visualstudio.com';
const SKIP_HINT = `set VSCODE_EXECUTABLE_PATH=/path/to/code, or run with network access to ${UPDATE_HOST}`;
// Bounds the code-server run (server start, workbench load, activation, the suite).
const WATCHDOG_MS = 10 * 60_000;

const started = Date.now();
const log = (msg) => console.log(`[test:vscode ${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);

/** No VS Code can be had: main() prints one line saying why, and exits 0. */
class Skip extends Error {}
const skip = (reason) => {
  throw new Skip(reason);
};

/** dist/client.cjs and dist/server.cjs are what the extension host loads: build them from this checkout. */
function buildExtension() {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`scripts/build.mjs failed (${r.status ?? r.signal})`);
}

/**
 * Each suite file becomes one CommonJS file in .cache/vscode-suite/out/ (VS Code require()s the
 * test entry). Mocha is bundled into index.js, so the suite does not depend on the host's Node
 * being able to require() mocha's ES modules; only `vscode` comes from the host.
 */
async function bundleSuite() {
  const { build } = await import('esbuild');
  rmSync(OUT, { recursive: true, force: true });
  const entryPoints = readdirSync(SUITE)
    .filter((n) => n === 'index.ts' || n.endsWith('.e2e.ts'))
    .map((n) => join(SUITE, n));
  await build({
    entryPoints,
    outdir: OUT,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'warning',
    // Mocha's parallel mode resolves worker files at run time; the suite runs serially and never loads them.
    logOverride: { 'require-resolve-not-external': 'silent' },
  });
  // The repository's package.json says "type": "module"; these files are CommonJS.
  writeFileSync(join(OUT, 'package.json'), '{ "type": "commonjs" }\n');
  return join(OUT, 'index.js');
}

/** Any HTTP answer from the update service within 3 s counts; DNS failures and timeouts do not. */
async function updateServiceReachable() {
  try {
    await fetch(`https://${UPDATE_HOST}/api/releases/stable`, { method: 'HEAD', signal: AbortSignal.timeout(3000) });
    return true;
  } catch (e) {
    log(`${UPDATE_HOST} is not reachable: ${e?.cause?.code ?? e?.cause?.message ?? e?.message ?? e}`);
    return false;
  }
}

/** The suite's own report (index.ts writes it), printed the way mocha's spec reporter would. */
function printResult() {
  if (!existsSync(RESULT)) return undefined;
  const r = JSON.parse(readFileSync(RESULT, 'utf8'));
  console.log(`\nVS Code ${r.vscode}:`);
  for (const o of r.outcomes) {
    console.log(
      `  ${o.state === 'passed' ? '✔' : o.state === 'failed' ? '✖' : '-'} ${o.title}${o.ms !== undefined ? ` (${o.ms} ms)` : ''}`,
    );
    if (o.error) console.log(o.error.replace(/^/gm, '      '));
  }
  if (r.loadError) console.log(`  the suite did not load:\n${r.loadError.replace(/^/gm, '      ')}`);
  const passed = r.outcomes.filter((o) => o.state === 'passed').length;
  console.log(`  ${passed} passing, ${r.failures} failing\n`);
  return r;
}

async function runElectron(workspace, testsPath, download) {
  const { runTests } = await import('@vscode/test-electron');
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    log('no DISPLAY: Electron VS Code needs one on Linux (run under `xvfb-run -a`)');
  }
  try {
    await runTests({
      ...download,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: testsPath,
      extensionTestsEnv: { IOMMU_LENS_SUITE_RESULT: RESULT },
      launchArgs: [
        workspace.folder,
        '--disable-extensions',
        '--user-data-dir',
        join(RUN, 'user'),
        '--extensions-dir',
        join(RUN, 'extensions'),
      ],
    });
    return 0;
  } catch (e) {
    console.error(`VS Code exited with a failure: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}

/**
 * The VS Code server that code-server bundles, started directly: code-server's own command line
 * rejects --enable-smoke-test-driver, and a built workbench reads extensionDevelopmentPath and
 * extensionTestsPath from the URL's `payload` only with that flag (browser environment service).
 * When the suite ends, the extension host exits and the workbench calls window.codeAutomationExit
 * with its exit code; the suite's result file gives the details.
 */
async function runCodeServer(workspace) {
  let prereq;
  try {
    prereq = setup({ log });
  } catch (e) {
    skip(`no VS Code available: code-server could not be set up: ${e instanceof Error ? e.message : e}`);
  }
  const serverMain = resolve(prereq.codeServerEntry, '../../../lib/vscode/out/server-main.js');
  if (!existsSync(serverMain)) skip(`no VS Code available: ${serverMain} is missing from the code-server install`);
  const { chromium } = await import('playwright-core');

  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const env = { ...cleanEnv(), IOMMU_LENS_SUITE_RESULT: RESULT };
  env.PATH = `${dirname(prereq.node)}${delimiter}${env.PATH ?? ''}`;
  const args = [
    serverMain,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--connection-token',
    token,
    '--accept-server-license-terms',
    '--disable-telemetry',
    '--disable-workspace-trust',
    '--enable-smoke-test-driver',
    '--user-data-dir',
    join(RUN, 'user'),
    '--server-data-dir',
    join(RUN, 'server'),
    '--extensions-dir',
    join(RUN, 'extensions'),
  ];
  log(`VS Code server from code-server (${prereq.node}) on 127.0.0.1:${port}`);
  const server = spawn(prereq.node, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverLog = '';
  const keep = (d) => {
    serverLog = (serverLog + d).slice(-20_000);
  };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  const serverExit = new Promise((res) => server.once('exit', (code, signal) => res(`the server exited (${code ?? signal})`)));

  let browser;
  const watchdog = new Promise((res) => setTimeout(() => res('timeout'), WATCHDOG_MS).unref());
  try {
    const listening = (async () => {
      while (!/Extension host agent listening on/.test(serverLog) && server.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    })();
    const up = await Promise.race([listening.then(() => 'up'), serverExit, watchdog]);
    if (up !== 'up') throw new Error(`the VS Code server did not start: ${up}\n${serverLog}`);

    browser = await chromium.launch({
      executablePath: prereq.chromium,
      args: CHROMIUM_ARGS,
    });
    const page = await browser.newPage();
    let onExit;
    const exited = new Promise((res) => {
      onExit = res;
    });
    await page.exposeFunction('codeAutomationExit', (code) => onExit(code));
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(ROOT)],
      ['extensionTestsPath', remote(join(OUT, 'index.js'))],
      ['disableExtensions', 'true'],
      ['skipWelcome', 'true'],
    ];
    const url = `http://127.0.0.1:${port}/?tkn=${token}&folder=${encodeURIComponent(workspace.folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    log('workbench loading in headless Chromium; the suite runs in its extension host');
    await page.goto(url);
    const outcome = await Promise.race([exited, serverExit, watchdog]);
    if (typeof outcome !== 'number') throw new Error(`the suite did not finish: ${outcome}`);
    log(`extension host exited with ${outcome}`);
    // What the workbench showed at the end, for a failure's post-mortem.
    await page.screenshot({ path: join(RUN, 'workbench.png') });
    return outcome;
  } finally {
    await browser?.close();
    server.kill();
    writeFileSync(join(RUN, 'server.log'), serverLog);
  }
}

async function main() {
  const forceCodeServer = process.argv.includes('--code-server');
  buildExtension();
  const testsPath = await bundleSuite();
  rmSync(RUN, { recursive: true, force: true });
  mkdirSync(RUN, { recursive: true });
  const workspace = copyExamples('iommu-lens-vscode-');
  let code;
  try {
    const exe = process.env.VSCODE_EXECUTABLE_PATH;
    if (exe && !forceCodeServer) {
      if (!existsSync(exe)) throw new Error(`VSCODE_EXECUTABLE_PATH=${exe} does not exist`);
      log(`VS Code from VSCODE_EXECUTABLE_PATH=${exe}`);
      code = await runElectron(workspace, testsPath, { vscodeExecutablePath: exe });
    } else if (!forceCodeServer && (await updateServiceReachable())) {
      const version = process.env.VSCODE_VERSION ?? 'stable';
      log(`VS Code ${version} from ${UPDATE_HOST} (cached in .cache/vscode-test)`);
      code = await runElectron(workspace, testsPath, { version, cachePath: join(ROOT, '.cache', 'vscode-test') });
    } else {
      log(
        `${forceCodeServer ? '--code-server' : 'no Electron VS Code here'}: running the suite in the VS Code server bundled with code-server, in headless Chromium`,
      );
      code = await runCodeServer(workspace);
    }
  } catch (e) {
    if (!(e instanceof Skip)) throw e;
    // CI has the code-server fallback installed by .ci/run's machine; not having it there is a failure.
    if (CI) throw new Error(`no VS Code under CI: ${e.message}`);
    console.log(`test:vscode skipped: ${e.message} (${SKIP_HINT})`);
    return 0;
  } finally {
    rmSync(workspace.dir, { recursive: true, force: true });
  }
  const result = printResult();
  if (!result) {
    console.error(`the suite wrote no result (${RESULT}); extension host logs are under ${join(RUN, 'user', 'logs')}`);
    return 1;
  }
  if (code !== 0 || result.failures > 0) {
    console.error(
      `test:vscode failed; logs are under ${join(RUN, 'user', 'logs')} (code-server runs also leave server.log and workbench.png in ${RUN})`,
    );
    return 1;
  }
  log('test:vscode passed');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`test:vscode failed: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
    process.exit(1);
  },
);

// What both real-VS-Code runners (test/e2e/run.mjs and test/vscode/run.mjs) share: the CI flag,
// a free port, an environment without an outer npm run's or VS Code terminal's variables, a
// scratch copy of examples/ (quick fixes edit files) and how headless Chromium is started here.
import { cpSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './setup.mjs';

export const CI = /^(1|true)$/i.test(process.env.CI ?? '');

/** Flags for Debian's Chromium as root on a closed network (shared/design/E2E.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer()
      .once('error', rej)
      .listen(0, '127.0.0.1', () => {
        const { port } = srv.address();
        srv.close(() => res(port));
      });
  });
}

/** process.env minus what an outer `npm run` or a VS Code terminal sets, which would leak into code-server. */
export function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_(config|package|lifecycle)_|VSCODE_)/i.test(k) || k === 'INIT_CWD' || k === 'ELECTRON_RUN_AS_NODE') continue;
    env[k] = v;
  }
  return env;
}

/** A fresh copy of examples/ in a temp folder, named `examples` (the screenshots show it). */
export function copyExamples(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const folder = join(dir, 'examples');
  cpSync(join(ROOT, 'examples'), folder, { recursive: true });
  return { dir, folder };
}

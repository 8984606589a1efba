// Installs what the end-to-end suite needs, once: Node 24 and code-server (a complete VS Code
// server + web workbench) under .cache/e2e/, and checks for Debian's Chromium. A second run only
// reads the stamp file. Usage: node test/e2e/setup.mjs   (run.mjs calls setup() itself)
//
// Facts behind it (shared/design/E2E.md): code-server 4.x needs Node 24, which the npm package
// `node` provides with its headers; the machine's npm config says nodedir=/usr (Node 20 headers),
// so native modules must be pointed at Node 24's instead; `kerberos` builds against libkrb5-dev.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CACHE = join(ROOT, '.cache', 'e2e');
export const NODE_SPEC = 'node@24';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

const NODE_PREFIX = join(CACHE, 'node');
// The `node` package's preinstall puts the real binary and headers in this platform package.
const NODE_HOME = join(NODE_PREFIX, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
export const NODE24 = join(NODE_HOME, 'bin', 'node');
const CS_PREFIX = join(CACHE, 'code-server');
export const CODE_SERVER_ENTRY = join(CS_PREFIX, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const STAMP = join(CACHE, 'stamp.json');

/** Thrown when a prerequisite is missing and cannot be installed here; run.mjs decides skip or fail. */
export class MissingPrerequisite extends Error {}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function dpkgInstalled(pkg) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Installs Debian packages when we are root; otherwise says exactly what is missing. */
function ensureApt(pkgs, why, log) {
  const missing = pkgs.filter((p) => !dpkgInstalled(p));
  if (!missing.length) return;
  const cmd = `apt-get install -y ${missing.join(' ')}`;
  if (!isRoot()) throw new MissingPrerequisite(`${why}: install it with \`sudo ${cmd}\``);
  log(`setup: ${why}: running ${cmd}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const first = spawnSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
  if (first.status !== 0) {
    // A fresh machine may have empty package lists.
    run('apt-get', ['update'], { env });
    run('apt-get', ['install', '-y', ...missing], { env });
  }
}

/**
 * The environment for npm when it runs under Node 24: its node first on PATH, native modules
 * built against its headers, and nothing inherited from an outer `npm run` that would redirect
 * the install (prefix, workspace, the lifecycle's own settings).
 */
function node24Env() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(config|package|lifecycle)_/i.test(k) || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  env.PATH = `${join(NODE_HOME, 'bin')}${delimiter}${process.env.PATH ?? ''}`;
  env.npm_config_nodedir = NODE_HOME;
  env.npm_config_audit = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_update_notifier = 'false';
  return env;
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return undefined;
  }
}

function nodeVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Makes sure Chromium, Node 24 and code-server are present. Returns the paths run.mjs needs.
 * Throws MissingPrerequisite when something must be installed by someone with root.
 */
export function setup({ log = console.log } = {}) {
  const t0 = Date.now();
  if (!existsSync(CHROMIUM)) {
    if (process.env.E2E_CHROMIUM)
      throw new MissingPrerequisite(
        `E2E_CHROMIUM=${CHROMIUM} does not exist (unset it to use Debian's, from \`apt-get install chromium\`)`,
      );
    ensureApt(['chromium'], `Chromium (${CHROMIUM}) is missing`, log);
  }
  const stamp = readStamp();
  if (
    stamp?.codeServer === CODE_SERVER_VERSION &&
    stamp.nodeSpec === NODE_SPEC &&
    existsSync(CODE_SERVER_ENTRY) &&
    nodeVersion(NODE24) === stamp.node
  ) {
    log(`setup: cached in ${CACHE} (node ${stamp.node}, code-server ${stamp.codeServer})`);
    return { node: NODE24, codeServerEntry: CODE_SERVER_ENTRY, chromium: CHROMIUM, nodeBin: dirname(NODE24) };
  }

  // A stale or half-finished install is removed rather than patched.
  log(`setup: installing ${NODE_SPEC} and code-server@${CODE_SERVER_VERSION} into ${CACHE} (takes a few minutes on 2 cores)`);
  rmSync(STAMP, { force: true });
  for (const d of [NODE_PREFIX, CS_PREFIX]) rmSync(d, { recursive: true, force: true });
  mkdirSync(NODE_PREFIX, { recursive: true });
  mkdirSync(CS_PREFIX, { recursive: true });
  // code-server's native modules: kerberos needs the Kerberos headers, node-gyp a compiler.
  ensureApt(['libkrb5-dev', 'build-essential', 'python3'], 'code-server compiles native modules', log);

  const env = node24Env();
  log(`setup: npm install ${NODE_SPEC} (prefix ${NODE_PREFIX})`);
  run('npm', ['install', '--prefix', NODE_PREFIX, '--no-save', NODE_SPEC], { env, cwd: NODE_PREFIX });
  const node = nodeVersion(NODE24);
  if (!node?.startsWith('v24.')) throw new Error(`expected Node 24 at ${NODE24}, got ${node ?? 'nothing'}`);
  log(`setup: ${NODE24} is ${node}; npm install code-server@${CODE_SERVER_VERSION} (prefix ${CS_PREFIX}, nodedir ${NODE_HOME})`);
  run('npm', ['install', '--prefix', CS_PREFIX, '--no-save', `code-server@${CODE_SERVER_VERSION}`], { env, cwd: CS_PREFIX });
  const version = spawnSync(NODE24, [CODE_SERVER_ENTRY, '--version'], {
    encoding: 'utf8',
    env: { ...env, XDG_CONFIG_HOME: join(CACHE, 'xdg-config'), XDG_DATA_HOME: join(CACHE, 'xdg-data') },
  });
  if (version.status !== 0 || !version.stdout.includes(CODE_SERVER_VERSION)) {
    throw new Error(`code-server does not run: ${version.stdout}${version.stderr}`);
  }
  writeFileSync(STAMP, `${JSON.stringify({ nodeSpec: NODE_SPEC, node, codeServer: CODE_SERVER_VERSION }, null, 2)}\n`);
  log(
    `setup: done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${version.stdout.split('\n').find((l) => l.includes(CODE_SERVER_VERSION))}`,
  );
  return { node: NODE24, codeServerEntry: CODE_SERVER_ENTRY, chromium: CHROMIUM, nodeBin: dirname(NODE24) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    setup();
  } catch (e) {
    console.error(`setup failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}

/**
 * Watching the client's process, so the server exits when its editor is gone.
 *
 * vscode-languageserver/node has a watchdog of its own: it calls `process.kill(pid, 0)`
 * every 3 s on the pid of `--clientProcessId` or of `initialize`'s `processId`, and exits
 * on any error. But EPERM means the process exists and belongs to another user (a server
 * started through sudo, or in a container, by an editor running as someone else), so
 * that server exited after 3 s. The connection (connection.ts) is made without that
 * watchdog, with this one, which counts EPERM as alive.
 *
 * The library starts its `--clientProcessId` timer while it loads, from process.argv, so
 * this module takes the argument out of process.argv when it is evaluated: bin.ts imports
 * it before anything that loads vscode-languageserver/node. It imports nothing for that reason.
 */

/** `--clientProcessId N` or `--clientProcessId=N`, removed from `argv`; undefined when absent or not a number. */
export function takeClientProcessId(argv: string[]): number | undefined {
  let pid: number | undefined;
  for (let i = argv.length - 1; i >= 2; i--) {
    const arg = argv[i]!;
    const [name, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, argv[i + 1]];
    if (name !== '--clientProcessId') continue;
    const n = Number(value);
    if (pid === undefined && Number.isSafeInteger(n) && n > 0) pid = n;
    argv.splice(i, arg.includes('=') || value === undefined ? 1 : 2);
  }
  return pid;
}

/** The client's pid from the command line (the VS Code client passes it with --node-ipc). */
export const CLIENT_PROCESS_ID = takeClientProcessId(process.argv);

export type Kill = (pid: number, signal: 0) => unknown;
const realKill: Kill = (pid, signal) => process.kill(pid, signal);

/** Whether process `pid` exists. ESRCH (no such process) is the only "no": EPERM is a process of another user. */
export function clientAlive(pid: number, kill: Kill = realKill): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How often the client is checked: the library's period. */
export const WATCH_INTERVAL_MS = 3000;

/** Calls `gone` once the client `pid` no longer exists, checking every `intervalMs`. Returns a stop function. */
export function watchClient(pid: number, gone: () => void, kill: Kill = realKill, intervalMs = WATCH_INTERVAL_MS): () => void {
  const timer = setInterval(() => {
    if (clientAlive(pid, kill)) return;
    clearInterval(timer);
    gone();
  }, intervalMs);
  return () => clearInterval(timer);
}

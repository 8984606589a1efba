/**
 * Keeping the server up whatever the client sends. A request handler that throws
 * answers with an error response and the log says why; a notification handler that
 * throws is logged and the next message is served as usual. Nothing here exits the
 * process: an editor that loses its server loses every diagnostic.
 */
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import type { Log } from './log';

/** A client's params that do not have the shape LSP gives them: an `InvalidParams` answer, not a bug. */
export function invalidParams(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

export const describe = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e));

const cancelled = (a: unknown): boolean => (a as { isCancellationRequested?: unknown } | null)?.isCancellationRequested === true;

/**
 * `handler` answering with an error response instead of escaping: a `ResponseError` is
 * the handler's own answer (a refused rename, bad params) and passes as it is; anything
 * else is a bug, logged with its stack and answered as `InternalError`. A request the
 * client cancelled before it was served is answered `RequestCancelled` without running
 * it (the editor has moved on; its hover would start an analysis for nothing).
 * While `wait()` returns a promise, the request is served when it settles.
 */
export function guardRequest<A extends unknown[], R>(
  log: Log,
  method: string,
  handler: (...args: A) => R,
  wait?: () => Promise<void> | undefined,
): (...args: A) => R | Promise<Awaited<R>> {
  const fail = (e: unknown): never => {
    if (e instanceof ResponseError) throw e;
    log.error(`${method} failed: ${describe(e)}`);
    throw new ResponseError(ErrorCodes.InternalError, `${method} failed: ${e instanceof Error ? e.message : String(e)}`);
  };
  const serve = (args: A): R => {
    if (args.some(cancelled)) throw new ResponseError(LSPErrorCodes.RequestCancelled, `${method} cancelled`);
    try {
      const r = handler(...args);
      return (r instanceof Promise ? r.catch(fail) : r) as R;
    } catch (e) {
      return fail(e);
    }
  };
  // `wait`: something the answer depends on is still coming (the workspace being read);
  // the request is served once it is, unless the client has cancelled it meanwhile.
  return (...args: A) => {
    const pending = wait?.();
    return pending ? (pending.then(() => serve(args)) as Promise<Awaited<R>>) : serve(args);
  };
}

/** `guardRequest` with the server's log and wait bound in: how the server wraps each handler. */
export type RequestGuard = <A extends unknown[], R>(method: string, handler: (...args: A) => R) => (...args: A) => R | Promise<Awaited<R>>;

/** `handler` for a notification or an event: a failure (thrown or rejected) is logged, never thrown on. */
export function guardNotification<A extends unknown[]>(log: Log, what: string, handler: (...args: A) => unknown): (...args: A) => void {
  const fail = (e: unknown) => log.error(`${what} failed: ${describe(e)}`);
  return (...args: A): void => {
    try {
      const r = handler(...args);
      if (r instanceof Promise) r.catch(fail);
    } catch (e) {
      fail(e);
    }
  };
}

/**
 * The last net: an exception no handler caught (a timer, a stream callback) or a
 * rejection nobody awaited is logged and the server keeps serving. Its state is the
 * analysis host's caches, which the next edit rebuilds, so going on is safer for the
 * user than exiting. Installed once per process.
 */
export function keepAlive(log: Log, proc: NodeJS.Process = process): void {
  // Logging goes through the connection; if that is what fails, it must not throw again
  // from here (a loop), so the message goes to stderr once instead.
  let inside = false;
  const report = (what: string) => (e: unknown) => {
    if (inside) return;
    inside = true;
    try {
      log.error(`${what} (the server goes on): ${describe(e)}`);
    } catch {
      proc.stderr.write(`iommu-lens-server: ${what}: ${describe(e)}\n`);
    } finally {
      inside = false;
    }
  };
  proc.on('uncaughtException', report('uncaught exception'));
  proc.on('unhandledRejection', report('unhandled rejection'));
}

/**
 * At the edge where messages come in, for every transport: a request with `params: null` is
 * answered InvalidParams. The library's handlers read `params.workDoneToken` before ours
 * run, so such a request used to fail as an InternalError.
 */
import { ErrorCodes, ResponseError, type ProtocolConnection } from 'vscode-languageserver';

/**
 * Every request type with params registered on `connection` answers `params: null` with
 * InvalidParams before its handler runs. Requests without params (shutdown) and methods
 * registered by name (which check their own params) are left as they are.
 */
export function refuseNullParams(connection: ProtocolConnection): ProtocolConnection {
  const register = connection.onRequest.bind(connection) as (
    type: unknown,
    handler?: unknown,
  ) => ReturnType<ProtocolConnection['onRequest']>;
  const onRequest = (type: unknown, handler?: unknown) => {
    const t = type as { method?: unknown; numberOfParams?: unknown } | string;
    if (typeof t === 'string' || typeof handler !== 'function' || t.numberOfParams === 0) return register(type, handler);
    const method = String(t.method);
    return register(type, (...args: unknown[]) => {
      if (args[0] === null) throw new ResponseError(ErrorCodes.InvalidParams, `${method}: params must be an object, not null`);
      return (handler as (...a: unknown[]) => unknown)(...args);
    });
  };
  connection.onRequest = onRequest as ProtocolConnection['onRequest'];
  return connection;
}

/**
 * The server's connection to its client. vscode-languageserver/node's `createConnection`
 * picks the transport from the command line and adds a watchdog that exits when the
 * client's process cannot be signalled, EPERM included (clientProcess.ts says why that is
 * wrong). So the transport is picked here from the same arguments, and the library's
 * own `createConnection` (the one that takes a watchdog) gets ours.
 *
 * Also here, at the edge where messages come in: a request with `params: null` is
 * answered InvalidParams (nullParams.ts).
 */
import { format } from 'node:util';
import { createConnection, ProposedFeatures, type WatchDog } from 'vscode-languageserver';
import {
  createProtocolConnection,
  createServerPipeTransport,
  createServerSocketTransport,
  IPCMessageReader,
  IPCMessageWriter,
  StreamMessageReader,
  StreamMessageWriter,
  type Connection,
  type Logger,
  type MessageReader,
  type MessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver/node';
import { watchClient, type Kill } from './clientProcess';
import { refuseNullParams } from './nullParams';

export interface Transport {
  reader: MessageReader;
  writer: MessageWriter;
  stdio: boolean;
}

/** The transport the arguments name, as vscode-languageserver reads them: --node-ipc, --stdio, --socket=PORT, --pipe=NAME. */
export function transportOf(argv: readonly string[]): Transport | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = inline ?? argv[i + 1];
    if (name === '--node-ipc') return { reader: new IPCMessageReader(process), writer: new IPCMessageWriter(process), stdio: false };
    if (name === '--stdio')
      return { reader: new StreamMessageReader(process.stdin), writer: new StreamMessageWriter(process.stdout), stdio: true };
    if (name === '--socket' && value && Number(value) > 0) {
      const [reader, writer] = createServerSocketTransport(Number(value));
      return { reader, writer, stdio: false };
    }
    if (name === '--pipe' && value) {
      const [reader, writer] = createServerPipeTransport(value);
      return { reader, writer, stdio: false };
    }
  }
  return undefined;
}

export interface ConnectionOptions {
  /** The client's pid from `--clientProcessId`, watched from the start. */
  clientProcessId?: number;
  /** How the watchdog probes a pid (tests inject one that answers EPERM). */
  kill?: Kill;
  /** What exiting does (tests replace it). */
  exit?: (code: number) => void;
}

export function createServerConnection(transport: Transport, options: ConnectionOptions = {}): Connection {
  const exitProcess = options.exit ?? ((code: number) => process.exit(code));
  let protocol: ProtocolConnection | undefined;
  let stopWatching: (() => void) | undefined;
  const watchDog: WatchDog = {
    shutdownReceived: false,
    // The library's behaviour, with an EPERM-tolerant probe: the pid from the command line
    // wins; else the one `initialize` names.
    initialize: (params) => {
      const pid = params?.processId;
      if (stopWatching === undefined && typeof pid === 'number') stopWatching = watchClient(pid, clientGone, options.kill);
    },
    exit: (code) => {
      try {
        protocol?.end();
      } catch {
        /* the client may be gone already */
      }
      exitProcess(code);
    },
  };
  const clientGone = () => watchDog.exit(watchDog.shutdownReceived ? 0 : 1);
  if (options.clientProcessId !== undefined) stopWatching = watchClient(options.clientProcessId, clientGone, options.kill);
  if (transport.stdio) {
    // As the library does: the input ending is the client going away.
    process.stdin.on('end', clientGone);
    process.stdin.on('close', clientGone);
  }
  return createConnection(
    (logger) => {
      protocol = refuseNullParams(createProtocolConnection(transport.reader, transport.writer, logger));
      // Over stdio, stdout is the protocol: console output goes to the client's log instead.
      if (transport.stdio) consoleTo(logger);
      return protocol;
    },
    watchDog,
    ProposedFeatures.all,
  );
}

/** console.* to the client's log, as vscode-languageserver does over stdio. */
function consoleTo(logger: Logger): void {
  const to =
    (write: (message: string) => void) =>
    (...args: unknown[]) =>
      write(format(...args));
  console.log = console.info = to((m) => logger.info(m));
  console.debug = console.trace = console.dir = to((m) => logger.log(m));
  console.warn = to((m) => logger.warn(m));
  console.error = to((m) => logger.error(m));
}

/**
 * The connection itself (server/src/lsp/connection.ts, clientProcess.ts; issue 22, item 9):
 * requests with `params: null` answer InvalidParams, as docs/limits.md says of every
 * malformed params; the watchdog that ends the server when its client is gone counts a
 * client it may not signal (EPERM: another user's process) as alive, so a server started
 * as another user than its editor stays up, while a client that is really gone still
 * ends it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ErrorCodes,
  StreamMessageReader,
  StreamMessageWriter,
  type Message,
  type ResponseMessage,
} from 'vscode-languageserver-protocol/node';
import { clientAlive, takeClientProcessId, watchClient } from '../../server/src/lsp/clientProcess';
import { EXAMPLES, otherUser } from '../files';
import { Client, SERVER } from './client';

describe('params: null', () => {
  test('every request with params answers InvalidParams, never InternalError', async () => {
    // Raw messages: a JSON-RPC client library wraps null into [null] before sending it.
    const proc = spawn(process.execPath, [SERVER, '--stdio']);
    const writer = new StreamMessageWriter(proc.stdin);
    const reader = new StreamMessageReader(proc.stdout);
    const answers = new Map<number, ResponseMessage>();
    let waiting: (() => void) | undefined;
    reader.listen((m: Message) => {
      const r = m as ResponseMessage;
      if (typeof r.id === 'number') {
        answers.set(r.id, r);
        waiting?.();
      }
    });
    try {
      const methods = [
        'initialize',
        'textDocument/hover',
        'textDocument/completion',
        'textDocument/definition',
        'textDocument/references',
        'textDocument/documentHighlight',
        'textDocument/documentSymbol',
        'workspace/symbol',
        'textDocument/codeAction',
        'textDocument/formatting',
        'textDocument/rangeFormatting',
        'textDocument/rename',
        'textDocument/prepareRename',
        'textDocument/foldingRange',
        'textDocument/selectionRange',
        'textDocument/semanticTokens/full',
        'textDocument/semanticTokens/range',
        'textDocument/inlayHint',
      ];
      // `initialize` first, with null: refused, and a proper one after it is still served.
      await writer.write({ jsonrpc: '2.0', id: 0, method: 'initialize', params: null } as Message);
      await writer.write({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { processId: null, rootUri: null, capabilities: {} },
      } as Message);
      await writer.write({ jsonrpc: '2.0', method: 'initialized', params: {} } as Message);
      for (const [i, method] of methods.slice(1).entries())
        await writer.write({ jsonrpc: '2.0', id: 10 + i, method, params: null } as Message);
      const deadline = Date.now() + 10_000;
      while (answers.size < methods.length + 1 && Date.now() < deadline)
        await new Promise<void>((r) => {
          waiting = r;
          setTimeout(r, 200);
        });
      assert.equal(answers.get(0)?.error?.code, ErrorCodes.InvalidParams, JSON.stringify(answers.get(0)));
      assert.ok(answers.get(1)?.result, 'the proper initialize is answered');
      for (const [i, method] of methods.slice(1).entries()) {
        const a = answers.get(10 + i);
        assert.equal(a?.error?.code, ErrorCodes.InvalidParams, `${method}: ${JSON.stringify(a)}`);
        assert.match(a!.error!.message, new RegExp(`^${method}: params must be an object, not null$`));
      }
    } finally {
      proc.kill();
    }
  });
});

describe('the client watchdog', () => {
  test('EPERM is a live client; ESRCH is a client gone', () => {
    const fail = (code: string) => () => {
      throw Object.assign(new Error(code), { code });
    };
    assert.equal(clientAlive(42, fail('EPERM')), true);
    assert.equal(clientAlive(42, fail('ESRCH')), false);
    assert.equal(
      clientAlive(42, () => true),
      true,
    );
    assert.equal(clientAlive(process.pid), true);
  });

  test('watchClient: a client it may not signal is never reported gone; one that is gone, once', async () => {
    let gone = 0;
    const stop = watchClient(
      42,
      () => gone++,
      () => {
        throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      },
      5,
    );
    await sleep(50);
    stop();
    assert.equal(gone, 0);
    const stop2 = watchClient(
      42,
      () => gone++,
      () => {
        throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' });
      },
      5,
    );
    await sleep(50);
    stop2();
    assert.equal(gone, 1);
  });

  test('--clientProcessId is taken out of the arguments (the library would start its own watchdog on it)', () => {
    const argv = ['node', 'server.cjs', '--node-ipc', '--clientProcessId=123'];
    assert.equal(takeClientProcessId(argv), 123);
    assert.deepEqual(argv, ['node', 'server.cjs', '--node-ipc']);
    const spaced = ['node', 'server.cjs', '--clientProcessId', '77', '--stdio'];
    assert.equal(takeClientProcessId(spaced), 77);
    assert.deepEqual(spaced, ['node', 'server.cjs', '--stdio']);
    const bad = ['node', 'server.cjs', '--stdio', '--clientProcessId=x'];
    assert.equal(takeClientProcessId(bad), undefined);
    assert.deepEqual(bad, ['node', 'server.cjs', '--stdio']);
  });

  /**
   * A client pid the server may not signal: as root, the server runs as `nobody` and is
   * given this (root) process's pid; otherwise pid 1, which only root may signal.
   */
  const foreign = () => {
    const user = otherUser();
    return { user, pid: user ? process.pid : 1 };
  };

  const clients: Client[] = [];
  after(async () => {
    for (const c of clients) if (!c.exited) await c.stop();
  });

  test('a server started as another user than its client stays up (initialize processId and --clientProcessId)', async () => {
    const { user, pid } = foreign();
    // The watchdog checks every 3 s: both servers are past their first two checks at 7 s.
    const byInitialize = new Client({ user });
    const byArgument = new Client({ user, serverArgs: [`--clientProcessId=${pid}`] });
    clients.push(byInitialize, byArgument);
    await byInitialize.initialize(EXAMPLES, { processId: pid });
    await byArgument.initialize(EXAMPLES, { processId: null });
    await sleep(7000);
    assert.equal(byInitialize.exited, undefined, `initialize's processId: ${byInitialize.stderr}`);
    assert.equal(byArgument.exited, undefined, `--clientProcessId: ${byArgument.stderr}`);
    // And they still answer.
    assert.ok(Array.isArray(await byInitialize.conn.sendRequest('workspace/symbol', { query: 'x' })));
    assert.ok(Array.isArray(await byArgument.conn.sendRequest('workspace/symbol', { query: 'x' })));
  });

  test('a client that is gone ends the server (exit 1: no shutdown came)', async () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    assert.ok(deadPid > 0 && !clientAlive(deadPid), 'the child has exited');
    const client = new Client();
    clients.push(client);
    await client.initialize(EXAMPLES, { processId: deadPid });
    const deadline = Date.now() + 10_000;
    while (!client.exited && Date.now() < deadline) await sleep(100);
    assert.deepEqual(client.exited, { code: 1, signal: null });
  });
});

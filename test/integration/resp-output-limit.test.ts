/**
 * A RESP connection that pipelines reads of a large value and does not read its replies must not
 * make the node hold many times `--resp-max-unread-replies`: the limit counts the replies already
 * written and those of the commands still running, whose size is estimated (docs/SECURITY.md,
 * Limits). A client that reads slowly is still served in full; one that holds more than
 * `--resp-output-buffer-limit` unread is closed, as Redis's client-output-buffer-limit closes it.
 * A real daemon; the node's own counters (INFO, CLIENT LIST) tell what it held.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection } from './resp-raw.ts';

const MIB = 1024 * 1024;
const VALUE_BYTES = 1_000_000;
/** `$1000000\r\n` + the value + `\r\n`. */
const REPLY_BYTES = `$${VALUE_BYTES}\r\n`.length + VALUE_BYTES + 2;
const GET_BIG = '*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n';
const GET_SMALL = '*2\r\n$3\r\nGET\r\n$5\r\nsmall\r\n';
/** What a new connection may start before its replies show their size (FIRST_PIPELINE), plus the 1 MiB limit. */
const BOUND = 16 * REPLY_BYTES + MIB;

/** INFO's `name:value` lines as a map. */
function fields(info: string): Map<string, string> {
  return new Map(info.split('\r\n').flatMap((line) => (line.includes(':') ? [line.split(':', 2) as [string, string]] : [])));
}

/** A connection that sends and does not read until `readAll`. */
async function openNonReader(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.pause();
  return socket;
}

/** Reads from `socket` until `bytes` have arrived (or it closes); resolves with how many did. */
function readAll(socket: Socket, bytes: number): Promise<number> {
  return new Promise((resolve) => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= bytes) resolve(received);
    });
    socket.on('close', () => resolve(received));
    socket.on('error', () => undefined);
    socket.resume();
  });
}

async function startNode(t: { after: (fn: () => unknown) => void }, extra: string[]): Promise<{ node: DaemonProcess; observer: RawConnection; respPort: number }> {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'ro1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra });
  t.after(() => node.stop());
  await node.start();
  const observer = await RawConnection.open(respPort!);
  t.after(() => observer.close());
  assert.equal(await observer.command(['SET', 'big', 'x'.repeat(VALUE_BYTES)]), '+OK\r\n');
  assert.equal(await observer.command(['SET', 'small', 'y']), '+OK\r\n');
  return { node, observer, respPort: respPort! };
}

test('pipelined GETs of a 1 MB value that are not read make the node hold a new connection\'s first pipeline of 16, not --max-pipeline values; read slowly, all are answered', async (t) => {
  const { observer, respPort } = await startNode(t, []);
  const gets = 200;
  const reader = await openNonReader(respPort);
  t.after(() => reader.destroy());
  reader.write(GET_BIG.repeat(gets));

  // Wait until the node has stopped for this client: no GET running (every one started, counted
  // by total_commands_processed, has completed, counted by cmdstat_get) and fewer than all started.
  const started = await until('the node to stop starting GETs for a client that does not read', async () => {
    const info = fields(await observer.command(['INFO', 'all']));
    const calls = (name: string): number => Number(/calls=(\d+)/.exec(info.get(`cmdstat_${name}`) ?? '')?.[1] ?? 0);
    // This INFO has started and not completed; the two SETs and earlier INFOs have completed.
    const getsStarted = Number(info.get('total_commands_processed')) - calls('set') - calls('info') - 1;
    return getsStarted > 0 && getsStarted === calls('get') && getsStarted < gets ? getsStarted : undefined;
  }, 30_000);
  const held = Number(fields(await observer.command(['INFO', 'shoal'])).get('resp_peak_connection_buffer_bytes'));
  t.diagnostic(`held ${held} bytes with ${started} GETs started`);
  assert.ok(held <= BOUND, `held ${held} bytes for one connection (${started} GETs started), more than 16 replies and the 1 MiB limit`);

  // A slow reader is not cut off: it gets every reply, and the node never held more meanwhile.
  assert.equal(await readAll(reader, gets * REPLY_BYTES), gets * REPLY_BYTES);
  const peak = Number(fields(await observer.command(['INFO', 'shoal'])).get('resp_peak_connection_buffer_bytes'));
  assert.ok(peak <= BOUND, `peak ${peak} bytes`);
});

test('a client that leaves more than --resp-output-buffer-limit unread is closed and its replies dropped, as Redis closes one past client-output-buffer-limit; logged once a minute per address', async (t) => {
  const { node, observer, respPort } = await startNode(t, ['--resp-output-buffer-limit', '4mib']);
  // Many small replies first, so that the node expects small ones: the large ones behind them start
  // together and pile up past the limit.
  const attack = GET_SMALL.repeat(1000) + GET_BIG.repeat(40);
  const total = 1000 * '$1\r\ny\r\n'.length + 40 * REPLY_BYTES;
  const closedCount = async (): Promise<number> => Number(fields(await observer.command(['INFO', 'shoal'])).get('resp_output_limit_disconnections'));

  for (const [i, localAddress] of ['127.0.0.1', '127.0.0.1', '127.0.0.2'].entries()) {
    const socket = connect({ host: '127.0.0.1', port: respPort, localAddress });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.pause();
    t.after(() => socket.destroy());
    socket.write(attack);
    await until(`connection ${i + 1} to be closed for its unread replies`, async () => ((await closedCount()) === i + 1 ? true : undefined), 30_000);
    // What it had not taken is gone: reading on, it gets less than all of it, then the close.
    assert.ok((await readAll(socket, total)) < total);
    // Another client is served meanwhile.
    assert.equal(await observer.command(['GET', 'small']), '$1\r\ny\r\n');
  }

  // The line for 127.0.0.2 comes after both for 127.0.0.1: once it is in, 127.0.0.1 logged once.
  const lines = await until('the warning for 127.0.0.2', () => {
    const found = node.logs.filter((line) => String(line.msg).includes('--resp-output-buffer-limit'));
    return found.some((line) => line.remote === '127.0.0.2') ? found : undefined;
  }, 10_000);
  assert.deepEqual(lines.map((line) => line.remote), ['127.0.0.1', '127.0.0.2']);
  assert.ok(Number(lines[0]!.heldBytes) > 4 * MIB);
});

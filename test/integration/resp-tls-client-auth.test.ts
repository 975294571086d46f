/**
 * The RESP port with --resp-tls-client-auth require, met by real clients: redis-cli --tls and
 * ioredis without a certificate, or with one from another CA, read why they are refused (redis-server
 * with tls-auth-clients yes cuts the handshake: redis-cli says "Connection reset by peer", ioredis
 * "write ECONNRESET" or an OpenSSL alert); nothing such a connection sends is run; the node logs
 * each refusal at warn with the address and the reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { Redis } from 'ioredis';
import { freePorts } from '../../src/daemon/ports.ts';
import { createDevCa } from '../../src/security/dev-certs.ts';
import { writeCertFiles } from './cert-files.ts';
import { DaemonProcess, until } from './daemon-harness.ts';

const haveRedisCli = spawnSync('redis-cli', ['--version']).status === 0;
const NO_CERTIFICATE = 'ERR no client certificate: this port requires one';

/**
 * Sends `payload` over TLS and collects everything the node answers until it closes the connection;
 * `halfClose`: the client's side is ended once sent (a refused connection answers what came first).
 */
function answerOf(port: number, own: { ca: string; cert?: Buffer; key?: Buffer }, payload: string, halfClose = true): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...own }, () => (halfClose ? socket.end(payload) : socket.write(payload)));
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.once('close', () => resolve(received));
    socket.once('error', reject);
  });
}

/** What ioredis reports (its error events) when it connects with `tls` and sends GET. */
async function ioredisErrors(port: number, tls: { ca: string; cert?: Buffer; key?: Buffer }): Promise<string[]> {
  const redis = new Redis({ port, tls: { ...tls, servername: 'localhost' }, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const errors: string[] = [];
  redis.on('error', (error: Error) => errors.push(error.message));
  const ended = new Promise((resolve) => redis.once('end', resolve));
  await redis.connect().catch((error: Error) => errors.push(`connect: ${error.message}`));
  await ended;
  return errors;
}

test('RESP port requiring client certificates: clients read why they are refused, nothing is run, the node logs each refusal', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-resp-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createDevCa('cluster CA');
  const other = await createDevCa('another CA');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  const nodeFiles = writeCertFiles(dir, 'node', await ca.issue('node'));
  const client = writeCertFiles(dir, 'client', await ca.issue('app-client'));
  const stranger = writeCertFiles(dir, 'stranger', await other.issue('stranger'));
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({
    name: 'resptls',
    port: port!,
    peerPort: peerPort!,
    respPort: respPort!,
    seeds: [],
    extra: ['--tls-cert', nodeFiles.cert, '--tls-key', nodeFiles.key, '--tls-ca', caFile, '--resp-tls-client-auth', 'require', '--replicas', '1', '--read-quorum', '1', '--write-quorum', '1'],
  });
  t.after(() => node.kill('SIGKILL'));
  await node.start();
  const trusted = { ca: ca.cert, cert: readFileSync(client.cert), key: readFileSync(client.key) };
  const foreign = { ca: ca.cert, cert: readFileSync(stranger.cert), key: readFileSync(stranger.key) };
  let refusals = 0;

  await t.test('redis-cli --tls: PONG with a certificate from the CA; the reason without one or with a foreign one', { skip: haveRedisCli ? false : 'redis-cli not installed' }, () => {
    const cli = (args: string[]) => spawnSync('redis-cli', ['--tls', '--cacert', caFile, '-p', String(respPort), ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(cli(['--cert', client.cert, '--key', client.key, 'PING']).stdout.trim(), 'PONG');
    // Before: "Error: Server closed the connection" on stderr, and nothing at all with a foreign certificate.
    const none = cli(['PING']);
    assert.equal(none.stdout.trim(), NO_CERTIFICATE, none.stderr);
    const refused = cli(['--cert', stranger.cert, '--key', stranger.key, 'PING']);
    assert.match(refused.stdout.trim(), /^ERR client certificate refused \([A-Z_]+\)$/, refused.stderr);
    refusals += 2;
  });

  await t.test('ioredis reports the reason as an error event', async () => {
    // Before: "Connection is closed." alone, no error event.
    assert.ok((await ioredisErrors(respPort!, { ca: ca.cert })).includes(NO_CERTIFICATE));
    assert.ok((await ioredisErrors(respPort!, foreign)).some((e) => /^ERR client certificate refused \([A-Z_]+\)$/.test(e)));
    refusals += 2;
  });

  await t.test('every command of a refused connection is answered with the reason and none is run', async () => {
    const set = '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nstolen\r\n';
    const answer = await answerOf(respPort!, foreign, `${set}*1\r\n$4\r\nPING\r\n`);
    assert.match(answer, /^(-ERR client certificate refused \([A-Z_]+\)\r\n){2}$/);
    refusals++;
    // Eight commands answered at most, then the node closes the connection.
    assert.equal(await answerOf(respPort!, { ca: ca.cert }, set.repeat(20)), `-${NO_CERTIFICATE}\r\n`.repeat(8));
    refusals++;
    assert.equal(await answerOf(respPort!, trusted, '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nQUIT\r\n', false), '$-1\r\n+OK\r\n', 'the SETs were not run');
  });

  await t.test('the node logs the refusals at warn with the address and the reason, once a minute per address and reason', async () => {
    const lines = () => node.logs.filter((l) => l.level === 40 && String(l.msg).startsWith('refused a client certificate on the RESP port from 127.0.0.1: '));
    await until('both refusals logged', () => (lines().some((l) => l.reason === 'no client certificate: this port requires one') && lines().some((l) => /^client certificate refused \([A-Z_]+\)$/.test(String(l.reason))) ? true : undefined), 20_000);
    assert.ok(lines().length <= refusals, `${lines().length} lines for ${refusals} refusals`);
    assert.ok(lines().every((l) => l.remote === '127.0.0.1'));
  });
});

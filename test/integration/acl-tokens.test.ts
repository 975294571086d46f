/**
 * Bearer tokens with a real daemon over TLS: `shoal acl token add` (through `rediss://`) prints a
 * token once and the node keeps its hash; the SDK's `token`, `AUTH user token` and `AUTH token` on
 * the Redis port (redis-cli --tls) and `Authorization: Bearer` on the admin port authenticate as
 * its user, with that user's key patterns and categories; `token remove` revokes it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, stringCodec } from '../../src/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { writeDevCertificates } from '../../src/security/dev-certs.ts';
import { DaemonProcess, runShoal, until } from './daemon-harness.ts';

const haveRedisCli = spawnSync('redis-cli', ['--version']).status === 0;

function get(url: string, ca: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, servername: 'localhost' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    const client = (await promise) as { close?: () => Promise<void> };
    await client.close?.();
  } catch (error) {
    return String((error as Error).message);
  }
  return 'no error';
}

test('bearer tokens: made by shoal acl over rediss://, accepted by the SDK, AUTH and the admin port, revoked by token remove', async (t) => {
  const [port, peerPort, respPort, adminPort] = await freePorts(4);
  const certDir = mkdtempSync(join(tmpdir(), 'shoal-token-test-'));
  t.after(() => rmSync(certDir, { recursive: true, force: true }));
  const certs = await writeDevCertificates(certDir, ['tok1']);
  const ca = readFileSync(certs.ca, 'utf8');
  const node = new DaemonProcess({
    name: 'tok1', port: port!, peerPort: peerPort!, respPort: respPort!, adminPort: adminPort!, seeds: [],
    extra: ['--tls-cert', certs.nodes.tok1!.cert, '--tls-key', certs.nodes.tok1!.key, '--tls-ca', certs.ca],
  });
  t.after(() => node.stop());
  await node.start();
  const redis = `rediss://127.0.0.1:${respPort}`;
  const acl = (args: string[], env: NodeJS.ProcessEnv = {}) => runShoal(['acl', ...args, '--redis', redis, '--tls-ca', certs.ca], env);

  // rediss:// needs TLS: a plain address is refused by the TLS port, a bad address is a usage error.
  assert.equal((await acl(['setuser', 'app', 'on', '~app:*', '+@all', '-@dangerous'])).status, 0);
  assert.equal((await acl(['setuser', 'watcher', 'on', '-@all', '+info'])).status, 0);
  const badAddress = await runShoal(['acl', 'list', '--redis', 'redis://user:pw@127.0.0.1:1']);
  assert.equal(badAddress.status, 2);
  assert.match(badAddress.stderr, /never the address/);

  const made = await acl(['token', 'add', 'app']);
  assert.equal(made.status, 0, made.stderr);
  const token = made.stdout.trim();
  assert.match(token, /^shoal_[A-Za-z0-9_-]{43}$/);
  const id = /id ([0-9a-f]{64})/.exec(made.stderr)?.[1];
  assert.ok(id, made.stderr);
  const watcher = (await acl(['token', 'add', 'watcher'])).stdout.trim();
  // The node keeps the hash only.
  const listed = (await acl(['getuser', 'app'])).stdout;
  assert.ok(listed.includes(id) && !listed.includes(token));
  // Lock the node: every connection must now authenticate.
  assert.equal((await acl(['setuser', 'default', 'resetpass', '>root-pw'])).status, 0);

  // The SDK: { token } names its user; that user's key patterns apply.
  const sdk = await connect({ seeds: [`wss://127.0.0.1:${port}/shoal`], codec: stringCodec, tls: { ca }, token, connectTimeoutMs: 10_000 });
  try {
    await sdk.set('app:1', 'one');
    assert.equal(await sdk.get('app:1'), 'one');
    await assert.rejects(sdk.get('other:1'), /NOPERM/);
  } finally {
    await sdk.close();
  }
  const quick = { seeds: [`wss://127.0.0.1:${port}/shoal`], codec: stringCodec, tls: { ca }, connectTimeoutMs: 3000, reconnect: false as const };
  const refusals = (): number => node.logs.filter((l) => l.msg === 'authentication failed').length;
  // The client sees the refusal before the node's log line has come through its stdout pipe (a
  // CI run read 0 here once): wait for the line, bounded, then count exactly.
  const refusalsReach = (n: number) => until(`${n} 'authentication failed' log lines`, () => (refusals() >= n ? true : undefined), 10_000, 20);
  assert.match(await failure(connect({ ...quick, token: `shoal_${'A'.repeat(43)}` })), /invalid|unauthenticated|closed before any node answered/i);
  await refusalsReach(1);
  assert.equal(refusals(), 1, 'the node refused the wrong token');

  // The Redis port: AUTH app TOKEN as a password, and AUTH TOKEN alone.
  if (haveRedisCli) {
    const cli = (...args: string[]) => spawnSync('redis-cli', ['--tls', '--cacert', certs.ca, '-p', String(respPort), '--no-auth-warning', ...args], { encoding: 'utf8', timeout: 10_000 }).stdout.trim();
    assert.equal(cli('--user', 'app', '--pass', token, 'GET', 'app:1'), 'one');
    assert.equal(cli('-a', token, 'ACL', 'WHOAMI'), 'app');
    assert.match(cli('-a', watcher, 'GET', 'app:1'), /NOPERM/);
    // $SHOAL_TOKEN for shoal acl itself.
    const whoami = await acl(['whoami'], { SHOAL_TOKEN: watcher });
    assert.match(whoami.stderr, /NOPERM/);
  }

  // The admin port: Authorization: Bearer, and the user still needs INFO.
  const base = `https://127.0.0.1:${adminPort}`;
  assert.equal((await get(`${base}/status`, ca, {})).status, 401);
  assert.equal((await get(`${base}/status`, ca, { authorization: `Bearer ${watcher}` })).status, 200);
  const noInfo = await get(`${base}/status`, ca, { authorization: `Bearer ${token}` });
  assert.equal(noInfo.status, 403);
  assert.match(noInfo.body, /needs INFO/);
  assert.equal((await get(`${base}/status`, ca, { authorization: `Bearer shoal_${'B'.repeat(43)}` })).status, 401);

  // Revoked: the token no longer works anywhere; the id (or the token itself) names it.
  const removed = await acl(['token', 'remove', 'app', id], { SHOAL_PASSWORD: 'root-pw' });
  assert.equal(removed.status, 0, removed.stderr);
  assert.match(await failure(connect({ ...quick, token })), /invalid|unauthenticated|closed before any node answered/i);
  await refusalsReach(2);
  const again = await acl(['token', 'remove', 'watcher', watcher], { SHOAL_PASSWORD: 'root-pw' });
  assert.equal(again.status, 0, again.stderr);
  assert.equal((await get(`${base}/status`, ca, { authorization: `Bearer ${watcher}` })).status, 401);
  // A token no longer held, or a user that does not exist: said as such, not as a SETUSER modifier error.
  const gone = await acl(['token', 'remove', 'app', id], { SHOAL_PASSWORD: 'root-pw' });
  assert.equal(gone.status, 1, gone.stderr);
  assert.equal(gone.stderr, `shoal acl: user "app" holds no token with id ${id}; nothing was removed (give the id \`shoal acl token add\` printed, or the token itself)\n`);
  const nobody = await acl(['token', 'remove', 'nobody', id], { SHOAL_PASSWORD: 'root-pw' });
  assert.equal(nobody.status, 1, nobody.stderr);
  assert.equal(nobody.stderr, 'shoal acl: there is no user "nobody" (`shoal acl users` lists them); nothing was removed\n');
});

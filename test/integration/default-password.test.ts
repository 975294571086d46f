/**
 * --default-password-file, the way the deployment files start nodes: real daemons on --host
 * 0.0.0.0 (free high ports, stopped at the end) start with it and require AUTH; a restart with the
 * same file adds no ACL version, nor do nodes that start together with it; the file wins over an
 * ACL SETUSER made since at the next start, also of a node with a fresh data directory; and a bad
 * file stops the start with exit status 2 and what to fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePorts } from '../../src/daemon/ports.ts';
import { dataFile } from '../../src/daemon/data-dir.ts';
import { readSealedFile, UNKEYED } from '../../src/security/sealed-file.ts';
import type { AclSnapshot, AclVersion } from '../../src/security/acl.ts';
import { DaemonProcess, runShoal, tempDir, until } from './daemon-harness.ts';

const PASSWORD = 'correct horse battery';

/** The default user's entry version in a node's users file (null: the built-in user, never set). */
function defaultVersion(dataDir: string): AclVersion | null {
  const plain = readSealedFile(dataFile(dataDir, 'acl'), 'acl', UNKEYED);
  if (plain === null) return null;
  const snapshot = JSON.parse(Buffer.from(plain).toString('utf8')) as AclSnapshot;
  return snapshot.entries.find((e) => e.name === 'default')?.version ?? null;
}

/** PING as `default` with `password` (undefined: no AUTH): 'PONG' or the error's text. */
async function ping(port: number, password?: string): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
  try {
    await client.connect();
    // AUTH as a command, so that a refusal comes back as its reply rather than a closed connection.
    if (password !== undefined) await client.call('AUTH', 'default', password);
    return await client.ping();
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.disconnect();
  }
}

async function setDefaultPassword(port: number, current: string, next: string): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', protocol: 2, username: 'default', password: current, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    assert.equal(await client.call('ACL', 'SETUSER', 'default', 'resetpass', `>${next}`), 'OK');
  } finally {
    client.disconnect();
  }
}

const logged = (node: DaemonProcess, text: string): boolean => node.logs.some((l) => typeof l.msg === 'string' && l.msg.includes(text));

test('--default-password-file on --host 0.0.0.0: AUTH required, no version churn, the file wins at the next start', async (t) => {
  const dir = tempDir('shoal-default-pw-');
  const file = join(dir, 'password');
  // A trailing newline, as `echo PASSWORD > FILE` and `kubectl create secret --from-file` leave it: dropped.
  writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
  const ports = await freePorts(6);
  const dataDirs = [tempDir('shoal-dpw-a-'), tempDir('shoal-dpw-b-')];
  const node = (i: number, seeds: string[]) =>
    new DaemonProcess({
      name: `pw${i + 1}`,
      port: ports[3 * i]!,
      peerPort: ports[3 * i + 1]!,
      respPort: ports[3 * i + 2]!,
      seeds,
      // As the manifests start nodes: every interface, an advertised address, the password file.
      extra: ['--host', '0.0.0.0', '--advertise-host', '127.0.0.1', '--data-dir', dataDirs[i]!, '--default-password-file', file],
    });
  const a = node(0, []);
  const b = node(1, [`127.0.0.1:${ports[1]!}`]);
  t.after(() => Promise.all([a, b].map((n) => n.stop(2000))));
  const respA = a.spec.respPort!;

  await a.start();
  await b.start();
  assert.match(await ping(respA, undefined), /NOAUTH Authentication required/);
  assert.equal(await ping(respA, `${PASSWORD}\n`), 'WRONGPASS invalid username-password pair or user is disabled.', 'the newline is not part of the password');
  assert.equal(await ping(respA, PASSWORD), 'PONG');
  assert.equal(await ping(b.spec.respPort!, PASSWORD), 'PONG');

  // Two nodes that set the same password from the same file: both did so beneath every real
  // version, so they agree on one entry without either having made a change that spreads.
  const agreed = await until('both nodes to hold the same default user', () => {
    const [va, vb] = dataDirs.map(defaultVersion);
    return va !== null && JSON.stringify(va) === JSON.stringify(vb) ? va : undefined;
  }, 60_000, 200);
  assert.equal(agreed.wallMs, 0, `no node bumped the default user's version: ${JSON.stringify(agreed)}`);

  // A restart with the same file changes nothing (a rolling restart reads the same secret everywhere).
  assert.equal(await a.stop(), 0);
  await a.start();
  assert.ok(logged(a, 'already has the password'), JSON.stringify(a.logs.map((l) => l.msg)));
  assert.deepEqual(defaultVersion(dataDirs[0]!), agreed, 'the second start added no version');
  assert.equal(await ping(respA, PASSWORD), 'PONG');

  // An operator changes the password with ACL SETUSER; it reaches b.
  await setDefaultPassword(respA, PASSWORD, 'changed-by-hand');
  const changed = defaultVersion(dataDirs[0]!)!;
  assert.ok(changed.wallMs > 0);
  await until('b to take the changed password', () => (JSON.stringify(defaultVersion(dataDirs[1]!)) === JSON.stringify(changed) ? true : undefined), 60_000, 200);
  assert.equal(await ping(respA, PASSWORD), 'WRONGPASS invalid username-password pair or user is disabled.');

  // b starts again with a fresh data directory (a replaced pod): it first takes the cluster's
  // default user from a, then sets the file's password again, and that reaches a.
  assert.equal(await b.stop(), 0);
  rmSync(dataDirs[1]!, { recursive: true, force: true });
  await b.start();
  await until("the file's password to be back on a", async () => ((await ping(respA, PASSWORD)) === 'PONG' ? true : undefined), 60_000, 200);
  assert.equal(await ping(respA, 'changed-by-hand'), 'WRONGPASS invalid username-password pair or user is disabled.');
  // (pino writes asynchronously: the line may follow the change it reports.)
  await until('b to log why it set the password', () => (logged(b, "the cluster's default user had another password") ? true : undefined), 30_000, 100);

  // Changed by hand again, then a restarts with its own data directory: the file wins at once.
  await setDefaultPassword(respA, PASSWORD, 'changed-again');
  assert.equal(await a.stop(), 0);
  await a.start();
  assert.ok(logged(a, 'replacing the one this node had'), JSON.stringify(a.logs.map((l) => l.msg)));
  assert.equal(await ping(respA, PASSWORD), 'PONG');
  await until("the file's password to reach b", async () => ((await ping(b.spec.respPort!, PASSWORD)) === 'PONG' ? true : undefined), 60_000, 200);
});

test('a bad --default-password-file stops the start with exit status 2 and says what is wrong; the refusal names the option', async () => {
  const dir = tempDir('shoal-default-pw-bad-');
  const write = (name: string, content: string | Buffer) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  const cases: [string, string | undefined, RegExp][] = [
    ['missing', join(dir, 'nope'), /cannot read the default password file .*nope: ENOENT \(given by --default-password-file\)/],
    ['empty', write('empty', ''), /default password file .*empty \(given by --default-password-file\) is empty/],
    ['a newline only', write('newline', '\n'), /is empty/],
    ['too long', write('long', 'x'.repeat(1025)), /holds 1025 bytes; a password may have at most 1024/],
    ['two lines', write('lines', 'one\ntwo\n'), /holds more than one line/],
    ['two trailing newlines', write('two-newlines', 'pw\n\n'), /holds more than one line/],
    ['no password at all', undefined, /refusing to listen on 0\.0\.0\.0.*--default-password-file FILE.*--insecure/],
  ];
  const results = await Promise.all(
    cases.map(([, path]) =>
      runShoal(['start', '--host', '0.0.0.0', '--advertise-host', '127.0.0.1', '--port', '1', '--data-dir', join(dir, 'data'), '--log-format', 'json', ...(path === undefined ? [] : ['--default-password-file', path])]),
    ),
  );
  for (const [i, [what, , expected]] of cases.entries()) {
    assert.equal(results[i]!.status, 2, `${what}: ${results[i]!.stderr}`);
    assert.match(results[i]!.stderr, expected, what);
  }
  // SHOAL_DEFAULT_PASSWORD_FILE is the same option.
  const fromEnv = await runShoal(['start', '--host', '0.0.0.0', '--advertise-host', '127.0.0.1', '--port', '1', '--data-dir', join(dir, 'data')], { SHOAL_DEFAULT_PASSWORD_FILE: join(dir, 'empty') });
  assert.equal(fromEnv.status, 2);
  assert.match(fromEnv.stderr, /is empty/);
});

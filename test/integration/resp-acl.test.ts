/**
 * Users and ACLs over the RESP listener: a server in this process over an in-memory keyspace with
 * an AclStore, talked to with ioredis and redis-cli.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import type { KeyspaceService } from '../../src/replication/api.ts';
import { startRespServer } from '../../src/resp/server.ts';
import { MemoryKv } from '../../src/server/memory-kv.ts';
import { AclStore } from '../../src/security/acl.ts';
import { AUTH_RATE_LIMITED, AuthGuard } from '../../src/security/auth-guard.ts';

function memoryKeyspace(): KeyspaceService {
  const kv = new MemoryKv();
  const no = { code: 'bad-request' as const, message: 'not in this test' };
  return Object.assign(kv, {
    rmw: (_k: unknown, _o: unknown, _p: unknown, done: (e: typeof no) => void) => done(no),
    scanPartition: (_p: unknown, _a: unknown, _o: unknown, done: (e: typeof no) => void) => done(no),
    countPartition: (_p: unknown, done: (e: typeof no) => void) => done(no),
  }) as unknown as KeyspaceService;
}

function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-p', String(port), '--no-auth-warning', ...args], { timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
  });
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
}

/** ioredis clients of one server, made lazily (connect() when the test says), none retrying; `clients` to disconnect them all. */
function ioredisClients(port: number): { clients: Redis[]; client: (options?: Record<string, unknown>) => Redis } {
  const clients: Redis[] = [];
  const client = (options: Record<string, unknown> = {}): Redis => {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false, ...options });
    clients.push(c);
    return c;
  };
  return { clients, client };
}

test('AUTH, HELLO AUTH, NOAUTH, NOPERM and ACL commands as Redis 7.0 answers them', async () => {
  const acl = new AclStore('n1', () => Date.now());
  const guard = new AuthGuard(() => 0, { burst: 6 }); // the clock never moves: no token comes back
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, acl, authGuard: guard });
  const { clients, client } = ioredisClients(server.port);
  try {
    // A newcomer: default is `on nopass ~* &* +@all`, nothing to do.
    const admin = client();
    await admin.connect();
    assert.equal(await admin.set('a:1', 'x'), 'OK');
    assert.equal(await failure(admin.auth('pw')), 'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
    assert.equal(await admin.call('ACL', 'WHOAMI'), 'default');
    assert.deepEqual(await admin.call('ACL', 'LIST'), ['user default on nopass ~* &* +@all']);
    // Users.
    assert.equal(await admin.call('ACL', 'SETUSER', 'alice', 'on', '>alicepw', '~a:*', '+@read', '+@connection'), 'OK');
    assert.equal(await admin.call('ACL', 'SETUSER', 'writer', 'on', '>w', '%W~*', '+@all'), 'OK');
    assert.equal(await failure(admin.call('ACL', 'SETUSER', 'bob', 'bogus')), "ERR Error in ACL SETUSER modifier 'bogus': Syntax error");
    assert.equal(await failure(admin.call('ACL', 'SETUSER', 'bob', '+nosuchcommand')), "ERR Error in ACL SETUSER modifier '+nosuchcommand': Unknown command or category name in ACL");
    assert.deepEqual(await admin.call('ACL', 'USERS'), ['alice', 'default', 'writer']);
    const got = (await admin.call('ACL', 'GETUSER', 'alice')) as unknown[];
    assert.deepEqual([got[0], got[1], got[4], got[5], got[6], got[7], got[8], got[9]], ['flags', ['on'], 'commands', '-@all +@read +@connection', 'keys', '~a:*', 'channels', '']);
    assert.match((got[3] as string[])[0]!, /^scrypt\$/);
    assert.equal(await admin.call('ACL', 'GETUSER', 'nobody'), null);
    assert.equal(await failure(admin.call('ACL', 'DELUSER', 'default')), "ERR The 'default' user cannot be removed");
    assert.ok(((await admin.call('ACL', 'CAT')) as string[]).includes('dangerous'));
    assert.ok(((await admin.call('ACL', 'CAT', 'dangerous')) as string[]).includes('flushall'));
    assert.equal(await failure(admin.call('ACL', 'CAT', 'nope')), "ERR Unknown category 'nope'");
    // Protect the default user: new connections must authenticate.
    assert.equal(await admin.call('ACL', 'SETUSER', 'default', 'resetpass', '>adminpw'), 'OK');
    // ioredis speaks RESP3 (HELLO 3): unauthenticated, HELLO fails as it does on Redis 7.0.
    assert.match(await failure(client().connect()), /Connection is closed|NOAUTH HELLO must be called/);
    const anonymous = client({ protocol: 2 });
    await anonymous.connect();
    assert.equal(await failure(anonymous.get('a:1')), 'NOAUTH Authentication required.');
    const wrong = client({ protocol: 2 });
    await wrong.connect();
    assert.equal(await failure(wrong.call('AUTH', 'alice', 'nope')), 'WRONGPASS invalid username-password pair or user is disabled.');
    assert.equal(await failure(wrong.call('HELLO', '3', 'AUTH', 'alice', 'nope')), 'WRONGPASS invalid username-password pair or user is disabled.');
    assert.equal(await failure(wrong.call('AUTH', 'nobody', 'nope')), 'WRONGPASS invalid username-password pair or user is disabled.');
    const alice = client({ username: 'alice', password: 'alicepw' });
    await alice.connect();
    assert.equal(await alice.get('a:1'), 'x');
    assert.equal(await failure(alice.get('b:1')), 'NOPERM this user has no permissions to access one of the keys used as arguments');
    assert.equal(await failure(alice.set('a:1', 'y')), "NOPERM this user has no permissions to run the 'set' command");
    assert.equal(await failure(alice.call('ACL', 'LIST')), "NOPERM this user has no permissions to run the 'acl|list' command");
    const writer = client({ username: 'writer', password: 'w' });
    await writer.connect();
    assert.equal(await writer.set('b:1', 'v'), 'OK');
    assert.equal(await failure(writer.get('b:1')), 'NOPERM this user has no permissions to access one of the keys used as arguments');
    // HELLO 3 AUTH (ioredis sends it), the admin through the default user's password.
    const hello3 = client({ username: 'default', password: 'adminpw' });
    await hello3.connect();
    assert.equal(await hello3.call('ACL', 'WHOAMI'), 'default');
    // redis-cli as a user meets them.
    assert.equal(await cli(server.port, '--user', 'alice', '--pass', 'alicepw', 'get', 'a:1'), 'x');
    assert.equal(await cli(server.port, '--user', 'alice', '--pass', 'alicepw', 'get', 'zz'), 'NOPERM this user has no permissions to access one of the keys used as arguments');
    assert.equal(await cli(server.port, 'get', 'a:1'), 'NOAUTH Authentication required.');
    assert.equal(await cli(server.port, '-a', 'adminpw', 'get', 'a:1'), 'x');
    // Failures are counted; after the burst an address is refused without checking.
    const before = guard.failures;
    const prober = client({ protocol: 2 });
    await prober.connect();
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push(await failure(prober.call('AUTH', 'alice', `guess${i}`)));
    assert.ok(guard.failures > before);
    assert.equal(answers[answers.length - 1], AUTH_RATE_LIMITED);
    assert.equal(await failure(prober.call('AUTH', 'alice', 'alicepw')), AUTH_RATE_LIMITED);
  } finally {
    for (const c of clients) c.disconnect();
    await server.close();
  }
});

test('pipelined: ACL SETUSER with a password, then AUTH as that user, answer in request order', { timeout: 30_000 }, async () => {
  const acl = new AclStore('n1', () => Date.now());
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, acl });
  const socket = connect({ port: server.port, host: '127.0.0.1' });
  try {
    await once(socket, 'connect');
    const command = (...args: string[]): string => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    // One write: the AUTH and WHOAMI arrive while the password is being hashed.
    socket.write(command('ACL', 'SETUSER', 'carol', 'on', '>carolpw', '~c:*', '+@all') + command('AUTH', 'carol', 'carolpw') + command('ACL', 'WHOAMI') + command('SET', 'd:1', 'x'));
    const expected = "+OK\r\n+OK\r\n$5\r\ncarol\r\n-NOPERM this user has no permissions to access one of the keys used as arguments\r\n";
    let received = '';
    socket.setEncoding('utf8');
    for await (const chunk of socket) {
      received += chunk as string;
      if (received.length >= expected.length) break;
    }
    assert.equal(received, expected);
  } finally {
    socket.destroy();
    await server.close();
  }
});

test('a connection of a deleted user gets NOPERM, also once a user of that name is created again', async () => {
  const acl = new AclStore('n1', () => Date.now());
  const server = await startRespServer({ keyspace: memoryKeyspace(), port: 0, acl });
  const { clients, client } = ioredisClients(server.port);
  try {
    const admin = client();
    await admin.connect();
    await admin.set('secret:x', 'the-secret');
    assert.equal(await admin.call('ACL', 'SETUSER', 'app', 'reset', 'on', '>pw1', '~cache:*', '+@all'), 'OK');
    const old = client({ username: 'app', password: 'pw1' });
    await old.connect();
    assert.equal(await failure(old.get('secret:x')), 'NOPERM this user has no permissions to access one of the keys used as arguments');
    // A rule change applies to connections already open, as in Redis.
    assert.equal(await admin.call('ACL', 'SETUSER', 'app', '~secret:*'), 'OK');
    assert.equal(await old.get('secret:x'), 'the-secret');
    assert.equal(await admin.call('ACL', 'DELUSER', 'app'), 1);
    assert.equal(await failure(old.get('cache:1')), "NOPERM this user has no permissions to run the 'get' command");
    // The leaked password is why the user was deleted: the new one's rights are not the old connection's.
    assert.equal(await admin.call('ACL', 'SETUSER', 'app', 'on', '>pw2', '~*', '+@all'), 'OK');
    assert.equal(await failure(old.get('secret:x')), "NOPERM this user has no permissions to run the 'get' command");
    const fresh = client({ username: 'app', password: 'pw2' });
    await fresh.connect();
    assert.equal(await fresh.get('secret:x'), 'the-secret');
  } finally {
    for (const c of clients) c.disconnect();
    await server.close();
  }
});

/**
 * The SDK's credentials against a node's users: hello authenticates `{ username, password }`, and
 * each get/set/delete/rmw is checked against the user's ACL (commands and key patterns).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, ForbiddenError, ShoalError, connect, stringCodec } from '../../src/index.ts';
import { AclStore } from '../../src/security/acl.ts';
import { AuthGuard } from '../../src/security/auth-guard.ts';
import { askNode } from '../../src/daemon/ask-node.ts';
import { startNode } from './client-helpers.ts';

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
  return 'no error';
}

test('SDK: no credentials while default is nopass; users, wrong passwords, NOPERM by op and key', async () => {
  const acl = new AclStore('n1', () => Date.now());
  const node = await startNode({ acl, authGuard: new AuthGuard(() => 0) });
  const closing: { close(): Promise<void> | void }[] = [];
  try {
    const open = await connect({ seeds: [node.address], codec: stringCodec, connectTimeoutMs: 5000 });
    closing.push(open);
    await open.set('a:1', 'x');
    assert.equal(await open.get('a:1'), 'x');

    assert.equal(acl.setUser('reader', ['on', '>rpw', '~a:*', '+@read']), null);
    assert.equal(acl.setUser('default', ['resetpass', '>adminpw']), null);

    assert.match(await failure(connect({ seeds: [node.address], codec: stringCodec, connectTimeoutMs: 3000, reconnect: false })), /unauthenticated|credentials|connect/i);
    assert.match(await failure(connect({ seeds: [node.address], codec: stringCodec, connectTimeoutMs: 3000, username: 'reader', password: 'bad' })), /unauthenticated|invalid|connect/i);

    const reader = await connect({ seeds: [node.address], codec: stringCodec, username: 'reader', password: 'rpw' });
    closing.push(reader);
    assert.equal(await reader.get('a:1'), 'x');
    assert.match(await failure(reader.get('b:1')), /forbidden: get\("b:1"\): NOPERM this user has no permissions to access one of the keys used as arguments/);
    assert.match(await failure(reader.set('a:1', 'y')), /forbidden: set\("a:1"\): NOPERM this user has no permissions to run the 'set' command/);
    assert.match(await failure(reader.delete('a:1')), /forbidden: delete\("a:1"\): NOPERM this user has no permissions to run the 'del' command/);
    await assert.rejects(reader.get('b:1'), ForbiddenError);
    await assert.rejects(reader.incr('a:n'), { name: 'ForbiddenError', message: /^incr\("a:n"\): NOPERM this user has no permissions to run the 'set' command/ });
    assert.match(await failure(reader.deleteIfExists('a:1')), /forbidden: deleteIfExists\("a:1"\): NOPERM this user has no permissions to run the 'del' command/);

    // deleteIfExists is checked as Redis checks DEL (and as delete is): the 'del' command, write
    // access to the key; a user who may delete but not set or read still may.
    assert.equal(acl.setUser('deleter', ['on', '>dpw', '%W~a:*', '+del']), null);
    const deleter = await connect({ seeds: [node.address], codec: stringCodec, username: 'deleter', password: 'dpw' });
    closing.push(deleter);
    assert.equal(await deleter.deleteIfExists('a:1'), true);
    assert.equal(await deleter.deleteIfExists('a:1'), false);
    assert.match(await failure(deleter.deleteIfExists('b:1')), /forbidden: deleteIfExists\("b:1"\): NOPERM this user has no permissions to access one of the keys used as arguments .*; the user needs write access to this key$/);
    assert.match(await failure(deleter.incr('a:n')), /NOPERM this user has no permissions to run the 'set' command/);

    const admin = await connect({ seeds: [node.address], codec: stringCodec, credentials: { username: 'default', password: 'adminpw' } });
    closing.push(admin);
    await admin.set('b:1', 'y');
    assert.equal(await admin.get('b:1'), 'y');
  } finally {
    for (const c of closing) await c.close();
    await node.server.close({ graceMs: 0 });
  }
});

test('refused credentials: connect() rejects with AuthenticationError, saying who was refused and the node\'s reason', async () => {
  const acl = new AclStore('n1', () => Date.now());
  const node = await startNode({ acl });
  try {
    assert.equal(acl.setUser('reader', ['on', '>rpw', '~a:*', '+@read']), null);
    assert.equal(acl.setUser('default', ['resetpass', '>adminpw']), null);
    const cases: [Parameters<typeof connect>[0], RegExp, string][] = [
      [{ seeds: [node.address], username: 'reader', password: 'bad' }, /^authentication as user "reader" failed: node \S+ refused it: invalid username-password pair or user is disabled$/, 'invalid username-password pair or user is disabled'],
      [{ seeds: [node.address], username: 'nobody', password: 'x' }, /^authentication as user "nobody" failed/, 'invalid username-password pair or user is disabled'],
      [{ seeds: [node.address], token: `shoal_${'A'.repeat(43)}` }, /^authentication with a token failed/, 'invalid username-password pair or user is disabled'],
      [{ seeds: [node.address] }, /^authentication without credentials failed: .*this node requires credentials/, 'this node requires credentials: give { username, password } or { token } in the client options'],
      // Two seeds (one node by two names) and no reconnecting: refused credentials are still the reason given.
      [{ seeds: [node.address, node.address.replace('127.0.0.1', 'localhost')], password: 'bad', reconnect: false }, /^authentication as user "default" failed/, 'invalid username-password pair or user is disabled'],
    ];
    for (const [options, message, reason] of cases) {
      const error = await connect({ ...options, codec: stringCodec }).then(
        async (client) => {
          await client.close();
          return null;
        },
        (e: unknown) => e,
      );
      assert.ok(error instanceof AuthenticationError && error instanceof ShoalError, `${String(error)} (${JSON.stringify(options)})`);
      assert.equal(error.code, 'unauthenticated');
      assert.match(error.message, message);
      assert.equal(error.reason, reason);
      assert.ok(error.node.endsWith(node.address.split(':')[1]!));
    }
  } finally {
    await node.server.close({ graceMs: 0 });
  }
});

test('drain requests: refused without the admin category, answered with the progress or the node\'s refusal with it', async () => {
  const acl = new AclStore('n1', () => Date.now());
  const refuse = { now: false };
  const drain = (action: 'drain' | 'undrain') =>
    refuse.now ? { refused: 'n1 is the only live member holding data' } : { state: action === 'drain' ? 'draining' : 'serving', partitionsAtStart: 3, partitionsLeft: 3, keysHandedOff: 0, bytesHandedOff: 0, elapsedMs: 0 };
  const node = await startNode({ acl, authGuard: new AuthGuard(() => 0), drain });
  try {
    assert.equal(acl.setUser('reader', ['on', '>rpw', '~*', '+@read']), null);
    assert.equal(acl.setUser('default', ['resetpass', '>adminpw']), null);
    const ask = (username: string, password: string) => askNode(node.address, { op: 'drain', action: 'drain' }, 'drain', { timeoutMs: 5000, tls: null, credentials: { username, password }, client: 'test' });
    assert.match(await failure(ask('reader', 'rpw')), /refused drain: NOPERM this user has no permissions to run the 'shoal\.drain' command \(forbidden\)/);
    assert.equal((await ask('default', 'adminpw')).drain.state, 'draining');
    refuse.now = true;
    assert.match(await failure(ask('default', 'adminpw')), /refused drain: n1 is the only live member holding data \(unavailable\)/);
  } finally {
    await node.server.close({ graceMs: 0 });
  }
});

test('SDK: a connection of a deleted user is refused, also once a user of that name is created again', async () => {
  const acl = new AclStore('n1', () => Date.now());
  const node = await startNode({ acl });
  const closing: { close(): Promise<void> | void }[] = [];
  try {
    assert.equal(acl.setUser('app', ['on', '>pw1', '~cache:*', '+@all']), null);
    const admin = await connect({ seeds: [node.address], codec: stringCodec });
    closing.push(admin);
    await admin.set('secret:x', 'the-secret');
    const old = await connect({ seeds: [node.address], codec: stringCodec, username: 'app', password: 'pw1' });
    closing.push(old);
    assert.match(await failure(old.get('secret:x')), /forbidden: get\("secret:x"\): NOPERM this user has no permissions to access one of the keys/);
    assert.equal(acl.delUsers(['app']), 1);
    assert.equal(acl.setUser('app', ['on', '>pw2', '~*', '+@all']), null);
    assert.match(await failure(old.get('secret:x')), /forbidden: get\("secret:x"\): NOPERM this user has no permissions to run the 'get' command/);
    const fresh = await connect({ seeds: [node.address], codec: stringCodec, username: 'app', password: 'pw2' });
    closing.push(fresh);
    assert.equal(await fresh.get('secret:x'), 'the-secret');
  } finally {
    for (const c of closing) await c.close();
    await node.server.close({ graceMs: 0 });
  }
});

test('SDK: a key the ACL forbids is named in the ForbiddenError, with the call and the access it needs; the connection goes on', async () => {
  const acl = new AclStore('n1', () => Date.now());
  const node = await startNode({ acl });
  const closing: { close(): Promise<void> | void }[] = [];
  try {
    // app may read and write app:*, only read ro:*.
    assert.equal(acl.setUser('app', ['on', '>pw', '~app:*', '%R~ro:*', '+@all']), null);
    const app = await connect({ seeds: [node.address], codec: stringCodec, username: 'app', password: 'pw' });
    closing.push(app);
    await app.set('app:1', 'x');
    const refusal = async (promise: Promise<unknown>): Promise<ForbiddenError> => {
      const error = await promise.then(() => null, (e: unknown) => e);
      assert.ok(error instanceof ForbiddenError, String(error));
      assert.equal(error.code, 'forbidden');
      return error;
    };
    const keyText = /NOPERM this user has no permissions to access one of the keys used as arguments \(forbidden from node \S+\)/;
    const cases: [() => Promise<unknown>, string, string][] = [
      [() => app.get('other:1'), 'get("other:1")', 'read'],
      [() => app.set('other:1', 'y'), 'set("other:1")', 'write'],
      [() => app.delete('other:1'), 'delete("other:1")', 'write'],
      [() => app.set('ro:1', 'y'), 'set("ro:1")', 'write'],
      [() => app.incr('ro:n'), 'incr("ro:n")', 'read and write'],
      // mget and mset reject with the first refusal: it says which of their keys it was.
      [() => app.mget(['app:1', 'other:2']), 'get("other:2")', 'read'],
      [() => app.mset([['app:2', 'a'], ['other:3', 'b']]), 'set("other:3")', 'write'],
      [() => app.get(new Uint8Array([0xff, 0])), 'get(<2 bytes>)', 'read'],
    ];
    for (const [run, call, access] of cases) {
      const error = await refusal(run());
      assert.ok(error.message.startsWith(`${call}: `), error.message);
      assert.match(error.message, keyText);
      assert.ok(error.message.endsWith(`; the user needs ${access} access to this key`), error.message);
    }
    // A refused command is named by the node's own text, and gets no key-access clause.
    assert.equal(acl.setUser('reader', ['on', '>rpw', '~*', '+get']), null);
    const reader = await connect({ seeds: [node.address], codec: stringCodec, username: 'reader', password: 'rpw' });
    closing.push(reader);
    const command = await refusal(reader.set('app:1', 'z'));
    assert.match(command.message, /^set\("app:1"\): NOPERM this user has no permissions to run the 'set' command \(forbidden from node \S+\)$/);
    // The connection is still usable.
    assert.equal(await app.get('app:1'), 'x');
    assert.equal(await reader.get('app:1'), 'x');
    assert.equal(app.status, 'ready');
  } finally {
    for (const c of closing) await c.close();
    await node.server.close({ graceMs: 0 });
  }
});

/**
 * Bearer tokens (src/security/acl-tokens.ts) and AclStore.authenticateToken: a token is stored as
 * its SHA-256 among the user's passwords, names its user alone, works as that user's password,
 * and stops working when removed or when the user is off.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AclStore } from '../../src/security/acl.ts';
import { isToken, newToken, tokenHash } from '../../src/security/acl-tokens.ts';

test('tokens: shape, hash, lookup by token alone, as a password, revoked, user off', async () => {
  const { token, hash } = newToken((n) => new Uint8Array(n).fill(7));
  assert.ok(isToken(token));
  assert.equal(token.length, 'shoal_'.length + 43);
  assert.equal(hash, tokenHash(token));
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.notEqual(newToken().token, newToken().token);
  assert.equal(isToken('shoal_short'), false);

  const acl = new AclStore('n1', () => 1000);
  assert.equal(acl.setUser('app', ['on', `#${hash}`, '~app:*', '+@read']), null);
  assert.equal(acl.setUser('other', ['on', '>pw', '~*', '+@all']), null);
  const found = acl.authenticateToken(token);
  assert.ok(found.ok && found.user.name === 'app');
  assert.ok((await acl.authenticate('app', token)).ok, 'a token is also a password of its user');
  assert.equal(acl.authenticateToken(token, 'other').ok, false, 'with a name, only that user');
  assert.equal(acl.authenticateToken(newToken().token).ok, false);
  assert.equal(acl.authenticateToken('pw').ok, false, 'a password is not a bearer token');
  // A #hash password that is not a token's shape is never matched by a bearer lookup.
  assert.equal(acl.setUser('sha', ['on', `#${tokenHash('plain')}`]), null);
  assert.equal(acl.authenticateToken('plain').ok, false);

  assert.equal(acl.setUser('app', ['off']), null);
  assert.equal(acl.authenticateToken(token).ok, false, 'a user that is off');
  assert.equal(acl.setUser('app', ['on', `!${hash}`]), null);
  assert.equal(acl.authenticateToken(token).ok, false, 'removed');
});

test('shoal acl --redis takes HOST:PORT, redis:// and rediss:// (TLS), never credentials in the address', async () => {
  const { parseRedisAddress } = await import('../../src/cli/acl.ts');
  assert.deepEqual(parseRedisAddress('127.0.0.1:7402'), { host: '127.0.0.1', port: 7402, tls: false });
  assert.deepEqual(parseRedisAddress('redis://cache.internal:6380'), { host: 'cache.internal', port: 6380, tls: false });
  assert.deepEqual(parseRedisAddress('rediss://[::1]:7402/'), { host: '::1', port: 7402, tls: true });
  for (const bad of ['rediss://user:pw@h:1', 'h', 'redis://h:99999', 'http://h:1', 'h:1/x']) assert.throws(() => parseRedisAddress(bad), /--redis takes/, bad);
});

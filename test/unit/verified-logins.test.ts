/**
 * The memory of verified logins (src/security/verified-logins.ts) and its use by AclStore: a login
 * that passed scrypt is accepted again from memory, but only with the same password against the
 * same stored record, never after the user changed, and the memory stays bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedLogins } from '../../src/security/verified-logins.ts';
import { AclStore } from '../../src/security/acl.ts';

test('a remembered login matches only the same user, password and record', () => {
  const logins = new VerifiedLogins();
  assert.equal(logins.has('alice', 'pw', 'scrypt$a'), false);
  logins.remember('alice', 'pw', 'scrypt$a');
  assert.equal(logins.has('alice', 'pw', 'scrypt$a'), true);
  assert.equal(logins.has('alice', Buffer.from('pw'), 'scrypt$a'), true, 'bytes and text alike');
  assert.equal(logins.has('alice', 'pw2', 'scrypt$a'), false, 'another password');
  assert.equal(logins.has('alice', 'pw', 'scrypt$b'), false, 'another record');
  assert.equal(logins.has('bob', 'pw', 'scrypt$a'), false, 'another user');
  // Lengths are part of the digest: moving bytes between user and password is another login.
  logins.remember('ab', 'c', 'r');
  assert.equal(logins.has('a', 'bc', 'r'), false);
  logins.forget('alice');
  assert.equal(logins.has('alice', 'pw', 'scrypt$a'), false, 'forgotten');
  assert.equal(logins.has('ab', 'c', 'r'), true, 'other users kept');
});

test('bounded: the least recently used entry goes first', () => {
  const logins = new VerifiedLogins(3);
  for (const u of ['a', 'b', 'c']) logins.remember(u, 'pw', 'r');
  assert.equal(logins.has('a', 'pw', 'r'), true); // a is now the most recent
  logins.remember('d', 'pw', 'r');
  assert.equal(logins.size, 3);
  assert.equal(logins.has('b', 'pw', 'r'), false, 'b was the least recently used');
  for (const u of ['a', 'c', 'd']) assert.equal(logins.has(u, 'pw', 'r'), true, u);
});

/** A VerifiedLogins that counts the logins it accepted from memory. */
class Counting extends VerifiedLogins {
  hits = 0;
  override has(user: string, password: Uint8Array | string, record: string): boolean {
    const found = super.has(user, password, record);
    if (found) this.hits++;
    return found;
  }
}

test('AclStore: a second login costs no scrypt; a change of the user, locally or by merge, forgets it', async () => {
  const logins = new Counting();
  const acl = new AclStore('a', () => 1, undefined, logins);
  assert.equal(acl.setUser('alice', ['on', '>pw', 'allkeys', '+@all']), null);
  assert.equal((await acl.authenticate('alice', 'pw')).ok, true);
  assert.equal(logins.hits, 0, 'the first login runs scrypt');
  assert.equal(logins.size, 1);
  assert.equal((await acl.authenticate('alice', 'pw')).ok, true);
  assert.equal(logins.hits, 1, 'the second comes from memory');
  assert.equal((await acl.authenticate('alice', 'wrong')).ok, false, 'a wrong password is still refused');

  // A new password replaces the old: the old one must fail although it was remembered.
  assert.equal(acl.setUser('alice', ['resetpass', '>new']), null);
  assert.equal(logins.size, 0, 'forgotten on change');
  assert.equal((await acl.authenticate('alice', 'pw')).ok, false);
  assert.equal((await acl.authenticate('alice', 'new')).ok, true);
  // Turned off elsewhere (merge): refused, and forgotten.
  const other = new AclStore('b', () => 2);
  other.merge(acl.snapshot().entries);
  other.setUser('alice', ['off']);
  acl.merge(other.snapshot().entries);
  assert.equal(logins.size, 0);
  assert.equal((await acl.authenticate('alice', 'new')).ok, false);
  // A Redis `#sha256` password is cheap already: not remembered.
  acl.setUser('bob', ['on', '#' + 'e'.repeat(64)]);
  await acl.authenticate('bob', 'x');
  assert.equal(logins.size, 0);
});

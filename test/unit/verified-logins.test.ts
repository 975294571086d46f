/**
 * The memory of verified logins (src/security/verified-logins.ts) and its use by AclStore: a login
 * that passed scrypt is accepted again from memory, but only with the same password against the
 * same stored record, never after the user changed, and the memory stays bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedLogins } from '../../src/security/verified-logins.ts';
import { AclStore } from '../../src/security/acl.ts';

/** A stand-in for scrypt that counts its calls and answers `ok`. */
function slowCheck(ok = true): { calls: number; run: () => Promise<boolean> } {
  const check = { calls: 0, run: async (): Promise<boolean> => (check.calls++, ok) };
  return check;
}

test('a remembered login matches only the same user, password and record', async () => {
  const logins = new VerifiedLogins();
  const scrypt = slowCheck();
  assert.equal(logins.has('alice', 'pw', 'scrypt$a'), false);
  assert.equal(await logins.verify('alice', 'pw', 'scrypt$a', scrypt.run), true);
  assert.equal(await logins.verify('alice', 'pw', 'scrypt$a', scrypt.run), true);
  assert.equal(scrypt.calls, 1, 'the second login comes from memory');
  assert.equal(logins.has('alice', 'pw', 'scrypt$a'), true);
  assert.equal(logins.has('alice', Buffer.from('pw'), 'scrypt$a'), true, 'bytes and text alike');
  assert.equal(logins.has('alice', 'pw2', 'scrypt$a'), false, 'another password');
  assert.equal(logins.has('alice', 'pw', 'scrypt$b'), false, 'another record');
  assert.equal(logins.has('bob', 'pw', 'scrypt$a'), false, 'another user');
  // Lengths are part of the digest: moving bytes between user and password is another login.
  await logins.verify('ab', 'c', 'r', scrypt.run);
  assert.equal(logins.has('a', 'bc', 'r'), false);
  logins.forget('alice');
  assert.equal(logins.has('alice', 'pw', 'scrypt$a'), false, 'forgotten');
  assert.equal(logins.has('ab', 'c', 'r'), true, 'other users kept');
  const refused = slowCheck(false);
  assert.equal(await logins.verify('carol', 'bad', 'r', refused.run), false);
  assert.equal(await logins.verify('carol', 'bad', 'r', refused.run), false);
  assert.equal(refused.calls, 2, 'a refusal is never remembered');
});

test('logins arriving together share one check; a change while it runs is not remembered', async () => {
  const logins = new VerifiedLogins();
  let calls = 0;
  let release!: (ok: boolean) => void;
  const slow = (): Promise<boolean> => {
    calls++;
    return new Promise((resolve) => (release = resolve));
  };
  const same = [logins.verify('alice', 'pw', 'r', slow), logins.verify('alice', 'pw', 'r', slow), logins.verify('alice', 'pw', 'r', slow)];
  const other = logins.verify('alice', 'guess', 'r', async () => (calls++, false));
  assert.equal(calls, 2, 'one check for the three same logins, one for the other password');
  assert.equal(await other, false);
  release(true);
  assert.deepEqual(await Promise.all(same), [true, true, true]);

  const fresh = new VerifiedLogins();
  const pending = fresh.verify('alice', 'pw', 'r', slow);
  fresh.forget('alice'); // the user changed during the check
  release(true);
  assert.equal(await pending, true, 'the check answers for the record it was given');
  assert.equal(fresh.size, 0, 'but is not remembered');
});

test('bounded: the least recently used entry goes first', async () => {
  const logins = new VerifiedLogins(3);
  const scrypt = slowCheck();
  for (const u of ['a', 'b', 'c']) await logins.verify(u, 'pw', 'r', scrypt.run);
  assert.equal(logins.has('a', 'pw', 'r'), true); // a is now the most recent
  await logins.verify('d', 'pw', 'r', scrypt.run);
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
  const together = await Promise.all([acl.authenticate('alice', 'pw'), acl.authenticate('alice', 'pw')]);
  assert.ok(together.every((r) => r.ok));
  assert.equal(logins.hits, 0, 'the first logins run scrypt (one, shared)');
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

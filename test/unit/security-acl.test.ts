import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclStore, check, describeUser, keyAccessFor, keyFilter, NOPERM_KEYS, setUser, type AclUser } from '../../src/security/acl.ts';
import { hashPassword, verifyPassword, verifyPasswordSync } from '../../src/security/acl-passwords.ts';

const catalog = { isCommand: (name: string) => ['get', 'set', 'del', 'acl', 'acl|whoami', 'config', 'config|get', 'ping'].includes(name) };

function user(rules: string[]): AclUser {
  const u = setUser(undefined, 'u', rules, catalog);
  assert.equal(typeof u, 'object', String(u));
  return u as AclUser;
}

// Redis 7.0.15 answered these (ACL SETUSER then ACL LIST), passwords aside.
test('descriptions match Redis 7.0 for the same rules', () => {
  assert.equal(describeUser(user(['on', 'nopass', '~k*', '+get'])), 'user u on nopass ~k* resetchannels -@all +get');
  assert.equal(describeUser(user(['on', '~foo*', '%R~bar*', '+@read', '-get', '+set'])), 'user u on ~foo* %R~bar* resetchannels -@all +@read -get +set');
  assert.equal(describeUser(user(['resetkeys', 'nocommands', 'off'])), 'user u off resetchannels -@all');
  assert.equal(describeUser(user(['on', 'nopass', '%R~r*', '+@all'])), 'user u on nopass %R~r* resetchannels +@all');
  assert.equal(describeUser(user(['on', 'allkeys', '&*', 'allcommands', 'nopass'])), 'user u on nopass ~* &* +@all');
});

test('bad rules get Redis 7.0 error texts and change nothing', () => {
  const cases: [string[], string][] = [
    [['badrule'], "ERR Error in ACL SETUSER modifier 'badrule': Syntax error"],
    [['%X~a'], "ERR Error in ACL SETUSER modifier '%X~a': Syntax error"],
    [['<nope'], "ERR Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not exist"],
    [['#abc'], "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"],
    [['+nosuch'], "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"],
    [['-@nosuch'], "ERR Error in ACL SETUSER modifier '-@nosuch': Unknown command or category name in ACL"],
    [['allkeys', '~a'], "ERR Error in ACL SETUSER modifier '~a': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"],
  ];
  for (const [rules, error] of cases) assert.equal(setUser(undefined, 'u', rules, catalog), error);
  const store = new AclStore('n1', () => 1);
  assert.equal(store.setUser('a', ['on', 'bad']), "ERR Error in ACL SETUSER modifier 'bad': Syntax error");
  assert.equal(store.get('a'), undefined);
  assert.equal(store.delUsers(['default']), "ERR The 'default' user cannot be removed");
});

test('check: commands by name and category, subcommands, keys by pattern and access', () => {
  const carol = user(['on', 'nopass', '~k*', '+get']);
  assert.equal(check(carol, { name: 'get', categories: ['read'] }, [{ key: 'k1', access: 'r' }]), null);
  assert.equal(check(carol, { name: 'get', categories: ['read'] }, [{ key: 'zz', access: 'r' }]), NOPERM_KEYS);
  assert.equal(check(carol, { name: 'set', categories: ['write'] }), "NOPERM this user has no permissions to run the 'set' command");
  assert.equal(check(carol, { name: 'acl|whoami', categories: ['slow'] }), "NOPERM this user has no permissions to run the 'acl|whoami' command");
  const admin = user(['on', '+@all', '-@dangerous', '+config|get', 'allkeys']);
  assert.equal(check(admin, { name: 'config|get', categories: ['admin', 'slow', 'dangerous'] }), null);
  assert.equal(check(admin, { name: 'config|set', categories: ['admin', 'slow', 'dangerous'] }), "NOPERM this user has no permissions to run the 'config|set' command");
  const reader = user(['on', '%R~*', '+@all']);
  const writer = user(['on', '%W~*', '+@all']);
  for (const [name, cats, r, w] of [
    ['get', ['read'], true, false], ['set', ['write'], false, true], ['incr', ['write'], false, false],
    ['exists', ['read'], true, true], ['del', ['write'], false, true], ['ttl', ['read'], true, false],
  ] as const) {
    const keys = [{ key: 'k', access: keyAccessFor(name, cats) }];
    assert.equal(check(reader, { name, categories: cats }, keys) === null, r, `reader ${name}`);
    assert.equal(check(writer, { name, categories: cats }, keys) === null, w, `writer ${name}`);
  }
  assert.equal(check(user(['on', 'allkeys', '+@all']), { name: 'get', categories: ['read'] }, [{ key: '', access: 'r' }]), null);
  assert.equal(check(user(['on', '~a*', '+@all']), { name: 'get', categories: ['read'] }, [{ key: '', access: 'r' }]), NOPERM_KEYS);
  assert.notEqual(check(user(['off', '+@all', 'allkeys']), { name: 'get', categories: [] }), 'x');
  assert.match(check(undefined, { name: 'get', categories: [] })!, /NOPERM/);
});

test('passwords are salted scrypt hashes; Redis sha256 hashes are accepted', async () => {
  const a = hashPassword('secret');
  const b = hashPassword('secret');
  assert.notEqual(a, b);
  assert.ok(verifyPasswordSync('secret', a));
  assert.ok(!verifyPasswordSync('nope', a));
  assert.ok(await verifyPassword('secret', b));
  const redisHash = '2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b'; // sha256("secret")
  const u = user(['on', `#${redisHash}`]);
  assert.ok(verifyPasswordSync('secret', u.passwords[0]!));
  const withPass = user(['on', '>secret']);
  assert.ok(!describeUser(withPass).includes('secret '));
  assert.match(describeUser(withPass), /^user u on #scrypt\$[0-9a-f]{32}\$[0-9a-f]{64} resetchannels -@all$/);
  assert.equal(describeUser(setUser(withPass, 'u', ['<secret'], catalog) as AclUser), 'user u on resetchannels -@all');
});

test('store: authenticate, last writer wins, tombstones, digests', async () => {
  let now = 100;
  const a = new AclStore('a', () => now);
  const b = new AclStore('b', () => now);
  assert.equal(a.requiresAuth, false);
  assert.equal(a.setUser('alice', ['on', '>pw', 'allkeys', '+@read']), null);
  assert.equal((await a.authenticate('alice', 'pw')).ok, true);
  assert.equal((await a.authenticate('alice', 'bad')).ok, false);
  assert.equal((await a.authenticate('nobody', 'x')).ok, false);
  assert.deepEqual(b.merge(a.snapshot().entries).map((e) => e.name), ['alice']);
  assert.equal(a.digest(), b.digest());
  now = 200;
  b.setUser('alice', ['off']);
  now = 150; // a's clock is behind: its later change still has a newer version than what it saw
  a.merge(b.snapshot().entries);
  assert.equal(a.get('alice')!.enabled, false);
  assert.equal(a.delUsers(['alice', 'ghost']), 1);
  b.merge(a.snapshot().entries);
  assert.equal(b.get('alice'), undefined);
  assert.deepEqual(b.names(), ['default']);
  assert.equal(a.digest(), b.digest());
  // Older entries and garbage are ignored.
  assert.deepEqual(b.merge([{ name: 'alice', user: null, version: { wallMs: 1, counter: 0, node: 'z' } }, { bogus: 1 } as never]), []);
});

test('store: a user deleted and created again is another user, on every node', () => {
  let now = 1_000;
  const a = new AclStore('a', () => now);
  const b = new AclStore('b', () => now);
  assert.equal(a.setUser('app', ['on', 'nopass', '~*', '+@all']), null);
  const first = a.get('app')!.since;
  assert.ok(first !== undefined);
  assert.equal(a.setUser('app', ['resetkeys', '~other:*']), null, 'a rule change');
  assert.equal(a.get('app')!.since, first, 'is the same user');
  b.merge(a.snapshot().entries);
  assert.equal(b.loggedIn('app', first)?.name, 'app', 'the user travels with its since');
  now += 1;
  a.delUsers(['app']);
  assert.equal(a.setUser('app', ['on', 'nopass', '~*', '+@all']), null);
  assert.notEqual(a.get('app')!.since, first);
  // b hears only of the user created again, never of the deletion.
  b.merge(a.snapshot().entries);
  assert.equal(b.loggedIn('app', first), undefined);
  assert.equal(a.loggedIn('app', first), undefined);
  assert.equal(b.loggedIn('app', b.get('app')!.since)?.name, 'app');
  assert.equal(a.loggedIn('default', undefined)?.name, 'default');
});

test('keyFilter: none where a `*` pattern grants the access, else the patterns; nothing for a missing user', () => {
  assert.equal(keyFilter(user(['~*']), 'r'), null);
  assert.equal(keyFilter(user(['%R~*']), 'any'), null);
  assert.equal(keyFilter(user(['%R~*', '%W~*']), 'rw'), null);
  const writeOnly = keyFilter(user(['%R~*', '%W~cache:*']), 'w');
  assert.ok(writeOnly !== null && writeOnly('cache:1') && !writeOnly('secret:1'));
  const cache = keyFilter(user(['~cache:*']), 'any');
  assert.ok(cache !== null && cache('cache:1') && !cache('secret:1'));
  assert.equal(keyFilter(undefined, 'any')?.('cache:1'), false);
});

/**
 * ACL SETUSER with clear passwords (`>pass`, `<pass`) runs scrypt on the thread pool: the command
 * returns to the event loop before its reply (the connection keeps later commands behind it, so
 * pipelined replies stay in order: test/integration/resp-acl.test.ts), and the result is the same
 * as applying the rules directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aclCommands } from '../../src/resp/acl-commands.ts';
import type { CommandContext, ReplyWriter } from '../../src/resp/command.ts';
import { AclStore, prepareRules, setUser, type AclUser } from '../../src/security/acl.ts';

const setuser = aclCommands[0]!.subcommands!.find((s) => s.name === 'setuser')!;
const bytes = (...args: string[]): Uint8Array[] => args.map((a) => Buffer.from(a));

/** Runs ACL SETUSER; `synchronous`: whether it answered before returning to the caller. */
function run(acl: AclStore, ...args: string[]): { finished: Promise<string>; synchronous: boolean } {
  let answer = '';
  let answered = false;
  let settle!: (text: string) => void;
  const finished = new Promise<string>((resolve) => (settle = resolve));
  const reply = { ok: () => (answer = 'OK'), error: (text: string) => (answer = text) } as unknown as ReplyWriter;
  const ctx = { server: { acl }, connection: { user: 'default' } } as unknown as CommandContext;
  setuser.run(ctx, bytes('ACL', 'SETUSER', ...args), reply, () => {
    answered = true;
    settle(answer);
  });
  return { finished, synchronous: answered };
}

test('a password is hashed off the event loop, then applied as >pass would be', async () => {
  const acl = new AclStore('n1', () => 1);
  const call = run(acl, 'alice', 'on', '>secret', '~*', '+@all');
  assert.equal(call.synchronous, false, 'ACL SETUSER returned before its reply: the scrypt runs on the thread pool');
  assert.equal(acl.get('alice'), undefined, 'nothing applied before the hash is ready');
  assert.equal(await call.finished, 'OK');
  assert.equal((await acl.authenticate('alice', 'secret')).ok, true);
  assert.match(acl.get('alice')!.passwords[0]!, /^scrypt\$/);
  // A bad rule after the password: Redis's error naming that rule, and nothing changed.
  assert.equal(await run(acl, 'alice', '>other', 'bogus').finished, "ERR Error in ACL SETUSER modifier 'bogus': Syntax error");
  assert.equal(acl.get('alice')!.passwords.length, 1);
  // Rules without a clear password pass through unchanged.
  assert.deepEqual(await prepareRules(undefined, ['on', '#' + 'a'.repeat(64), 'resetpass']), ['on', '#' + 'a'.repeat(64), 'resetpass']);

  // <pass: off the event loop too, with the errors Redis gives.
  const removal = run(acl, 'alice', '<secret');
  assert.equal(removal.synchronous, false, 'removing a password by its clear text runs scrypt on the thread pool');
  assert.equal(await removal.finished, 'OK');
  assert.deepEqual(acl.get('alice')!.passwords, []);
  assert.equal(await run(acl, 'alice', '<nope').finished, "ERR Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not exist");
  assert.equal(await run(acl, 'alice', '>a', '>b', '<a').finished, 'OK', 'a password added earlier in the same command');
  assert.equal((await acl.authenticate('alice', 'a')).ok, false);
  assert.equal((await acl.authenticate('alice', 'b')).ok, true);
  assert.equal(await run(acl, 'alice', 'resetpass', '<b').finished, "ERR Error in ACL SETUSER modifier '<b': The password you are trying to remove from the user does not exist");
});

test('prepared rules give what the rules give applied directly', async () => {
  const existing = setUser(undefined, 'u', ['on', '>one', '>two', '~*', '+@all']) as AclUser;
  for (const rules of [['<one'], ['>three', '<two', '<three'], ['resetpass', '<one'], ['<one', '<one'], ['nopass', '>x']]) {
    const direct = setUser(existing, 'u', rules);
    const prepared = setUser(existing, 'u', await prepareRules(existing, rules), undefined, rules);
    if (typeof direct === 'string') assert.equal(prepared, direct, rules.join(' '));
    else assert.deepEqual({ ...(prepared as AclUser), passwords: (prepared as AclUser).passwords.length }, { ...direct, passwords: direct.passwords.length }, rules.join(' '));
  }
});

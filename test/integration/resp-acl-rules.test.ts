/**
 * ACL GETUSER and ACL LIST describe a user's rules as redis-server 7.0 does, byte for byte, for
 * rule strings Shoal supports: Redis normalises what ACL SETUSER was given (`allkeys` is `~*`,
 * `allcommands` `+@all`, flags in its order, a later rule for a command replacing an earlier one,
 * passwords as their hash). Both servers get the same ACL SETUSER; then GETUSER (RESP2 and RESP3)
 * and the user's ACL LIST line are compared. Passwords are given as `#<sha256>` here: a `>pass`
 * is kept as a salted scrypt hash by Shoal (docs/REDIS.md, "Authentication and ACLs"). Redis
 * lists the single commands that end a description (`-@all +set +get`) in its command hash
 * table's order, which changes with every redis-server process: those are compared as a set.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { AclStore } from '../../src/security/acl.ts';
import { REDIS_COMMAND_CATEGORIES } from '../../src/security/redis-command-categories.ts';
import { redisBesideShoal } from './resp-raw.ts';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const A = `#${sha('a')}`;
const B = `#${sha('b')}`;

/** ACL SETUSER rule lists (each for a fresh user), and a few applied on top of one another. */
const RULE_SETS: readonly (readonly string[])[] = [
  [],
  ['on'],
  ['on', '~*', '+@all'],
  ['on', 'allkeys', 'allcommands', 'allchannels'],
  ['on', 'nopass', '~a:*', '+@read', '+@connection'],
  ['+@all', '-get', '~x', '~y', '%R~z', '%W~w'],
  ['on', A, B, '~*', '-@all', '+get', '+set'],
  ['+get', '-get'],
  ['+get', '+set', '-get'],
  ['+@read', '-@write', '+del'],
  ['&*'],
  ['allchannels', 'resetchannels'],
  ['on', A, 'reset'],
  [A, 'nopass'],
  ['nopass', A],
  [A, 'resetpass'],
  ['off', 'on', 'off'],
  ['+@all', '-@dangerous'],
  ['~*', 'resetkeys', '~a'],
  ['%RW~k'],
  ['%R~k', '%W~k'],
  ['~k', '%R~k'],
  ['%R~*'],
  ['%R~*', '%W~*'],
  ['+config|get'],
  ['-@all', '+@string', '-append'],
  ['nocommands', '+get'],
  ['+@all', 'nocommands'],
  ['-@all', '+GET', '+@READ'],
  ['+@all', '-client|kill', '+client'],
  [A, A],
  [A, B, `!${sha('a')}`],
  ['on', 'nopass', 'resetpass'],
  ['~a', '~a'],
  ['+@all', '-@write', '+set'],
  ['-@all', '+@keyspace', '-del', '+@string'],
  ['-@all', '+@read', '-@string'],
  ['+@all', '-@slow'],
  ['-@all', '+@admin'],
  ['-@all', '+client|kill', '+config|get'],
  ['+@all', '-client', '+client|list'],
  ['-@all', '+@connection', '+@read', '+@write', '-flushall'],
  ['sanitize-payload'],
  ['skip-sanitize-payload', 'on', 'nopass'],
  ['reset', 'skip-sanitize-payload'],
  ['SANITIZE-PAYLOAD', 'ON', 'ALLKEYS', '+@ALL', '-GET'],
];

/** The single commands that end a rule list (after its categories) sorted: Redis's order is its hash table's. */
function sortSingles(rules: string): string {
  const tokens = rules.split(' ');
  let start = tokens.length;
  while (start > 0 && /^[+-][^@]/.test(tokens[start - 1]!)) start--;
  return [...tokens.slice(0, start), ...tokens.slice(start).sort()].join(' ');
}

/** A GETUSER reply or an ACL LIST with the single commands of every rule list sorted (the same length, so the bytes still compare). */
function comparable(reply: string): string {
  return reply.split('\r\n').map(sortSingles).join('\r\n');
}

const servers = redisBesideShoal({ acl: new AclStore('n1', () => Date.now()) });

test('ACL GETUSER and ACL LIST describe the rules ACL SETUSER was given as redis-server 7.0 does', async () => {
  const mismatches: string[] = [];
  for (const [i, rules] of RULE_SETS.entries()) {
    const name = `u${i}`;
    for (const args of [['ACL', 'SETUSER', name, ...rules], ['ACL', 'GETUSER', name]]) {
      const ours = comparable(await servers.toShoal.command(args));
      const theirs = comparable(await servers.toRedis.command(args));
      if (ours !== theirs) mismatches.push(`${args.join(' ')}\n    shoal: ${JSON.stringify(ours)}\n    redis: ${JSON.stringify(theirs)}`);
    }
  }
  for (const protocol of ['3', '2']) {
    assert.equal((await servers.toShoal.command(['HELLO', protocol])).slice(0, 1), (await servers.toRedis.command(['HELLO', protocol])).slice(0, 1));
    for (const i of RULE_SETS.keys()) {
      const ours = comparable(await servers.toShoal.command(['ACL', 'GETUSER', `u${i}`]));
      const theirs = comparable(await servers.toRedis.command(['ACL', 'GETUSER', `u${i}`]));
      if (ours !== theirs && protocol === '3') mismatches.push(`RESP3 ACL GETUSER u${i} (${RULE_SETS[i]!.join(' ')})\n    shoal: ${JSON.stringify(ours)}\n    redis: ${JSON.stringify(theirs)}`);
    }
  }
  const ours = comparable(await servers.toShoal.command(['ACL', 'LIST']));
  const theirs = comparable(await servers.toRedis.command(['ACL', 'LIST']));
  const lines = (reply: string) => reply.split('\r\n').filter((l) => l.startsWith('user '));
  const shoalLines = new Map(lines(ours).map((l) => [l.split(' ')[1], l]));
  for (const line of lines(theirs)) {
    const mine = shoalLines.get(line.split(' ')[1]);
    if (mine !== line) mismatches.push(`ACL LIST\n    shoal: ${mine}\n    redis: ${line}`);
  }
  assert.deepEqual(mismatches, []);
});

test("Shoal's copy of Redis 7.0's command table (names and ACL categories) is what the installed redis-server answers to COMMAND", async () => {
  const listed = (await servers.toRedis.command(['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', '*'])).split('\r\n').filter((line, i) => i > 0 && i % 2 === 0 && line !== '');
  assert.deepEqual(REDIS_COMMAND_CATEGORIES.map((c) => c.name).sort(), listed.sort());
  const mismatches: string[] = [];
  for (const { name, categories } of REDIS_COMMAND_CATEGORIES) {
    const expected = [...categories].sort().map((c) => `+@${c}`);
    const info = await servers.toRedis.command(['COMMAND', 'INFO', name.split('|')[0]!]);
    // The entry's categories: simple strings `+@x` of its own (a parent's come before its subcommands').
    const at = name.includes('|') ? info.indexOf(`$${name.length}\r\n${name}\r\n`) : 0;
    const lines = info.slice(at).split('\r\n');
    const start = lines.findIndex((l) => l.startsWith('+@'));
    const got: string[] = [];
    for (let i = start; i >= 0 && lines[i]!.startsWith('+@'); i++) got.push(lines[i]!);
    if (got.sort().join(' ') !== expected.join(' ')) mismatches.push(`${name}: ours ${expected.join(' ')}, redis ${got.join(' ')}`);
  }
  assert.deepEqual(mismatches, []);
});

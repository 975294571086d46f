/**
 * Redis's generic keyspace and expiry commands over the string keyspace: DEL, UNLINK, EXISTS,
 * TYPE, TOUCH, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX/XX/GT/LT), TTL, PTTL, PERSIST, EXPIRETIME,
 * PEXPIRETIME, with Redis 7.0's arity, flags, key positions, categories, replies and errors.
 *
 * DEL and UNLINK over keys of several partitions run one read-modify-write per partition and add
 * the counts: each partition's deletes are atomic, the command as a whole is not (as in Redis
 * Cluster, where such a DEL is refused instead). EXISTS and TOUCH read every key and count hits.
 */
import { expireAtFromArg, parseExpireCondition } from './args.ts';
import { documented, type CommandSpec } from './command.ts';
import { commandSpec, isHit, readKey, readKeys, replyError, replyRmw, rmwSumByPartition, runRmw } from './keyspace-calls.ts';

const spec = commandSpec;

function deleteCommand(name: 'del' | 'unlink'): CommandSpec {
  const flags = name === 'del' ? ['write'] : ['write', 'fast'];
  const categories = name === 'del' ? ['keyspace', 'write', 'slow'] : ['keyspace', 'write', 'fast'];
  return spec(name, -2, flags, [1, -1, 1], categories, (ctx, args, reply, done) => {
    // A key named twice is deleted (and counted) once, as Redis does.
    rmwSumByPartition(ctx, args.slice(1), { op: 'del' }, reply, done);
  });
}

/** EXISTS and TOUCH: how many of the keys exist, a key named twice counted twice. */
function countCommand(name: 'exists' | 'touch'): CommandSpec {
  return spec(name, -2, ['readonly', 'fast'], [1, -1, 1], ['keyspace', 'read', 'fast'], (ctx, args, reply, done) => {
    readKeys(ctx, args.slice(1), reply, done, (results) => {
      const now = ctx.server.nowMs();
      reply.integer(results.filter((r) => isHit(r, now)).length);
      done();
    });
  });
}

const type = spec('type', 2, ['readonly', 'fast'], [1, 1, 1], ['keyspace', 'read', 'fast'], (ctx, args, reply, done) => {
  readKey(ctx, args[1]!, reply, done, (result) => {
    reply.simple(isHit(result, ctx.server.nowMs()) ? 'string' : 'none');
    done();
  });
});

function expireCommand(name: 'expire' | 'pexpire' | 'expireat' | 'pexpireat'): CommandSpec {
  const seconds = name === 'expire' || name === 'expireat';
  const relative = name === 'expire' || name === 'pexpire';
  return spec(name, -3, ['write', 'fast'], [1, 1, 1], ['keyspace', 'write', 'fast'], (ctx, args, reply, done) => {
    // Redis checks the options before the number.
    const condition = parseExpireCondition(args);
    if (typeof condition === 'string' || condition instanceof Uint8Array) return replyError(reply, done, condition);
    const at = expireAtFromArg(args[2]!, seconds, relative ? ctx.server.nowMs() : 0, name);
    if (typeof at === 'string') return replyError(reply, done, at);
    const op = { op: 'expire', atMs: Number(at), condition: condition.condition, ...(condition.xx ? { xx: true } : {}) } as const;
    runRmw(ctx, [args[1]!], op, reply, done, (result) => replyRmw(result, reply, done));
  });
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 without expiry. */
function ttlCommand(name: 'ttl' | 'pttl' | 'expiretime' | 'pexpiretime'): CommandSpec {
  const ms = name === 'pttl' || name === 'pexpiretime';
  const absolute = name === 'expiretime' || name === 'pexpiretime';
  return spec(name, 2, ['readonly', 'fast'], [1, 1, 1], ['keyspace', 'read', 'fast'], (ctx, args, reply, done) => {
    readKey(ctx, args[1]!, reply, done, (result) => {
      const now = ctx.server.nowMs();
      if (!isHit(result, now)) reply.integer(-2);
      else if (result.expiresAtMs === null) reply.integer(-1);
      else {
        const value = Math.max(0, absolute ? result.expiresAtMs : result.expiresAtMs - now);
        // Redis rounds seconds to the nearest: (ttl + 500) / 1000 in integer arithmetic.
        reply.integer(ms ? value : Math.floor((value + 500) / 1000));
      }
      done();
    });
  });
}

const persist = spec('persist', 2, ['write', 'fast'], [1, 1, 1], ['keyspace', 'write', 'fast'], (ctx, args, reply, done) => {
  runRmw(ctx, [args[1]!], { op: 'persist' }, reply, done, (result) => replyRmw(result, reply, done));
});

export const expireCommands: readonly CommandSpec[] = [
  documented(deleteCommand('del'), { summary: 'Delete a key', since: '1.0.0', group: 'generic', complexity: 'O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0, flags: ['multiple'] }] }),
  documented(deleteCommand('unlink'), { summary: 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.', since: '4.0.0', group: 'generic', complexity: 'O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0, flags: ['multiple'] }] }),
  documented(countCommand('exists'), { summary: 'Determine if a key exists', since: '1.0.0', group: 'generic', complexity: 'O(N) where N is the number of keys to check.', history: [['3.0.3', 'Accepts multiple `key` arguments.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0, flags: ['multiple'] }] }),
  documented(type, { summary: 'Determine the type stored at key', since: '1.0.0', group: 'generic', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(countCommand('touch'), { summary: 'Alters the last access time of a key(s). Returns the number of existing keys specified.', since: '3.2.1', group: 'generic', complexity: 'O(N) where N is the number of keys that will be touched.', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0, flags: ['multiple'] }] }),
  documented(expireCommand('expire'), { summary: 'Set a key\'s time to live in seconds', since: '1.0.0', group: 'generic', complexity: 'O(1)', history: [['7.0.0', 'Added options: `NX`, `XX`, `GT` and `LT`.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'seconds', type: 'integer' }, { name: 'condition', type: 'oneof', since: '7.0.0', flags: ['optional'], arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }, { name: 'gt', type: 'pure-token', token: 'GT' }, { name: 'lt', type: 'pure-token', token: 'LT' }] }] }),
  documented(expireCommand('pexpire'), { summary: 'Set a key\'s time to live in milliseconds', since: '2.6.0', group: 'generic', complexity: 'O(1)', history: [['7.0.0', 'Added options: `NX`, `XX`, `GT` and `LT`.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'milliseconds', type: 'integer' }, { name: 'condition', type: 'oneof', since: '7.0.0', flags: ['optional'], arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }, { name: 'gt', type: 'pure-token', token: 'GT' }, { name: 'lt', type: 'pure-token', token: 'LT' }] }] }),
  documented(expireCommand('expireat'), { summary: 'Set the expiration for a key as a UNIX timestamp', since: '1.2.0', group: 'generic', complexity: 'O(1)', history: [['7.0.0', 'Added options: `NX`, `XX`, `GT` and `LT`.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'unix-time-seconds', type: 'unix-time' }, { name: 'condition', type: 'oneof', since: '7.0.0', flags: ['optional'], arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }, { name: 'gt', type: 'pure-token', token: 'GT' }, { name: 'lt', type: 'pure-token', token: 'LT' }] }] }),
  documented(expireCommand('pexpireat'), { summary: 'Set the expiration for a key as a UNIX timestamp specified in milliseconds', since: '2.6.0', group: 'generic', complexity: 'O(1)', history: [['7.0.0', 'Added options: `NX`, `XX`, `GT` and `LT`.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'unix-time-milliseconds', type: 'unix-time' }, { name: 'condition', type: 'oneof', since: '7.0.0', flags: ['optional'], arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }, { name: 'gt', type: 'pure-token', token: 'GT' }, { name: 'lt', type: 'pure-token', token: 'LT' }] }] }),
  documented(ttlCommand('ttl'), { summary: 'Get the time to live for a key in seconds', since: '1.0.0', group: 'generic', complexity: 'O(1)', history: [['2.8.0', 'Added the -2 reply.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(ttlCommand('pttl'), { summary: 'Get the time to live for a key in milliseconds', since: '2.6.0', group: 'generic', complexity: 'O(1)', history: [['2.8.0', 'Added the -2 reply.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(persist, { summary: 'Remove the expiration from a key', since: '2.2.0', group: 'generic', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(ttlCommand('expiretime'), { summary: 'Get the expiration Unix timestamp for a key', since: '7.0.0', group: 'generic', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(ttlCommand('pexpiretime'), { summary: 'Get the expiration Unix timestamp for a key in milliseconds', since: '7.0.0', group: 'generic', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
];

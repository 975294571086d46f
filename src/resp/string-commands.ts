/**
 * Redis's string commands, with Redis 7.0's arity, flags, key positions, ACL categories, replies
 * and error texts. Plain reads and blind writes go through the keyspace's get/set/delete; anything
 * that reads then writes is one read-modify-write operation (replication/rmw.ts) run on the key's
 * primary, so concurrent INCRs from different clients and nodes do not lose updates.
 *
 * Every value is a string: the keyspace holds bytes only, so Redis's WRONGTYPE never arises.
 */
import type { KvError, RmwExpiry, RmwOp, RmwResult } from '../replication/api.ts';
import {
  ERR_CROSSSLOT,
  ERR_NOT_INTEGER,
  ERR_SYNTAX,
  LLONG_MIN,
  bytesEqual,
  expireAtFromOption,
  isWord,
  kvErrorText,
  parseDbIndex,
  parseInteger,
  parseStringOptions,
  wrongArity,
} from './args.ts';
import { documented, type CommandContext, type CommandSpec, type ReplyWriter } from './command.ts';
import { commandSpec, countLookups, fanOut, inOneSlot, isHit, readKey, readKeys, replyError, replyRmw, runRmw } from './keyspace-calls.ts';

const spec = commandSpec;

const WRITE = ['write', 'string'];
const READ = ['read', 'string'];

/** Writes `value` with `ttlMs` (0 = none) through the plain keyspace write, replying OK. */
function plainSet(ctx: CommandContext, key: Uint8Array, value: Uint8Array, ttlMs: number, reply: ReplyWriter, done: () => void): void {
  ctx.server.keyspace.set(key, value, { ttlMs }, (error) => {
    if (error !== null) reply.error(kvErrorText(error));
    else reply.ok();
    done();
  });
}

/** A value written by SET with an absolute expiry not after now: Redis answers OK and the key is gone. */
function plainDeleteAsSet(ctx: CommandContext, key: Uint8Array, reply: ReplyWriter, done: () => void): void {
  ctx.server.keyspace.delete(key, {}, (error) => {
    if (error !== null) reply.error(kvErrorText(error));
    else reply.ok();
    done();
  });
}

/** Replies an rmw result that carries the key's old value (GETSET, GETDEL, GETEX, SET GET), counting the lookup. */
function replyReadRmw(ctx: CommandContext, result: RmwResult, reply: ReplyWriter, done: () => void): void {
  if (result.kind === 'bulk') countLookups(ctx, result.value === null ? 0 : 1, result.value === null ? 1 : 0);
  replyRmw(result, reply, done);
}

// ---------------------------------------------------------------------------------------------

const get = spec('get', 2, ['readonly', 'fast'], [1, 1, 1], [...READ, 'fast'], (ctx, args, reply, done) => {
  readKey(ctx, args[1]!, reply, done, (result) => {
    reply.bulk(isHit(result, ctx.server.nowMs()) ? result.value : null);
    done();
  });
});

const set = spec('set', -3, ['write', 'denyoom'], [1, 1, 1], [...WRITE, 'slow'], (ctx, args, reply, done) => {
  const options = parseStringOptions(args, 'set');
  if (typeof options === 'string') return replyError(reply, done, options);
  const now = ctx.server.nowMs();
  let atMs: bigint | null = null;
  if (options.expire !== null) {
    const at = expireAtFromOption(options.expire.option, options.expire.arg, now, 'set');
    if (typeof at === 'string') return replyError(reply, done, at);
    atMs = at;
  }
  const key = args[1]!;
  const value = args[2]!;
  if (!options.nx && !options.xx && !options.get && !options.keepTtl) {
    // A blind write: no need to read the key first.
    if (atMs === null) return plainSet(ctx, key, value, 0, reply, done);
    if (atMs <= BigInt(now)) return plainDeleteAsSet(ctx, key, reply, done);
    return plainSet(ctx, key, value, Number(atMs - BigInt(now)), reply, done);
  }
  const expiry: RmwExpiry = options.keepTtl ? { kind: 'keep' } : atMs === null ? { kind: 'none' } : { kind: 'at', atMs: Number(atMs) };
  const op: RmwOp = { op: 'set', value, expiry, condition: options.nx ? 'nx' : options.xx ? 'xx' : 'always', get: options.get };
  runRmw(ctx, [key], op, reply, done, (result) => (options.get ? replyReadRmw(ctx, result, reply, done) : replyRmw(result, reply, done)));
});

const setnx = spec('setnx', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], [...WRITE, 'fast'], (ctx, args, reply, done) => {
  const op: RmwOp = { op: 'set', value: args[2]!, expiry: { kind: 'none' }, condition: 'nx', get: false };
  runRmw(ctx, [args[1]!], op, reply, done, (result) => {
    reply.integer(result.kind === 'ok' ? 1 : 0);
    done();
  });
});

function setWithTtl(name: 'setex' | 'psetex'): CommandSpec {
  return spec(name, 4, ['write', 'denyoom'], [1, 1, 1], [...WRITE, 'slow'], (ctx, args, reply, done) => {
    const now = ctx.server.nowMs();
    const at = expireAtFromOption(name === 'setex' ? 'ex' : 'px', args[2]!, now, name);
    if (typeof at === 'string') return replyError(reply, done, at);
    plainSet(ctx, args[1]!, args[3]!, Number(at - BigInt(now)), reply, done);
  });
}

const getset = spec('getset', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], [...WRITE, 'fast'], (ctx, args, reply, done) => {
  const op: RmwOp = { op: 'set', value: args[2]!, expiry: { kind: 'none' }, condition: 'always', get: true };
  runRmw(ctx, [args[1]!], op, reply, done, (result) => replyReadRmw(ctx, result, reply, done));
});

const getdel = spec('getdel', 2, ['write', 'fast'], [1, 1, 1], [...WRITE, 'fast'], (ctx, args, reply, done) => {
  runRmw(ctx, [args[1]!], { op: 'getdel' }, reply, done, (result) => replyReadRmw(ctx, result, reply, done));
});

const getex = spec('getex', -2, ['write', 'fast'], [1, 1, 1], [...WRITE, 'fast'], (ctx, args, reply, done) => {
  const options = parseStringOptions(args, 'getex');
  if (typeof options === 'string') return replyError(reply, done, options);
  const key = args[1]!;
  let expiry: RmwExpiry | null = options.persist ? { kind: 'none' } : null;
  if (options.expire !== null) {
    const at = expireAtFromOption(options.expire.option, options.expire.arg, ctx.server.nowMs(), 'getex');
    if (typeof at === 'string') {
      // Redis looks the key up before it checks the time: a missing key answers nil, not the error.
      readKey(ctx, key, reply, done, (result) => {
        if (isHit(result, ctx.server.nowMs())) reply.error(at);
        else reply.bulk(null);
        done();
      });
      return;
    }
    expiry = { kind: 'at', atMs: Number(at) };
  }
  runRmw(ctx, [key], { op: 'getex', expiry }, reply, done, (result) => replyReadRmw(ctx, result, reply, done));
});

const mget = spec('mget', -2, ['readonly', 'fast'], [1, -1, 1], [...READ, 'fast'], (ctx, args, reply, done) => {
  readKeys(ctx, args.slice(1), reply, done, (results) => {
    const now = ctx.server.nowMs();
    reply.array(results.length);
    for (const result of results) reply.bulk(isHit(result, now) ? result.value : null);
    done();
  });
});

/** The pairs of MSET/MSETNX with a repeated key given once, with its last value (Redis's outcome). */
function lastValuePerKey(args: Uint8Array[]): { keys: Uint8Array[]; values: Uint8Array[] } {
  const pairs = new Map<string, [Uint8Array, Uint8Array]>();
  for (let j = 1; j + 1 < args.length; j += 2) {
    const key = args[j]!;
    const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    pairs.delete(id); // re-inserted: the key keeps its last position, so writes go out in order
    pairs.set(id, [key, args[j + 1]!]);
  }
  return { keys: [...pairs.values()].map((p) => p[0]), values: [...pairs.values()].map((p) => p[1]) };
}

const mset = spec('mset', -3, ['write', 'denyoom'], [1, -1, 2], [...WRITE, 'slow'], (ctx, args, reply, done) => {
  if (args.length % 2 === 0) return replyError(reply, done, wrongArity('mset'));
  const { keys, values } = lastValuePerKey(args);
  // One plain write per key, across partitions: not atomic (a failure leaves the keys written
  // before it written, and the writes not yet sent are not sent: the reply is an error anyway).
  let pending = keys.length;
  let failure: string | null = null;
  const answered = (error: KvError | null): void => {
    if (error !== null) failure ??= kvErrorText(error);
    if (--pending > 0) return;
    if (failure !== null) reply.error(failure);
    else reply.ok();
    done();
  };
  fanOut(
    keys.length,
    (i, next) =>
      ctx.server.keyspace.set(keys[i]!, values[i]!, {}, (error) => {
        // The answer first, so a failure is known before the next write would start.
        answered(error);
        next();
      }),
    () => ctx.connection.closed === true || failure !== null,
    () => answered(null),
  );
});

const msetnx = spec('msetnx', -3, ['write', 'denyoom'], [1, -1, 2], [...WRITE, 'slow'], (ctx, args, reply, done) => {
  const allKeys = args.filter((_, j) => j % 2 === 1);
  if (!inOneSlot(allKeys)) return replyError(reply, done, ERR_CROSSSLOT);
  if (args.length % 2 === 0) return replyError(reply, done, wrongArity('msetnx'));
  const { keys, values } = lastValuePerKey(args);
  runRmw(ctx, keys, { op: 'msetnx', values }, reply, done, (result) => replyRmw(result, reply, done));
});

const append = spec('append', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], [...WRITE, 'fast'], (ctx, args, reply, done) => {
  runRmw(ctx, [args[1]!], { op: 'append', value: args[2]! }, reply, done, (result) => replyRmw(result, reply, done));
});

const strlen = spec('strlen', 2, ['readonly', 'fast'], [1, 1, 1], [...READ, 'fast'], (ctx, args, reply, done) => {
  readKey(ctx, args[1]!, reply, done, (result) => {
    reply.integer(isHit(result, ctx.server.nowMs()) ? result.value!.length : 0);
    done();
  });
});

const getrange = spec('getrange', 4, ['readonly'], [1, 1, 1], [...READ, 'slow'], (ctx, args, reply, done) => {
  const start = parseInteger(args[2]!);
  const end = parseInteger(args[3]!);
  if (start === null || end === null) return replyError(reply, done, ERR_NOT_INTEGER);
  readKey(ctx, args[1]!, reply, done, (result) => {
    const value = isHit(result, ctx.server.nowMs()) ? result.value! : new Uint8Array(0);
    reply.bulk(substring(value, start, end));
    done();
  });
});

/** GETRANGE's slice: negative indexes count from the end, both ends inclusive and clamped. */
function substring(value: Uint8Array, start: bigint, end: bigint): Uint8Array {
  const length = BigInt(value.length);
  const empty = new Uint8Array(0);
  if (start < 0n && end < 0n && start > end) return empty;
  if (start < 0n) start += length;
  if (end < 0n) end += length;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= length) end = length - 1n;
  if (start > end || length === 0n) return empty;
  return value.subarray(Number(start), Number(end) + 1);
}

const setrange = spec('setrange', 4, ['write', 'denyoom'], [1, 1, 1], [...WRITE, 'slow'], (ctx, args, reply, done) => {
  const offset = parseInteger(args[2]!);
  if (offset === null) return replyError(reply, done, ERR_NOT_INTEGER);
  if (offset < 0n) return replyError(reply, done, 'ERR offset is out of range');
  // An offset past any possible value is still fine when nothing is written (the key decides the
  // reply); otherwise it is too large whatever the key holds. Number() only loses precision far
  // beyond the limit.
  runRmw(ctx, [args[1]!], { op: 'setrange', offset: Number(offset), value: args[3]! }, reply, done, (result) => replyRmw(result, reply, done));
});

function incrCommand(name: string, arity: number, sign: 1n | -1n, byArg: boolean): CommandSpec {
  return spec(name, arity, ['write', 'denyoom', 'fast'], [1, 1, 1], [...WRITE, 'fast'], (ctx, args, reply, done) => {
    let by = 1n;
    if (byArg) {
      const parsed = parseInteger(args[2]!);
      if (parsed === null) return replyError(reply, done, ERR_NOT_INTEGER);
      // Negating LLONG_MIN would overflow: Redis refuses it before looking at the key.
      if (sign === -1n && parsed === LLONG_MIN) return replyError(reply, done, 'ERR decrement would overflow');
      by = parsed;
    }
    runRmw(ctx, [args[1]!], { op: 'incrby', by: sign * by }, reply, done, (result) => replyRmw(result, reply, done));
  });
}

const incrbyfloat = spec('incrbyfloat', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], [...WRITE, 'fast'], (ctx, args, reply, done) => {
  const by = Buffer.from(args[2]!.buffer, args[2]!.byteOffset, args[2]!.byteLength).toString('latin1');
  runRmw(ctx, [args[1]!], { op: 'incrbyfloat', by }, reply, done, (result) => replyRmw(result, reply, done));
});

// ---------------------------------------------------------------------------------------------
// RENAME lives here too: it moves a string.

function renameCommand(name: 'rename' | 'renamenx'): CommandSpec {
  const nx = name === 'renamenx';
  const flags = nx ? ['write', 'fast'] : ['write'];
  const categories = nx ? ['keyspace', 'write', 'fast'] : ['keyspace', 'write', 'slow'];
  return spec(name, 3, flags, [1, 2, 1], categories, (ctx, args, reply, done) => {
    const source = args[1]!;
    const destination = args[2]!;
    if (!inOneSlot([source, destination])) return replyError(reply, done, ERR_CROSSSLOT);
    // To itself: one key, so the operation sees "same key" (rmw.ts) and moves nothing.
    const keys = bytesEqual(source, destination) ? [source] : [source, destination];
    runRmw(ctx, keys, { op: 'rename', nx }, reply, done, (result) => replyRmw(result, reply, done));
  });
}

// COPY too: it copies a string.

/** Redis 7.0's databases on a Redis Cluster node (16 by default): COPY ... DB parses an index within them. */
const REDIS_DATABASES = 16n;

const copy = spec('copy', -3, ['write', 'denyoom'], [1, 2, 1], ['keyspace', 'write', 'slow'], (ctx, args, reply, done) => {
  const source = args[1]!;
  const destination = args[2]!;
  if (!inOneSlot([source, destination])) return replyError(reply, done, ERR_CROSSSLOT);
  let replace = false;
  let db = 0n;
  for (let j = 3; j < args.length; j++) {
    if (isWord(args[j]!, 'replace')) replace = true;
    else if (isWord(args[j]!, 'db') && j + 1 < args.length) {
      const index = parseDbIndex(args[++j]!);
      if (typeof index === 'string') return replyError(reply, done, index);
      if (index < 0n || index >= REDIS_DATABASES) return replyError(reply, done, 'ERR DB index is out of range');
      db = index;
    } else return replyError(reply, done, ERR_SYNTAX);
  }
  // Shoal has database 0 only, and answers as a Redis Cluster node, which has no other either.
  if (db !== 0n) return replyError(reply, done, 'ERR Copying to another database is not allowed in cluster mode');
  if (bytesEqual(source, destination)) return replyError(reply, done, 'ERR source and destination objects are the same');
  runRmw(ctx, [source, destination], { op: 'copy', replace }, reply, done, (result) => {
    // Redis looks the source up as a read (a hit or a miss), the destination as a write (neither).
    const copied = result.kind === 'integer';
    countLookups(ctx, copied ? 1 : 0, copied ? 0 : 1);
    reply.integer(copied ? result.value : 0);
    done();
  });
});

export const stringCommands: readonly CommandSpec[] = [
  documented(get, { summary: 'Get the value of a key', since: '1.0.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(set, { summary: 'Set the string value of a key', since: '1.0.0', group: 'string', complexity: 'O(1)', history: [['2.6.12', 'Added the `EX`, `PX`, `NX` and `XX` options.'], ['6.0.0', 'Added the `KEEPTTL` option.'], ['6.2.0', 'Added the `GET`, `EXAT` and `PXAT` option.'], ['7.0.0', 'Allowed the `NX` and `GET` options to be used together.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'value', type: 'string' }, { name: 'condition', type: 'oneof', since: '2.6.12', flags: ['optional'], arguments: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }] }, { name: 'get', type: 'pure-token', token: 'GET', since: '6.2.0', flags: ['optional'] }, { name: 'expiration', type: 'oneof', flags: ['optional'], arguments: [{ name: 'seconds', type: 'integer', token: 'EX', since: '2.6.12' }, { name: 'milliseconds', type: 'integer', token: 'PX', since: '2.6.12' }, { name: 'unix-time-seconds', type: 'unix-time', token: 'EXAT', since: '6.2.0' }, { name: 'unix-time-milliseconds', type: 'unix-time', token: 'PXAT', since: '6.2.0' }, { name: 'keepttl', type: 'pure-token', token: 'KEEPTTL', since: '6.0.0' }] }] }),
  documented(setnx, { summary: 'Set the value of a key, only if the key does not exist', since: '1.0.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'value', type: 'string' }] }),
  documented(setWithTtl('setex'), { summary: 'Set the value and expiration of a key', since: '2.0.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'seconds', type: 'integer' }, { name: 'value', type: 'string' }] }),
  documented(setWithTtl('psetex'), { summary: 'Set the value and expiration in milliseconds of a key', since: '2.6.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'milliseconds', type: 'integer' }, { name: 'value', type: 'string' }] }),
  documented(getset, { summary: 'Set the string value of a key and return its old value', since: '1.0.0', group: 'string', complexity: 'O(1)', docFlags: ['deprecated'], deprecatedSince: '6.2.0', replacedBy: '`SET` with the `!GET` argument', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'value', type: 'string' }] }),
  documented(getdel, { summary: 'Get the value of a key and delete the key', since: '6.2.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(getex, { summary: 'Get the value of a key and optionally set its expiration', since: '6.2.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'expiration', type: 'oneof', flags: ['optional'], arguments: [{ name: 'seconds', type: 'integer', token: 'EX' }, { name: 'milliseconds', type: 'integer', token: 'PX' }, { name: 'unix-time-seconds', type: 'unix-time', token: 'EXAT' }, { name: 'unix-time-milliseconds', type: 'unix-time', token: 'PXAT' }, { name: 'persist', type: 'pure-token', token: 'PERSIST' }] }] }),
  documented(mget, { summary: 'Get the values of all the given keys', since: '1.0.0', group: 'string', complexity: 'O(N) where N is the number of keys to retrieve.', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0, flags: ['multiple'] }] }),
  documented(mset, { summary: 'Set multiple keys to multiple values', since: '1.0.1', group: 'string', complexity: 'O(N) where N is the number of keys to set.', arguments: [{ name: 'key_value', type: 'block', flags: ['multiple'], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'value', type: 'string' }] }] }),
  documented(msetnx, { summary: 'Set multiple keys to multiple values, only if none of the keys exist', since: '1.0.1', group: 'string', complexity: 'O(N) where N is the number of keys to set.', arguments: [{ name: 'key_value', type: 'block', flags: ['multiple'], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'value', type: 'string' }] }] }),
  documented(append, { summary: 'Append a value to a key', since: '2.0.0', group: 'string', complexity: 'O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'value', type: 'string' }] }),
  documented(strlen, { summary: 'Get the length of the value stored in a key', since: '2.2.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(getrange, { summary: 'Get a substring of the string stored at a key', since: '2.4.0', group: 'string', complexity: 'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'start', type: 'integer' }, { name: 'end', type: 'integer' }] }),
  documented(setrange, { summary: 'Overwrite part of a string at key starting at the specified offset', since: '2.2.0', group: 'string', complexity: 'O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'offset', type: 'integer' }, { name: 'value', type: 'string' }] }),
  documented(incrCommand('incr', 2, 1n, false), { summary: 'Increment the integer value of a key by one', since: '1.0.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(incrCommand('decr', 2, -1n, false), { summary: 'Decrement the integer value of a key by one', since: '1.0.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }] }),
  documented(incrCommand('incrby', 3, 1n, true), { summary: 'Increment the integer value of a key by the given amount', since: '1.0.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'increment', type: 'integer' }] }),
  documented(incrCommand('decrby', 3, -1n, true), { summary: 'Decrement the integer value of a key by the given number', since: '1.0.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'decrement', type: 'integer' }] }),
  documented(incrbyfloat, { summary: 'Increment the float value of a key by the given amount', since: '2.6.0', group: 'string', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'increment', type: 'double' }] }),
  documented(renameCommand('rename'), { summary: 'Rename a key', since: '1.0.0', group: 'generic', complexity: 'O(1)', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'newkey', type: 'key', keySpecIndex: 1 }] }),
  documented(renameCommand('renamenx'), { summary: 'Rename a key, only if the new key does not exist', since: '1.0.0', group: 'generic', complexity: 'O(1)', history: [['3.2.0', 'The command no longer returns an error when source and destination names are the same.']], arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'newkey', type: 'key', keySpecIndex: 1 }] }),
  documented(copy, { summary: 'Copy a key', since: '6.2.0', group: 'generic', complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.', arguments: [{ name: 'source', type: 'key', keySpecIndex: 0 }, { name: 'destination', type: 'key', keySpecIndex: 1 }, { name: 'destination-db', type: 'integer', token: 'DB', flags: ['optional'] }, { name: 'replace', type: 'pure-token', token: 'REPLACE', flags: ['optional'] }] }),
];

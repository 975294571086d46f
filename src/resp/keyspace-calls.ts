/**
 * How keyspace commands call the node's keyspace (KvService for plain reads and writes, RmwService
 * for read-modify-write) and turn its failures into one Redis error reply. Multi-key reads and
 * deletes fan out: one call per key (reads) or per partition (read-modify-write), answered once
 * all have come back.
 */
import type { GetOptions, GetResult, KvError, RmwOp, RmwResult } from '../replication/api.ts';
import { partitionOf } from '../ring/partition.ts';
import { keySlot } from '../ring/slots.ts';
import { kvErrorText, rmwErrorText } from './args.ts';
import type { CommandContext, CommandSpec, ReplyWriter } from './command.ts';

/** A command's spec in one line: name, Redis's arity, flags, key positions, ACL categories, run. */
export function commandSpec(
  name: string,
  arity: number,
  flags: string[],
  keys: [number, number, number],
  categories: string[],
  run: CommandSpec['run'],
): CommandSpec {
  return { name, arity, flags, keys, categories, run };
}

/** Writes an error reply and finishes the command. */
export function replyError(reply: ReplyWriter, done: () => void, text: string | Uint8Array): void {
  reply.error(text);
  done();
}

/**
 * Calls one command keeps unanswered at most: a 10,000-key MGET or MSET goes out in waves instead
 * of all at once, so it does not flood the replicas (and time out its own reads) on a busy node,
 * nor crowd out other clients' requests.
 */
export const MAX_CALLS_IN_FLIGHT = 128;

/**
 * Starts call(0), call(1), ... call(count - 1) in order, at most MAX_CALLS_IN_FLIGHT unanswered at
 * once; each call must invoke its `answered` exactly once (synchronously is fine: no recursion).
 * Once `abandoned()` is true (the client has gone, or a call failed and the reply is an error
 * whatever the others answer), the calls not started yet are not made: `skip(index)` instead.
 * Before, three clients that sent EXISTS of 300,000 keys and closed kept their node reading
 * for 7 minutes (probe-redis, /work/notes/s19).
 */
export function fanOut(count: number, call: (index: number, answered: () => void) => void, abandoned: () => boolean = () => false, skip: (index: number) => void = () => {}): void {
  let next = 0;
  let inFlight = 0;
  let pumping = false;
  const answered = (): void => {
    inFlight--;
    pump();
  };
  const pump = (): void => {
    if (pumping) return; // an answer arrived inside a call: the loop below goes on
    pumping = true;
    while (inFlight < MAX_CALLS_IN_FLIGHT && next < count) {
      if (abandoned()) {
        while (next < count) skip(next++);
        break;
      }
      inFlight++;
      call(next++, answered);
    }
    pumping = false;
  };
  pump();
}

/** The error a call skipped by an abandoned fan-out answers with (never seen: the reply is already an error, or nobody reads it). */
const ABANDONED: KvError = { code: 'unavailable', message: 'not sent: the command already failed, or its client went away' };

/**
 * Gathers `count` callbacks; the first error wins and is reported once, after all have answered.
 * `failed()` says whether one has failed yet; `skipped(index)` answers a call fanOut did not make.
 */
function gather<T>(count: number, finish: (error: KvError | null, results: T[]) => void): { answer: (index: number) => (error: KvError | null, result?: T) => void; failed: () => boolean; skipped: (index: number) => void } {
  const results = new Array<T>(count);
  let pending = count;
  let firstError: KvError | null = null;
  if (count === 0) finish(null, results);
  const answer = (index: number) => (error: KvError | null, result?: T) => {
    if (error !== null) firstError ??= error;
    else results[index] = result as T;
    if (--pending === 0) finish(firstError, results);
  };
  return { answer, failed: () => firstError !== null, skipped: (index) => answer(index)(ABANDONED) };
}

/** Whether a multi-key command's remaining calls are not worth making: its client has gone, or one already failed. */
function abandonedBy(ctx: CommandContext, failed: () => boolean): () => boolean {
  return () => ctx.connection.closed === true || failed();
}

/**
 * Reads one key; on failure writes the error reply and calls done. What readKeys does for one key,
 * without its gathering (a GET is the commonest command: no result array, fan-out or per-call closures).
 * `options.peek`: a lookup that is no use of the key (OBJECT; GetOptions.peek), still counted in
 * keyspace_hits/misses as Redis counts its LOOKUP_NOTOUCH lookups.
 */
export function readKey(ctx: CommandContext, key: Uint8Array, reply: ReplyWriter, done: () => void, then: (result: GetResult) => void, options: GetOptions = {}): void {
  // As fanOut: no call for a client that has gone (nobody reads the reply).
  if (ctx.connection.closed === true) return replyError(reply, done, kvErrorText(ABANDONED));
  ctx.server.keyspace.get(key, options, (error, result) => {
    if (error !== null || result === undefined) {
      reply.error(kvErrorText(error ?? { code: 'unavailable', message: 'no result from the keyspace' }));
      done();
      return;
    }
    const hit = isHit(result, ctx.server.nowMs());
    countLookups(ctx, hit ? 1 : 0, hit ? 0 : 1);
    then(result);
  });
}

/** Reads every key (in parallel); `then` gets the results in the order of the keys. */
export function readKeys(ctx: CommandContext, keys: Uint8Array[], reply: ReplyWriter, done: () => void, then: (results: GetResult[]) => void): void {
  const { answer, failed, skipped } = gather<GetResult>(keys.length, (error, results) => {
    if (error !== null) {
      reply.error(kvErrorText(error));
      done();
      return;
    }
    const now = ctx.server.nowMs();
    const hits = results.filter((r) => isHit(r, now)).length;
    countLookups(ctx, hits, results.length - hits);
    then(results);
  });
  fanOut(
    keys.length,
    (i, answered) =>
      ctx.server.keyspace.get(keys[i]!, {}, (error, result) => {
        // The answer first, so a failure is known before the next call would start.
        answer(i)(error, result);
        answered();
      }),
    abandonedBy(ctx, failed),
    skipped,
  );
}

/**
 * Counts lookups for INFO's keyspace_hits/keyspace_misses as Redis does: reads count (GET, MGET,
 * EXISTS, TTL, ..., and the read half of GETSET, GETDEL, GETEX, SET GET); pure writes do not.
 */
export function countLookups(ctx: CommandContext, hits: number, misses: number): void {
  ctx.server.stats.keyspaceHits += hits;
  ctx.server.stats.keyspaceMisses += misses;
}

/** Whether a read found a live value (an expiry at or before now counts as gone). */
export function isHit(result: GetResult, nowMs: number): boolean {
  return result.value !== null && (result.expiresAtMs === null || result.expiresAtMs > nowMs);
}

/**
 * Runs a read-modify-write on keys of one partition. An error (from the keyspace, or the op's own
 * such as "not an integer") is replied here; `then` gets the other results.
 */
export function runRmw(ctx: CommandContext, keys: Uint8Array[], op: RmwOp, reply: ReplyWriter, done: () => void, then: (result: RmwResult) => void): void {
  ctx.server.keyspace.rmw(keys, op, {}, (error, result) => {
    if (error !== null || result === undefined) {
      reply.error(error === null ? 'ERR no result from the keyspace' : kvErrorText(error));
      done();
      return;
    }
    if (result.kind === 'error') {
      reply.error(rmwErrorText(result.code));
      done();
      return;
    }
    then(result);
  });
}

/** Writes the natural reply of an rmw result (ok, integer, bulk) and calls done. */
export function replyRmw(result: RmwResult, reply: ReplyWriter, done: () => void): void {
  if (result.kind === 'ok') reply.ok();
  else if (result.kind === 'integer') reply.integer(result.value);
  else if (result.kind === 'bulk') reply.bulk(result.value);
  else reply.error(rmwErrorText(result.code));
  done();
}

/** The partition of a key in this node's ring. */
export function partitionOfKey(ctx: CommandContext, key: Uint8Array): number {
  return partitionOf(key, ctx.server.topology().partitions);
}

/** The distinct keys (by bytes) grouped by partition, in order of first appearance. */
export function distinctKeysByPartition(ctx: CommandContext, keys: Uint8Array[]): Uint8Array[][] {
  const groups = new Map<number, Map<string, Uint8Array>>();
  for (const key of keys) {
    const partition = partitionOfKey(ctx, key);
    let group = groups.get(partition);
    if (group === undefined) groups.set(partition, (group = new Map()));
    const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    if (!group.has(id)) group.set(id, key);
  }
  return [...groups.values()].map((group) => [...group.values()]);
}

/**
 * A read-modify-write per partition group (not atomic across partitions), then the sum of their
 * integer results: DEL and UNLINK over keys anywhere in the cluster.
 */
export function rmwSumByPartition(ctx: CommandContext, keys: Uint8Array[], op: RmwOp, reply: ReplyWriter, done: () => void): void {
  const groups = distinctKeysByPartition(ctx, keys);
  const { answer, failed, skipped } = gather<RmwResult>(groups.length, (error, results) => {
    if (error !== null) {
      reply.error(kvErrorText(error));
      done();
      return;
    }
    let sum = 0n;
    for (const result of results) {
      if (result.kind === 'error') {
        reply.error(rmwErrorText(result.code));
        done();
        return;
      }
      if (result.kind === 'integer') sum += result.value;
    }
    reply.integer(sum);
    done();
  });
  fanOut(
    groups.length,
    (i, answered) =>
      ctx.server.keyspace.rmw(groups[i]!, op, {}, (error, result) => {
        // The answer first, so a failure is known before the next call would start.
        answer(i)(error, result);
        answered();
      }),
    abandonedBy(ctx, failed),
    skipped,
  );
}

/**
 * Whether all keys hash to one Redis Cluster slot, which RENAME and MSETNX need (they answer
 * CROSSSLOT otherwise, as Redis Cluster does). Keys of one slot are always in one partition.
 */
export function inOneSlot(keys: Uint8Array[]): boolean {
  const slot = keySlot(keys[0]!);
  // Keys of one slot share a partition for any partition count, which the rmw needs.
  return keys.every((key) => keySlot(key) === slot);
}

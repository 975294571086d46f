/**
 * The commands that iterate the keyspace, cluster-wide: SCAN, KEYS, DBSIZE, RANDOMKEY, FLUSHALL,
 * FLUSHDB, and the CLUSTER subcommands COUNTKEYSINSLOT and GETKEYSINSLOT (exported as subcommand
 * specs for the CLUSTER command, which resp-cluster owns). Every one walks partitions through the
 * node's ScanService (replication/scan.ts); costs and guarantees are in docs/REDIS.md, "Iterating
 * the keyspace". Arity, flags, key positions and categories are Redis 7.0.15's COMMAND INFO.
 */
import { parseRedisInteger } from '../replication/redis-numbers.ts';
import type { KeyspaceService } from '../replication/api.ts';
import { keySlot, SLOT_COUNT, slotToPartition } from '../ring/slots.ts';
import { documented, type CommandContext, type CommandSpec, type ReplyWriter } from './command.ts';
import {
  countKeys,
  cursorPosition,
  encodeCursor,
  KeyspaceFailure,
  keyspaceErrorText,
  mapLimited,
  parseCursor,
  partitionKeys,
  range,
  scanPage,
  WALK_WINDOW,
} from './keyspace-walk.ts';

const SYNTAX_ERROR = 'ERR syntax error';
const NOT_AN_INTEGER = 'ERR value is not an integer or out of range';
/** Redis's LONG_MAX: the largest COUNT getLongFromObjectOrReply accepts. */
const LONG_MAX = (1n << 63n) - 1n;
/**
 * Partitions one SCAN call visits at most (besides stopping at COUNT keys looked at): this many,
 * or COUNT * 10 if more (Redis visits at most COUNT * 10 buckets per call).
 */
const SCAN_MIN_PARTITIONS = 64;
/** Counts asked at once by DBSIZE. */
const COUNT_WINDOW = 64;
/** Deletes in flight at once during FLUSHALL. */
const FLUSH_DELETES_IN_FLIGHT = 64;

const ascii = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
const is = (bytes: Uint8Array, word: string): boolean => bytes.length === word.length && ascii(bytes).toLowerCase() === word;

/** Runs an async command body: an uncaught keyspace failure becomes its error reply. */
function runAsync(reply: ReplyWriter, done: () => void, body: () => Promise<void>): void {
  body().then(done, (error: unknown) => {
    if (error instanceof KeyspaceFailure) reply.error(keyspaceErrorText(error.error));
    else reply.error(`ERR ${error instanceof Error ? error.message : String(error)}`);
    done();
  });
}

// ---- SCAN ---------------------------------------------------------------------------------

export interface ScanArguments {
  count: number;
  match: Uint8Array | undefined;
  /** TYPE, lower-cased; every Shoal value is a string. */
  type: string | undefined;
}

/** SCAN's options in Redis's order of checks; a string is the error reply. */
function parseScanOptions(args: Uint8Array[]): ScanArguments | string {
  const out: ScanArguments = { count: 10, match: undefined, type: undefined };
  for (let i = 2; i < args.length; i += 2) {
    const word = args[i]!;
    const hasValue = args.length - i >= 2;
    if (hasValue && is(word, 'count')) {
      const n = parseRedisInteger(args[i + 1]!);
      if (n === null || n > LONG_MAX) return NOT_AN_INTEGER;
      if (n < 1n) return SYNTAX_ERROR;
      // Larger than any partition walk could use; a double keeps it exact enough.
      out.count = Number(n > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : n);
    } else if (hasValue && is(word, 'match')) {
      const pattern = args[i + 1]!;
      // Exactly "*" matches everything: no pattern.
      out.match = pattern.length === 1 && pattern[0] === 0x2a ? undefined : pattern.slice();
    } else if (hasValue && is(word, 'type')) {
      out.type = ascii(args[i + 1]!).toLowerCase();
    } else {
      return SYNTAX_ERROR;
    }
  }
  return out;
}

/**
 * One SCAN step from (partition, position): partitions are read a window at a time, each page
 * asking for the keys still wanted; the step ends once COUNT keys were looked at, the partitions
 * visited reach max(SCAN_MIN_PARTITIONS, COUNT * 10), or the keyspace ends. A partition that fails after the step
 * moved past its first partition ends the step there (the cursor points at it, so the client's
 * next call retries it); the first partition failing fails the step.
 */
export async function scanStep(keyspace: KeyspaceService, partitions: number, start: { partition: number; position: number }, options: ScanArguments): Promise<{ cursor: string; keys: Uint8Array[] }> {
  const keys: Uint8Array[] = [];
  let examined = 0;
  let partition = start.partition;
  let position = start.position;
  const last = Math.min(partitions, start.partition + Math.max(SCAN_MIN_PARTITIONS, options.count * 10));
  while (partition < last) {
    const window = range(Math.min(WALK_WINDOW, last - partition)).map((i) => partition + i);
    const wanted = options.count - examined;
    const pages = await Promise.allSettled(window.map((p) => scanPage(keyspace, p, p === partition ? position : 0, wanted, options.match)));
    for (let i = 0; i < window.length; i++) {
      const p = window[i]!;
      const settled = pages[i]!;
      if (settled.status === 'rejected') {
        // Nothing gained yet: fail (the client retries the same cursor). Otherwise stop before it.
        if (p === start.partition) throw settled.reason;
        return { cursor: encodeCursor(p, p === partition ? position : 0, partitions), keys };
      }
      const page = settled.value;
      examined += page.examined ?? page.keys.length;
      if (options.type === undefined || options.type === 'string') for (const key of page.keys) keys.push(key);
      if (page.next !== null) return { cursor: encodeCursor(p, page.next, partitions), keys };
      if (examined >= options.count) return { cursor: encodeCursor(p + 1, 0, partitions), keys };
    }
    partition += window.length;
    position = 0;
  }
  return { cursor: encodeCursor(partition, 0, partitions), keys };
}

export const scanCommand: CommandSpec = {
  name: 'scan',
  arity: -2,
  flags: ['readonly'],
  keys: [0, 0, 0],
  categories: ['keyspace', 'read', 'slow'],
  run(ctx, args, reply, done) {
    const cursor = parseCursor(args[1]!);
    if (cursor === null) {
      reply.error('ERR invalid cursor');
      return done();
    }
    const options = parseScanOptions(args);
    if (typeof options === 'string') {
      reply.error(options);
      return done();
    }
    const partitions = ctx.server.topology().partitions;
    const start = cursorPosition(cursor, partitions);
    runAsync(reply, done, async () => {
      const step = start === null ? { cursor: '0', keys: [] } : await scanStep(ctx.server.keyspace, partitions, start, options);
      reply.array(2);
      reply.bulk(step.cursor);
      reply.array(step.keys.length);
      for (const key of step.keys) reply.bulk(key);
    });
  },
};

// ---- KEYS, DBSIZE, RANDOMKEY --------------------------------------------------------------

export const keysCommand: CommandSpec = {
  name: 'keys',
  arity: 2,
  flags: ['readonly'],
  keys: [0, 0, 0],
  categories: ['keyspace', 'read', 'slow', 'dangerous'],
  run(ctx, args, reply, done) {
    const pattern = args[1]!;
    const match = pattern.length === 1 && pattern[0] === 0x2a ? undefined : pattern.slice();
    const keyspace = ctx.server.keyspace;
    runAsync(reply, done, async () => {
      // Every partition, read whole: the cost is the whole keyspace, as in Redis.
      const perPartition = await mapLimited(range(ctx.server.topology().partitions), WALK_WINDOW, (p) => partitionKeys(keyspace, p, match));
      const total = perPartition.reduce((n, keys) => n + keys.length, 0);
      reply.array(total);
      for (const keys of perPartition) for (const key of keys) reply.bulk(key);
    });
  },
};

export const dbsizeCommand: CommandSpec = {
  name: 'dbsize',
  arity: 1,
  flags: ['readonly', 'fast'],
  keys: [0, 0, 0],
  categories: ['keyspace', 'read', 'fast'],
  run(ctx, _args, reply, done) {
    const keyspace = ctx.server.keyspace;
    runAsync(reply, done, async () => {
      const counts = await mapLimited(range(ctx.server.topology().partitions), COUNT_WINDOW, (p) => countKeys(keyspace, p));
      reply.integer(counts.reduce((a, b) => a + b, 0));
    });
  },
};

/** A key of `partition` at or after a random position (wrapping to the start), or null when it is empty. */
async function randomKeyIn(keyspace: KeyspaceService, partition: number, position: number): Promise<Uint8Array | null> {
  const page = await scanPage(keyspace, partition, position, 1, undefined);
  if (page.keys.length > 0) return page.keys[0]!;
  if (position === 0) return null;
  const wrapped = await scanPage(keyspace, partition, 0, 1, undefined);
  return wrapped.keys[0] ?? null;
}

export const randomkeyCommand: CommandSpec = {
  name: 'randomkey',
  arity: 1,
  flags: ['readonly'],
  keys: [0, 0, 0],
  categories: ['keyspace', 'read', 'slow'],
  run(ctx, _args, reply, done) {
    const keyspace = ctx.server.keyspace;
    const partitions = ctx.server.topology().partitions;
    // A random partition, then partitions after it a window at a time until one holds a key.
    const first = Math.floor(Math.random() * partitions);
    runAsync(reply, done, async () => {
      for (let offset = 0; offset < partitions; offset += WALK_WINDOW) {
        const window = range(Math.min(WALK_WINDOW, partitions - offset)).map((i) => (first + offset + i) % partitions);
        const found = await Promise.all(window.map((p) => randomKeyIn(keyspace, p, Math.floor(Math.random() * 0x1_0000_0000))));
        const key = found.find((k) => k !== null);
        if (key) {
          reply.bulk(key);
          return;
        }
      }
      reply.bulk(null);
    });
  },
};

// ---- FLUSHALL, FLUSHDB --------------------------------------------------------------------

/**
 * Deletes every key. By flush floor when the node offers it and every member can take one
 * (replication/flush.ts): every record older than now is deleted on every member, the ones that
 * are down included (docs/REDIS.md). Otherwise (a cluster mid-upgrade with older members) key by key:
 * returns how many deletes failed.
 */
export async function deleteEverything(keyspace: KeyspaceService, partitions: number): Promise<{ failed: number; firstError: string | null }> {
  const { flushAll, canFlush } = keyspace;
  if (flushAll !== undefined && canFlush?.() === true) {
    // One failure stands for the whole flush: not every live member acknowledged its floor.
    return new Promise((resolve) => flushAll((error) => resolve(error ? { failed: 1, firstError: error.message } : { failed: 0, firstError: null })));
  }
  return deleteKeyByKey(keyspace, partitions);
}

/**
 * Deletes every key, partition by partition, through the ordinary delete path (a tombstone with a
 * fresh version at each owner, hints for owners that are down), so replicas and hints agree.
 * The keys are listed by every live owner, not a read quorum: a key one owner holds and the
 * others do not (evicted there, or a write that reached one) is deleted too; a key held only by an
 * owner that is down is not. Not atomic: see docs/REDIS.md. Returns how many deletes failed.
 */
async function deleteKeyByKey(keyspace: KeyspaceService, partitions: number): Promise<{ failed: number; firstError: string | null }> {
  let failed = 0;
  let firstError: string | null = null;
  await mapLimited(range(partitions), WALK_WINDOW, async (p) => {
    const keys = await partitionKeys(keyspace, p, undefined, true);
    await mapLimited(keys, Math.max(1, Math.floor(FLUSH_DELETES_IN_FLIGHT / WALK_WINDOW)), (key) => new Promise<void>((resolve) => {
      keyspace.delete(key, {}, (error) => {
        if (error) {
          failed++;
          firstError ??= error.message;
        }
        resolve();
      });
    }));
  });
  return { failed, firstError };
}

function flushCommand(name: 'flushall' | 'flushdb'): CommandSpec {
  return {
    name,
    arity: -1,
    flags: ['write'],
    keys: [0, 0, 0],
    categories: ['keyspace', 'write', 'slow', 'dangerous'],
    run(ctx, args, reply, done) {
      // SYNC and ASYNC both answer once every key is deleted: answering earlier would let the
      // client read keys it has just flushed.
      if (args.length > 2 || (args.length === 2 && !is(args[1]!, 'sync') && !is(args[1]!, 'async'))) {
        reply.error(SYNTAX_ERROR);
        return done();
      }
      runAsync(reply, done, async () => {
        const { failed, firstError } = await deleteEverything(ctx.server.keyspace, ctx.server.topology().partitions);
        if (failed === 0) reply.ok();
        else reply.error(`TRYAGAIN the flush did not complete (${failed} failed; first error: ${firstError}); run ${name.toUpperCase()} again`);
      });
    },
  };
}

export const flushallCommand = flushCommand('flushall');
export const flushdbCommand = flushCommand('flushdb');

// ---- CLUSTER COUNTKEYSINSLOT, GETKEYSINSLOT -----------------------------------------------

/** Redis Cluster's hash slots. */
export const CLUSTER_SLOTS = SLOT_COUNT;

/** How Redis Cluster slots map onto this cluster's partitions (src/ring/slots.ts; tests may stand in). */
export interface SlotMapping {
  /** The key's hash slot: CRC16 of the key or its {hash tag}, mod 16384. */
  keySlot(key: Uint8Array): number;
  /** The partition that holds slot `slot` (slot >> 4 for 1024 partitions). */
  partitionOfSlot(slot: number, partitions: number): number;
}

/** The cluster's own mapping: ring/slots.ts. */
export const RING_SLOTS: SlotMapping = { keySlot: (key) => keySlot(key), partitionOfSlot: slotToPartition };

/** A CLUSTER subcommand: `args[0]` is CLUSTER, `args[1]` the subcommand; arity counts both, as COMMAND INFO's does. */
export type ClusterSubcommand = CommandSpec;

async function keysInSlot(ctx: CommandContext, slots: SlotMapping, slot: number): Promise<Uint8Array[]> {
  const partition = slots.partitionOfSlot(slot, ctx.server.topology().partitions);
  const keys = await partitionKeys(ctx.server.keyspace, partition, undefined);
  return keys.filter((key) => slots.keySlot(key) === slot);
}

/** Redis's getLongLongFromObjectOrReply. */
function longLong(bytes: Uint8Array): bigint | null {
  return parseRedisInteger(bytes);
}

/** CLUSTER COUNTKEYSINSLOT slot: the keys of the slot's partition whose slot it is. */
export function countKeysInSlotCommand(slots: SlotMapping = RING_SLOTS): ClusterSubcommand {
  return {
    name: 'countkeysinslot',
    arity: 3,
    flags: ['stale'],
    keys: [0, 0, 0],
    categories: ['slow'],
    run(ctx, args, reply, done) {
      const slot = longLong(args[2]!);
      if (slot === null) {
        reply.error(NOT_AN_INTEGER);
        return done();
      }
      if (slot < 0n || slot >= BigInt(CLUSTER_SLOTS)) {
        reply.error('ERR Invalid slot');
        return done();
      }
      runAsync(reply, done, async () => {
        reply.integer((await keysInSlot(ctx, slots, Number(slot))).length);
      });
    },
  };
}

/** CLUSTER GETKEYSINSLOT slot count: up to `count` keys of the slot (in scan-hash order). */
export function getKeysInSlotCommand(slots: SlotMapping = RING_SLOTS): ClusterSubcommand {
  return {
    name: 'getkeysinslot',
    arity: 4,
    flags: ['stale'],
    keys: [0, 0, 0],
    categories: ['slow'],
    run(ctx, args, reply, done) {
      const slot = longLong(args[2]!);
      if (slot === null) {
        reply.error(NOT_AN_INTEGER);
        return done();
      }
      const max = longLong(args[3]!);
      if (max === null) {
        reply.error(NOT_AN_INTEGER);
        return done();
      }
      if (slot < 0n || slot >= BigInt(CLUSTER_SLOTS) || max < 0n) {
        reply.error('ERR Invalid slot or number of keys');
        return done();
      }
      runAsync(reply, done, async () => {
        const keys = await keysInSlot(ctx, slots, Number(slot));
        const n = max < BigInt(keys.length) ? Number(max) : keys.length;
        reply.array(n);
        for (let i = 0; i < n; i++) reply.bulk(keys[i]!);
      });
    },
  };
}

/**
 * CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT, for the CLUSTER command's `subcommands` (the CLUSTER
 * command itself, with its other subcommands, is the cluster module's).
 */
export const clusterKeyspaceSubcommands: readonly ClusterSubcommand[] = [countKeysInSlotCommand(), getKeysInSlotCommand()];

/** The top-level commands of this module, for the command table (commands.ts). */
export const keyspaceCommands: readonly CommandSpec[] = [
  documented(scanCommand, { summary: 'Incrementally iterate the keys space', since: '2.8.0', group: 'generic', complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.', history: [['6.0.0', 'Added the `TYPE` subcommand.']], arguments: [{ name: 'cursor', type: 'integer' }, { name: 'pattern', type: 'pattern', token: 'MATCH', flags: ['optional'] }, { name: 'count', type: 'integer', token: 'COUNT', flags: ['optional'] }, { name: 'type', type: 'string', token: 'TYPE', since: '6.0.0', flags: ['optional'] }] }),
  documented(keysCommand, { summary: 'Find all keys matching the given pattern', since: '1.0.0', group: 'generic', complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.', arguments: [{ name: 'pattern', type: 'pattern' }] }),
  documented(dbsizeCommand, { summary: 'Return the number of keys in the selected database', since: '1.0.0', group: 'server', complexity: 'O(1)' }),
  documented(randomkeyCommand, { summary: 'Return a random key from the keyspace', since: '1.0.0', group: 'generic', complexity: 'O(1)' }),
  documented(flushallCommand, { summary: 'Remove all keys from all databases', since: '1.0.0', group: 'server', complexity: 'O(N) where N is the total number of keys in all databases', history: [['4.0.0', 'Added the `ASYNC` flushing mode modifier.'], ['6.2.0', 'Added the `SYNC` flushing mode modifier.']], arguments: [{ name: 'async', type: 'oneof', flags: ['optional'], arguments: [{ name: 'async', type: 'pure-token', token: 'ASYNC', since: '4.0.0' }, { name: 'sync', type: 'pure-token', token: 'SYNC', since: '6.2.0' }] }] }),
  documented(flushdbCommand, { summary: 'Remove all keys from the current database', since: '1.0.0', group: 'server', complexity: 'O(N) where N is the number of keys in the selected database', history: [['4.0.0', 'Added the `ASYNC` flushing mode modifier.'], ['6.2.0', 'Added the `SYNC` flushing mode modifier.']], arguments: [{ name: 'async', type: 'oneof', flags: ['optional'], arguments: [{ name: 'async', type: 'pure-token', token: 'ASYNC', since: '4.0.0' }, { name: 'sync', type: 'pure-token', token: 'SYNC', since: '6.2.0' }] }] }),
];

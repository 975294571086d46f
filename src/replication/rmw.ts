/**
 * Read-modify-write operations: what INCR, APPEND, SETNX, SET NX/XX/GET, GETSET, GETDEL, GETEX,
 * EXPIRE NX/XX/GT/LT, PERSIST, DEL, RENAME, COPY and MSETNX do to the records of their keys.
 *
 * An operation runs on the primary of its keys' partition (the first live owner), serialised
 * there by the partition's actor, and its writes go to the replicas with a fresh version and the
 * partition's ownership epoch (docs/REPLICATION.md, "Read-modify-write"). Every key of one
 * operation is in one partition: the caller checks (the RESP layer answers CROSSSLOT otherwise).
 *
 * The operation is data, not code, so it can travel to the primary in a replication message and
 * be applied there by `applyRmw`, a pure function of the operation, the current records and the
 * time: the same inputs give the same writes on every node and in the simulator.
 *
 * Semantics follow Redis 7.0 (the RESP front end maps results and errors to Redis's replies); the
 * SDK maps the same results to its own types.
 */

import {
  addLongDouble,
  asciiBytes,
  formatLongDoubleHuman,
  formatRedisInteger,
  isInt64,
  parseRedisInteger,
  parseRedisLongDouble,
} from './redis-numbers.ts';
import type { WrittenAs } from './record.ts';

/** The expiry a write leaves on its key. */
export type RmwExpiry =
  /** Keep the key's current expiry (KEEPTTL; INCR, APPEND and SETRANGE always keep it). */
  | { kind: 'keep' }
  /** No expiry (SET without a TTL option; PERSIST; GETEX PERSIST). */
  | { kind: 'none' }
  /** Expire at this absolute wall time in ms; a time not after now deletes the key (as Redis does). */
  | { kind: 'at'; atMs: number };

export type RmwOp =
  /** INCR, DECR, INCRBY, DECRBY: add `by` to the 64-bit signed integer value (absent = 0). Result: integer. */
  | { op: 'incrby'; by: bigint }
  /** INCRBYFLOAT: `by` is the argument as given (Redis parses it as a long double). Result: bulk (the new value). */
  | { op: 'incrbyfloat'; by: string }
  /** APPEND. Result: integer (the new length). */
  | { op: 'append'; value: Uint8Array }
  /** SETRANGE (offset already checked to be >= 0). Result: integer (the new length). */
  | { op: 'setrange'; offset: number; value: Uint8Array }
  /**
   * SET with NX/XX/GET, SETNX, GETSET. Result: with `get`, bulk (the old value, or null); without,
   * `ok` when written, or bulk null when the condition failed (as Redis replies nil).
   */
  | { op: 'set'; value: Uint8Array; expiry: RmwExpiry; condition: 'always' | 'nx' | 'xx'; get: boolean }
  /** GETDEL. Result: bulk (the value, or null). */
  | { op: 'getdel' }
  /** GETEX; `expiry` null changes nothing. Result: bulk. */
  | { op: 'getex'; expiry: RmwExpiry | null }
  /**
   * EXPIRE family (times already made absolute). `xx`: XX was given with GT or LT, so the key must
   * also have an expiry. Result: integer 1 (set, or deleted by a past time) or 0.
   */
  | { op: 'expire'; atMs: number; condition: 'always' | 'nx' | 'xx' | 'gt' | 'lt'; xx?: boolean }
  /** PERSIST. Result: integer 1 (a TTL was removed) or 0. */
  | { op: 'persist' }
  /** DEL/UNLINK of every key given. Result: integer (how many existed). */
  | { op: 'del' }
  /** RENAME/RENAMENX: keys are [source, destination]. Result: `ok` (RENAME), integer 1/0 (RENAMENX); error no-such-key. */
  | { op: 'rename'; nx: boolean }
  /**
   * COPY: keys are [source, destination], distinct (the RESP layer refuses a copy to itself). The
   * destination takes the source's value and expiry; without `replace`, only when it is absent.
   * Result: integer 1 (copied), integer 0 (the destination exists), or bulk null (no source: Redis
   * answers 0 too, and counts a keyspace miss where the other two count a hit).
   */
  | { op: 'copy'; replace: boolean }
  /** MSETNX: values in the order of the keys. Result: integer 1 (all set) or 0 (none set). */
  | { op: 'msetnx'; values: Uint8Array[] };

/** Why an operation failed without writing anything (the RESP layer maps each to Redis's error text). */
export type RmwErrorCode =
  /** "value is not an integer or out of range" */
  | 'not-integer'
  /** "increment or decrement would overflow" */
  | 'overflow'
  /** "value is not a valid float" */
  | 'not-float'
  /** "increment would produce NaN or Infinity" */
  | 'nan-or-infinity'
  /** "no such key" (RENAME of a missing key) */
  | 'no-such-key'
  /** The value would exceed the node's maximum value size ("string exceeds maximum allowed size"). */
  | 'too-large';

export type RmwResult =
  | { kind: 'ok' }
  | { kind: 'integer'; value: bigint }
  | { kind: 'bulk'; value: Uint8Array | null }
  | { kind: 'error'; code: RmwErrorCode };

/**
 * Whether the primary's read of an operation's keys counts as a lookup in the store's hit and
 * miss counters (shoal_store_hits_total, `shoal stats`): DEL and UNLINK do not, as Redis deletes
 * without a lookup (its keyspace_hits and keyspace_misses stay as they were). Every other
 * operation reads each key once, as a client read (it also keeps the key warm for eviction).
 */
export function countsAsLookup(op: RmwOp): boolean {
  return op.op !== 'del';
}

// ---------------------------------------------------------------------------------------------
// Applying an operation.

/** What applyRmw needs of a key's live record (record.ts's StoredRecord fits). */
export interface StoredRecordLike {
  readonly value: Uint8Array;
  /** Absolute expiry in wall ms, or 0 when the value never expires. */
  readonly expiresAtMs: number;
  /** How the value was written (record.ts, WrittenAs); absent: written whole. */
  readonly writtenAs?: WrittenAs;
}

/**
 * A key's new state: a value with its absolute expiry (0 = none), or deleted. `writtenAs`: how
 * APPEND, SETRANGE or INCRBYFLOAT wrote the value, or the mark of a value a write kept as it was
 * (EXPIRE, PERSIST, GETEX, RENAME, COPY), as Redis keeps its string object (record.ts, WrittenAs);
 * absent: written whole.
 */
export type RmwWrite = { value: Uint8Array; expiresAtMs: number; writtenAs?: WrittenAs } | 'delete';

export interface RmwLimits {
  /** Largest value an operation may produce (APPEND, SETRANGE, SET, MSETNX); beyond: `too-large`. */
  maxValueBytes: number;
}

export interface RmwOutcome {
  result: RmwResult;
  /** One entry per key, in the order of the keys: null leaves the key as it is. */
  writes: (RmwWrite | null)[];
}

/**
 * Applies `op` to the current records of its keys, as Redis 7.0 would: a pure function of its
 * inputs, so every primary (and the simulator) computes the same writes.
 *
 * `current[i]` is the live record of key i, or null when the key is absent, deleted or expired
 * (the caller filters dead records with isDeadAt). The keys are distinct: the caller passes a key
 * given twice once (DEL counts it once as Redis does; MSETNX keeps its last value; RENAME or COPY
 * of a key to itself passes the one key: `current.length === 1`). An error writes nothing.
 */
export function applyRmw(op: RmwOp, current: (StoredRecordLike | null)[], nowMs: number, limits: RmwLimits): RmwOutcome {
  const untouched = (): (RmwWrite | null)[] => current.map(() => null);
  const fail = (code: RmwErrorCode): RmwOutcome => ({ result: { kind: 'error', code }, writes: untouched() });
  const one = (result: RmwResult, write: RmwWrite | null): RmwOutcome => ({ result, writes: [write] });
  const record = current[0] ?? null;
  /** The key's expiry, kept by writes that do not set one (INCR, APPEND, SETRANGE, KEEPTTL). */
  const keptExpiry = record?.expiresAtMs ?? 0;

  switch (op.op) {
    case 'incrby': {
      const old = record === null ? 0n : parseRedisInteger(record.value);
      if (old === null) return fail('not-integer');
      const next = old + op.by;
      if (!isInt64(op.by) || !isInt64(next)) return fail('overflow');
      return one({ kind: 'integer', value: next }, { value: formatRedisInteger(next), expiresAtMs: keptExpiry });
    }
    case 'incrbyfloat': {
      const old = record === null ? parseRedisLongDouble(asciiBytes('0')) : parseRedisLongDouble(record.value);
      const by = parseRedisLongDouble(asciiBytes(op.by));
      if (old === null || by === null) return fail('not-float');
      const next = addLongDouble(old, by);
      if (next === null || next.kind === 'inf') return fail('nan-or-infinity');
      const value = asciiBytes(formatLongDoubleHuman(next));
      return one({ kind: 'bulk', value }, { value, expiresAtMs: keptExpiry, writtenAs: 'float' });
    }
    case 'append': {
      const oldValue = record?.value ?? new Uint8Array(0);
      const length = oldValue.length + op.value.length;
      if (length > limits.maxValueBytes) return fail('too-large');
      const value = new Uint8Array(length);
      value.set(oldValue, 0);
      value.set(op.value, oldValue.length);
      // APPEND to a missing key stores its argument as SET would; to an existing one, in place.
      return one({ kind: 'integer', value: BigInt(length) }, { value, expiresAtMs: keptExpiry, ...(record !== null ? { writtenAs: 'in-place' as const } : {}) });
    }
    case 'setrange': {
      const oldValue = record?.value ?? new Uint8Array(0);
      // Writing nothing changes nothing and creates nothing, whatever the offset.
      if (op.value.length === 0) return one({ kind: 'integer', value: BigInt(oldValue.length) }, null);
      const end = op.offset + op.value.length;
      if (end > limits.maxValueBytes) return fail('too-large');
      const value = new Uint8Array(Math.max(oldValue.length, end));
      value.set(oldValue, 0);
      value.set(op.value, op.offset);
      // Built in place even for a missing key: Redis makes a zeroed raw string, then writes into it.
      return one({ kind: 'integer', value: BigInt(value.length) }, { value, expiresAtMs: keptExpiry, writtenAs: 'in-place' });
    }
    case 'set': {
      if (op.value.length > limits.maxValueBytes) return fail('too-large');
      const exists = record !== null;
      const refused = (op.condition === 'nx' && exists) || (op.condition === 'xx' && !exists);
      const answer: RmwResult = op.get ? { kind: 'bulk', value: record?.value ?? null } : refused ? { kind: 'bulk', value: null } : { kind: 'ok' };
      if (refused) return one(answer, null);
      return one(answer, writeWithExpiry(op.value, op.expiry, keptExpiry, nowMs));
    }
    case 'getdel':
      return one({ kind: 'bulk', value: record?.value ?? null }, record === null ? null : 'delete');
    case 'getex': {
      const answer: RmwResult = { kind: 'bulk', value: record?.value ?? null };
      if (record === null || op.expiry === null || op.expiry.kind === 'keep') return one(answer, null);
      if (op.expiry.kind === 'none' && record.expiresAtMs === 0) return one(answer, null);
      return one(answer, kept(record, writeWithExpiry(record.value, op.expiry, keptExpiry, nowMs)));
    }
    case 'expire': {
      if (record === null) return one({ kind: 'integer', value: 0n }, null);
      // A key without an expiry counts as expiring never: GT always fails, LT always passes.
      const hasExpiry = record.expiresAtMs !== 0;
      const refused =
        (op.condition === 'nx' && hasExpiry) ||
        ((op.condition === 'xx' || op.xx === true) && !hasExpiry) ||
        (op.condition === 'gt' && (!hasExpiry || op.atMs <= record.expiresAtMs)) ||
        (op.condition === 'lt' && hasExpiry && op.atMs >= record.expiresAtMs);
      if (refused) return one({ kind: 'integer', value: 0n }, null);
      return one({ kind: 'integer', value: 1n }, op.atMs <= nowMs ? 'delete' : { value: record.value, expiresAtMs: op.atMs, ...markOf(record.writtenAs) });
    }
    case 'persist': {
      if (record === null || record.expiresAtMs === 0) return one({ kind: 'integer', value: 0n }, null);
      return one({ kind: 'integer', value: 1n }, { value: record.value, expiresAtMs: 0, ...markOf(record.writtenAs) });
    }
    case 'del': {
      const existing = current.filter((r) => r !== null).length;
      return { result: { kind: 'integer', value: BigInt(existing) }, writes: current.map((r) => (r === null ? null : 'delete')) };
    }
    case 'rename': {
      if (record === null) return fail('no-such-key');
      // RENAME of a key to itself (one key given): nothing moves.
      if (current.length === 1) return one(op.nx ? { kind: 'integer', value: 0n } : { kind: 'ok' }, null);
      const destination = current[1] ?? null;
      if (op.nx && destination !== null) return { result: { kind: 'integer', value: 0n }, writes: [null, null] };
      // The destination takes the source's value and expiry (or none), replacing whatever it had.
      return {
        result: op.nx ? { kind: 'integer', value: 1n } : { kind: 'ok' },
        writes: ['delete', { value: record.value, expiresAtMs: record.expiresAtMs, ...markOf(record.writtenAs) }],
      };
    }
    case 'copy': {
      if (record === null) return { result: { kind: 'bulk', value: null }, writes: untouched() };
      // A copy to itself (one key given: RESP refuses it before it gets here) has nothing to write.
      if (current.length === 1 || (current[1] !== null && !op.replace)) return { result: { kind: 'integer', value: 0n }, writes: untouched() };
      return { result: { kind: 'integer', value: 1n }, writes: [null, { value: record.value, expiresAtMs: record.expiresAtMs, ...markOf(record.writtenAs) }] };
    }
    case 'msetnx': {
      if (op.values.length !== current.length) throw new RangeError(`msetnx has ${op.values.length} values for ${current.length} keys`);
      if (op.values.some((v) => v.length > limits.maxValueBytes)) return fail('too-large');
      if (current.some((r) => r !== null)) return { result: { kind: 'integer', value: 0n }, writes: untouched() };
      return { result: { kind: 'integer', value: 1n }, writes: op.values.map((value) => ({ value, expiresAtMs: 0 })) };
    }
  }
}

/** The `writtenAs` mark of a write that keeps a value as it was, present only when the value has one (so other writes stay as they were). */
function markOf(writtenAs: WrittenAs | undefined): { writtenAs?: WrittenAs } {
  return writtenAs === undefined ? {} : { writtenAs };
}

/** `write`, with `record`'s mark when it keeps `record`'s value (GETEX's new expiry). */
function kept(record: StoredRecordLike, write: RmwWrite): RmwWrite {
  return write === 'delete' ? write : { ...write, ...markOf(record.writtenAs) };
}

/** A value written with `expiry`; an absolute time not after now deletes the key, as Redis does. */
function writeWithExpiry(value: Uint8Array, expiry: RmwExpiry, keptExpiry: number, nowMs: number): RmwWrite {
  switch (expiry.kind) {
    case 'keep':
      return { value, expiresAtMs: keptExpiry };
    case 'none':
      return { value, expiresAtMs: 0 };
    case 'at':
      return expiry.atMs <= nowMs ? 'delete' : { value, expiresAtMs: expiry.atMs };
  }
}

/**
 * Read-modify-write operations: what INCR, APPEND, SETNX, SET NX/XX/GET, GETSET, GETDEL, GETEX,
 * EXPIRE NX/XX/GT/LT, PERSIST, DEL, RENAME and MSETNX do to the records of their keys.
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
  /** EXPIRE family (times already made absolute). Result: integer 1 (set, or deleted by a past time) or 0. */
  | { op: 'expire'; atMs: number; condition: 'always' | 'nx' | 'xx' | 'gt' | 'lt' }
  /** PERSIST. Result: integer 1 (a TTL was removed) or 0. */
  | { op: 'persist' }
  /** DEL/UNLINK of every key given. Result: integer (how many existed). */
  | { op: 'del' }
  /** RENAME/RENAMENX: keys are [source, destination]. Result: `ok` (RENAME), integer 1/0 (RENAMENX); error no-such-key. */
  | { op: 'rename'; nx: boolean }
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

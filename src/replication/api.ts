/**
 * The key-value service one node offers to whatever serves clients (the WebSocket server of the
 * daemon, or a simulated client in the simulator). The replication coordinator implements it.
 *
 * Callback style on purpose: core code never awaits, so the same service runs unchanged in the
 * simulator. The client-facing server may wrap these calls in promises at the edge.
 */

/** A write's hybrid-logical-clock version; see hlc.ts. */
export type { Version } from './hlc.ts';
import type { Consistency, MissReason } from '../protocol/frames.ts';
import type { Version } from './hlc.ts';
import type { WrittenAs } from './record.ts';

/** How many replicas must answer, and why a read missed (defined with the wire protocol, which carries them). */
export type { Consistency, MissReason };

/** Why a key-value operation failed; the wire protocol maps each to a typed error code. */
export type KvErrorCode =
  /** Fewer replicas answered than the consistency level needs, before the deadline. */
  | 'unavailable'
  /** The operation did not complete before its deadline. */
  | 'timeout'
  /** Key or value over the configured limits. */
  | 'too-large'
  /** The node is overloaded (a mailbox or queue is full); retry later. */
  | 'overloaded'
  /** The request itself is invalid (e.g. a negative TTL). */
  | 'bad-request'
  /** This node is still joining its cluster and coordinates nothing yet; nothing was applied: use another node. */
  | 'not-ready'
  /** Replicas refused the write for their memory budget (--eviction-policy noeviction, or a value larger than the budget). */
  | 'out-of-memory';

export interface KvError {
  code: KvErrorCode;
  message: string;
}

export interface GetOptions {
  consistency?: Consistency;
  /**
   * Look without using: the replicas read the key as their stores' `peek` does (no frequency,
   * recency, hot-key or hit/miss count, no promotion from the disk tier), and the coordinator
   * counts it in neither its reads nor its misses nor the request metrics. For introspection
   * (OBJECT, as Redis's LOOKUP_NOTOUCH), never for a client's read. Absent: false.
   */
  peek?: boolean;
}

export interface SetOptions {
  consistency?: Consistency;
  /**
   * Sloppy quorum for this write: when an owner is down, a healthy node past the preference list
   * takes the write as a hint and its acknowledgement counts. Absent: the cluster's setting.
   */
  sloppy?: boolean;
  /** Time to live in ms from now; absent or 0 means the value does not expire. */
  ttlMs?: number;
}

export interface DeleteOptions {
  consistency?: Consistency;
  /** As in SetOptions. */
  sloppy?: boolean;
}

export interface GetResult {
  /** The value, or null for a miss (never written, deleted, expired or evicted: see `miss`). */
  value: Uint8Array | null;
  /** Absolute expiry (wall ms) of the value, or null if it does not expire. */
  expiresAtMs: number | null;
  /** How many replicas answered. */
  acks: number;
  /**
   * Version of the newest record seen (also for a miss caused by a delete or an expiry); null when
   * no replica held the key. Absent from services that do not report versions.
   */
  version?: Version | null;
  /** For a miss, why; absent from a hit (and from services that do not report it). */
  miss?: MissReason;
  /** How a hit's value was written (record.ts, WrittenAs); absent: written whole, or not reported. */
  writtenAs?: WrittenAs;
}

export interface WriteResult {
  /** How many replicas acknowledged the write. */
  acks: number;
  /** The HLC version the write was stamped with. */
  version?: Version;
}

export type Callback<T> = (error: KvError | null, result?: T) => void;

/** Where a client should send requests for a key: the ring as the client SDK needs it. */
export interface TopologySnapshot {
  /** Digest of the ring's inputs; changes whenever ownership changes. */
  version: string;
  partitions: number;
  replicas: number;
  /** Members that hold data, with the address clients connect to. */
  nodes: { name: string; clientAddress: string; zone: string; /** host:port of its Redis protocol listener, when it has one. */ respAddress?: string }[];
  /** owners[p] = names of partition p's preference list, primary first. */
  owners: string[][];
}

/**
 * Keys and values passed in are lent for the duration of the call: they may be views into a
 * larger buffer (a whole client frame) that is reused afterwards, so an implementation that keeps
 * one past the call keeps a copy (the coordinator turns the key into a store key and the value
 * into a record at once).
 */
export interface KvService {
  get(key: Uint8Array, options: GetOptions, done: Callback<GetResult>): void;
  set(key: Uint8Array, value: Uint8Array, options: SetOptions, done: Callback<WriteResult>): void;
  delete(key: Uint8Array, options: DeleteOptions, done: Callback<WriteResult>): void;
  topology(): TopologySnapshot;
}

export type { RmwExpiry, RmwOp, RmwResult, RmwErrorCode } from './rmw.ts';
import type { RmwOp, RmwResult } from './rmw.ts';

export interface RmwOptions {
  /** Consistency of the replicated write (and of the primary's first read after an ownership change). */
  consistency?: Consistency;
  /**
   * Makes a retried operation idempotent: the primary remembers the results of recent request ids
   * per partition and answers a repeat with the first result instead of applying it again.
   */
  requestId?: string;
  /**
   * The client's deadline, absolute wall-clock ms: the coordinator stops retrying by then, and the
   * primary answers `timeout` without applying the operation if it would start it at or after the
   * deadline by its own clock (it may have waited in the partition's queue, or in a frozen node).
   */
  deadlineMs?: number;
}

/** Read-modify-write on a key's primary (rmw.ts). Keys are lent as in KvService. */
export interface RmwService {
  /** Runs `op` on the primary of `keys`, which are all in one partition (the caller checks). */
  rmw(keys: Uint8Array[], op: RmwOp, options: RmwOptions, done: Callback<RmwResult>): void;
}

/** One page of a partition's live keys, in the order of their 32-bit scan hash (`scanHash`). */
export interface ScanPage {
  keys: Uint8Array[];
  /** Scan-hash position to pass as `after` for the next page, or null when the partition is done. */
  next: number | null;
  /** Keys looked at for this page (`count`, or fewer at the partition's end) before `match` filtered them. */
  examined?: number;
}

export interface ScanOptions {
  /** Only keys matching this Redis glob pattern (applied on the replica, before `count`). */
  match?: Uint8Array;
  /** Keys to look at (Redis's COUNT hint); the page may hold fewer after `match`. */
  count: number;
  /**
   * Ask every live owner of the partition (at least as many holders as the read consistency
   * needs), not only the read consistency's count: a key held by any one of them is listed.
   * FLUSHALL needs it: a cache's replicas differ (one evicted a key another keeps, a write reached
   * one owner only), and a key no listing saw is never deleted and spreads back by read repair.
   * When a live owner cannot serve and no other holder can stand in, the page fails.
   */
  everyLiveOwner?: boolean;
}

/**
 * Iterating the keyspace, partition by partition (SCAN, KEYS, DBSIZE, RANDOMKEY, FLUSHALL,
 * CLUSTER COUNTKEYSINSLOT/GETKEYSINSLOT). Positions are scan hashes, not store offsets, so a
 * cursor stays valid when the partition moves to other owners: a key that exists for the whole
 * iteration is returned at least once.
 */
export interface ScanService {
  /** Live keys of `partition` whose scan hash is >= `after` (keys sharing a hash come in one page). */
  scanPartition(partition: number, after: number, options: ScanOptions, done: Callback<ScanPage>): void;
  /** How many live keys `partition` holds (an owner's count; approximate under churn). */
  countPartition(partition: number, done: Callback<number>): void;
}

/** A FLUSHALL by flush floor (flush.ts): every partition's floor raised to `floor`. */
export interface FlushResult {
  floor: Version;
}

/** Deleting everything at once, by flush floor (docs/REPLICATION.md, "Flush floors"). */
export interface FlushService {
  /** Whether every member can take a floor (a cluster mid-upgrade may hold older nodes: then delete key by key). */
  canFlush(): boolean;
  /** Deletes every record older than now on every member; `done` once every live member holds the floor. */
  flushAll(done: Callback<FlushResult>): void;
}

/** Everything the RESP front end needs from a node; a service without FlushService flushes key by key. */
export type KeyspaceService = KvService & RmwService & ScanService & Partial<FlushService>;

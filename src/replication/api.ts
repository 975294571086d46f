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
  | 'not-ready';

export interface KvError {
  code: KvErrorCode;
  message: string;
}

export interface GetOptions {
  consistency?: Consistency;
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
  nodes: { name: string; clientAddress: string; zone: string }[];
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

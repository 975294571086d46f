/**
 * Node-to-node replication messages and their msgpack codec. Keys travel as store keys (latin1
 * strings, see record.ts) and records as their stored bytes (header + value), so a replica writes
 * what it receives without re-encoding.
 *
 * The transport is shared with gossip; src/node puts a one-byte family prefix in front of these
 * bytes and strips it before `decodeKvMessage`.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';

export type KvMessage =
  /** Replica write. `h` is set on a sloppy-quorum write to a fallback: the owner it stands in for. */
  | { t: 'w'; id: number; p: number; k: string; r: Uint8Array; h?: string }
  | { t: 'wa'; id: number }
  /** The replica's partition actor refused a write or read: its mailbox is full (backpressure). */
  | { t: 'nb'; id: number }
  /** Replica read. */
  | { t: 'r'; id: number; p: number; k: string }
  /** Read answer: the stored record (or null) and whether this replica has finished its catch-up sync. */
  | { t: 'ra'; id: number; r: Uint8Array | null; ready: boolean }
  /** Read repair: newer record for a stale replica; not acknowledged (anti-entropy backs it up). */
  | { t: 'rp'; p: number; k: string; r: Uint8Array }
  /** Hinted handoff delivery, acknowledged with `ha` so the hint can be forgotten. */
  | { t: 'hd'; id: number; p: number; k: string; r: Uint8Array }
  | { t: 'ha'; id: number }
  /** Sync request: flat [partition, digest, partition, digest, ...] for partitions shared with the receiver. */
  | { t: 'sq'; d: number[] }
  /**
   * Sync response: partitions whose digests matched, and the (key, version) lists of those that
   * did not. `v` is the sender's ring version: an answer counts towards catch-up or handoff only
   * between nodes on the same ring (a node with a partial view must not call itself caught up).
   */
  | { t: 'sr'; eq: number[]; df: SyncDiff[]; v: string }
  /** Sync want: send me these keys of partition p. */
  | { t: 'sw'; p: number; k: string[] }
  /** Sync data: records of partition p; `last` marks the final answer to a want; `v` as in `sr`. */
  | { t: 'sd'; p: number; k: string[]; r: Uint8Array[]; last: boolean; v: string };

/** [partition, keys, flat versions (wallMs, logical, node per key)] */
export type SyncDiff = [number, string[], number[]];

/** Thrown for bytes that do not decode to a replication message. */
export class MalformedKvMessageError extends Error {
  override readonly name = 'MalformedKvMessageError';
}

const KNOWN_TYPES = new Set(['w', 'wa', 'nb', 'r', 'ra', 'rp', 'hd', 'ha', 'sq', 'sr', 'sw', 'sd']);

// One encoder and decoder for the process: msgpack's encode()/decode() build a fresh one (with
// its buffers and caches) on every call, which cost more than the message itself on the hot path.
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

export function encodeKvMessage(message: KvMessage): Uint8Array {
  return encoder.encode(message);
}

export function decodeKvMessage(bytes: Uint8Array): KvMessage {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (cause) {
    throw new MalformedKvMessageError(`replication message does not decode as msgpack: ${(cause as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || !KNOWN_TYPES.has((value as { t?: unknown }).t as string)) {
    throw new MalformedKvMessageError('replication message has no known type field "t"');
  }
  return value as KvMessage;
}

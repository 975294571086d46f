/**
 * The node-to-node wire (the `ws` transport's endpoint, separate from the client endpoint).
 *
 * A connection carries traffic one way, from the node that dialed it, on one lane. Its first
 * WebSocket message is a handshake naming the dialer's own listening address (the ephemeral port
 * of the socket says nothing useful), the lane, and credentials (reserved for the cluster secret
 * of a later issue). Every later message is a batch of opaque datagrams for the receiver's
 * `Transport` handler (gossip and replication encode their own messages): each datagram is a
 * 4-byte big-endian length followed by that many bytes. A sender puts every datagram of one
 * event-loop turn for a peer into one message, so a busy node pays one WebSocket frame and one
 * write per peer and turn instead of one per replica write or ack.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { Lane, NodeAddress } from '../runtime/env.ts';
import { copyDatagram, datagramByteLength, type Datagram } from './datagram.ts';
import type { Credentials } from './frames.ts';
import { MAX_FRAME_DEPTH, scanMsgpack } from './msgpack-scan.ts';

/** Version of the node-to-node wire. 2: messages after the handshake are datagram batches. */
export const NODE_PROTOCOL_VERSION = 2;

/** First element of a node handshake; distinct from every client frame type so a misdirected client fails. */
const NODE_HANDSHAKE_TYPE = 0x10;

/** A handshake is tiny; anything larger is not one. */
export const MAX_NODE_HANDSHAKE_BYTES = 4096;

const LANE_NUMBERS: Record<Lane, number> = { control: 0, bulk: 1 };
const LANES_BY_NUMBER: readonly Lane[] = ['control', 'bulk'];

export interface NodeHandshake {
  version: number;
  /** The dialer's listening address, which is what the receiver reports as `from`. */
  from: NodeAddress;
  lane: Lane;
  credentials: Credentials | null;
}

export class NodeHandshakeError extends Error {
  override readonly name = 'NodeHandshakeError';
}

const encoder = new Encoder();
const decoder = new Decoder({
  maxStrLength: MAX_NODE_HANDSHAKE_BYTES,
  maxBinLength: MAX_NODE_HANDSHAKE_BYTES,
  maxArrayLength: 16,
  maxMapLength: 16,
  maxExtLength: 0,
});

export function encodeNodeHandshake(h: NodeHandshake): Uint8Array {
  return encoder.encode([NODE_HANDSHAKE_TYPE, h.version, h.from, LANE_NUMBERS[h.lane], h.credentials]);
}

/** Decodes and checks a handshake; throws NodeHandshakeError for anything else. */
export function decodeNodeHandshake(bytes: Uint8Array): NodeHandshake {
  if (bytes.byteLength > MAX_NODE_HANDSHAKE_BYTES) throw new NodeHandshakeError('node handshake too large');
  let v: unknown;
  try {
    // A handshake is five values and a small credentials map; the scan keeps a hostile one cheap.
    scanMsgpack(bytes, { maxDepth: MAX_FRAME_DEPTH, maxElements: 64 });
    v = decoder.decode(bytes);
  } catch (cause) {
    throw new NodeHandshakeError(`node handshake is not valid msgpack: ${String(cause)}`, { cause });
  }
  if (!Array.isArray(v) || v.length < 5 || v[0] !== NODE_HANDSHAKE_TYPE) {
    throw new NodeHandshakeError('not a node handshake');
  }
  const [, version, from, laneNumber, credentials] = v as unknown[];
  if (version !== NODE_PROTOCOL_VERSION) {
    throw new NodeHandshakeError(`unsupported node protocol version ${String(version)} (this node speaks ${NODE_PROTOCOL_VERSION})`);
  }
  if (typeof from !== 'string' || from.length === 0) throw new NodeHandshakeError('node handshake without a sender address');
  const lane = typeof laneNumber === 'number' ? LANES_BY_NUMBER[laneNumber] : undefined;
  if (lane === undefined) throw new NodeHandshakeError(`unknown lane ${String(laneNumber)}`);
  if (credentials !== null && (typeof credentials !== 'object' || Array.isArray(credentials))) {
    throw new NodeHandshakeError('node handshake credentials must be a map or nil');
  }
  return { version, from, lane, credentials: credentials as Credentials | null };
}

// ---- datagram batches ----

/** Bytes of the length in front of each datagram of a batch. */
export const DATAGRAM_LENGTH_BYTES = 4;

/**
 * The length in front of a datagram, on its own: for a sender that writes the datagram's bytes
 * behind it without copying them into a batch (the batch layout is the same).
 */
export function datagramLengthPrefix(length: number): Uint8Array {
  const out = new Uint8Array(DATAGRAM_LENGTH_BYTES);
  new DataView(out.buffer).setUint32(0, length);
  return out;
}

/** Thrown for a batch whose lengths do not add up to its size. */
export class DatagramBatchError extends Error {
  override readonly name = 'DatagramBatchError';
}

/** Smallest buffer a batch starts with; it grows by doubling. */
const MIN_BATCH_CAPACITY = 4096;

/**
 * Builds one batch: each `add` copies a datagram (its parts, end to end) in behind its length, so
 * the caller may reuse its buffers at once; `take` hands the batch over and starts the next. This
 * is the one copy the sending side makes of a datagram: small datagrams (most replica requests
 * and answers) cost less copied into one buffer than written out as one socket write part each.
 */
export class DatagramBatchWriter {
  private buffer: Uint8Array | null = null;
  private view: DataView | null = null;
  private length = 0;
  private count = 0;
  /** The size of the last batch taken: the next one starts that big, so a steady load never regrows. */
  private capacityHint = MIN_BATCH_CAPACITY;

  /** Bytes in the batch being built. */
  get byteLength(): number {
    return this.length;
  }

  /** Datagrams in the batch being built. */
  get datagrams(): number {
    return this.count;
  }

  add(datagram: Datagram): void {
    const length = datagramByteLength(datagram);
    const needed = this.length + DATAGRAM_LENGTH_BYTES + length;
    if (this.buffer === null || needed > this.buffer.byteLength) this.grow(needed);
    this.view!.setUint32(this.length, length);
    copyDatagram(datagram, this.buffer!, this.length + DATAGRAM_LENGTH_BYTES);
    this.length = needed;
    this.count++;
  }

  /** The batch built so far (null if empty); the writer starts a fresh one. */
  take(): Uint8Array | null {
    if (this.buffer === null || this.length === 0) return null;
    const batch = this.buffer.subarray(0, this.length);
    this.capacityHint = Math.max(MIN_BATCH_CAPACITY, this.length);
    this.buffer = null;
    this.view = null;
    this.length = 0;
    this.count = 0;
    return batch;
  }

  private grow(needed: number): void {
    const capacity = Math.max(needed, this.buffer === null ? this.capacityHint : 2 * this.buffer.byteLength);
    const next = new Uint8Array(capacity);
    if (this.buffer !== null) next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
}

/** Calls `each` with every datagram of a batch (views into `batch`, not copies). */
export function forEachDatagram(batch: Uint8Array, each: (datagram: Uint8Array) => void): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  // Checked before any is delivered, so a corrupt batch delivers nothing rather than a prefix.
  let offset = 0;
  while (offset < batch.byteLength) {
    if (offset + DATAGRAM_LENGTH_BYTES > batch.byteLength) throw new DatagramBatchError(`datagram batch ends inside a length at byte ${offset}`);
    const end = offset + DATAGRAM_LENGTH_BYTES + view.getUint32(offset);
    if (end > batch.byteLength) throw new DatagramBatchError(`datagram at byte ${offset} runs past the end of its ${batch.byteLength}-byte batch`);
    offset = end;
  }
  offset = 0;
  while (offset < batch.byteLength) {
    const start = offset + DATAGRAM_LENGTH_BYTES;
    const end = start + view.getUint32(offset);
    each(batch.subarray(start, end));
    offset = end;
  }
}

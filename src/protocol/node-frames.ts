/**
 * The node-to-node wire (the `ws` transport's endpoint, separate from the client endpoint).
 *
 * A connection carries traffic one way, from the node that dialed it, on one lane. Its first
 * WebSocket message is a handshake naming the dialer's own listening address (the ephemeral port
 * of the socket says nothing useful), the lane, and credentials (reserved for the cluster secret
 * of a later issue). Every later message is one opaque datagram for the receiver's `Transport`
 * handler: gossip and replication encode their own messages.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { Lane, NodeAddress } from '../runtime/env.ts';
import type { Credentials } from './frames.ts';

/** Version of the node-to-node handshake. */
export const NODE_PROTOCOL_VERSION = 1;

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

/**
 * The gossip wire format: msgpack arrays, versioned, with the cluster name in every message.
 *
 *   [WIRE_VERSION, clusterName, senderName, typeCode, ...body, [update, update, ...]]
 *   update = [name, address, zone, incarnation, stateCode, meta, accuser | nil]
 *
 * Every message ends with a list of member updates: piggybacked gossip on ping/ack/ping-req/gossip
 * messages, the full member table on a push-pull `sync`. Updates are encoded once when they are
 * queued for dissemination and spliced into each outgoing message as bytes, so a rumor that is
 * retransmitted a dozen times is encoded once.
 *
 * Decoding never trusts the input: sizes are bounded before and during decoding, every field is
 * type- and range-checked, and anything off raises a WireDecodeError that the caller counts.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { MemberState } from './membership.ts';
import { WireDecodeError } from './errors.ts';

/** Bump when the layout changes incompatibly; a node drops (and counts) messages of another version. */
export const WIRE_VERSION = 1;

/** Longest name, address, zone, meta key or meta string value accepted (characters). */
export const MAX_IDENTIFIER_LENGTH = 256;
/** Most metadata entries one member may carry. */
export const MAX_META_ENTRIES = 32;
/** Encoded metadata must leave room for other updates in one datagram. */
export const MAX_META_BYTES = 512;

export interface MemberUpdate {
  name: string;
  address: string;
  zone: string;
  incarnation: number;
  state: MemberState;
  meta: Readonly<Record<string, string | number>>;
  /** For `suspect`: the member that accuses, so Lifeguard can count independent confirmations. */
  accuser: string | null;
}

export type MessageBody =
  | { type: 'ping'; seq: number; target: string }
  | { type: 'ack'; seq: number; target: string }
  | { type: 'ping-req'; seq: number; target: string; targetAddress: string; wantNack: boolean }
  | { type: 'nack'; seq: number; target: string }
  | { type: 'sync'; reply: boolean }
  | { type: 'gossip' }
  /** The answer to a `sync` from another cluster: the header's cluster name says which one we are. */
  | { type: 'refuse' };

export interface GossipMessage {
  cluster: string;
  sender: string;
  body: MessageBody;
  updates: MemberUpdate[];
}

const TYPE_CODES = { ping: 1, ack: 2, 'ping-req': 3, nack: 4, sync: 5, gossip: 6, refuse: 7 } as const;
const STATE_CODES: Record<MemberState, number> = { alive: 0, suspect: 1, dead: 2, left: 3 };
const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** One reused encoder: `encode()` would allocate a fresh 2 KB scratch buffer per call. */
const encoder = new Encoder();

function encode(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Encodes one update for splicing into messages (see encodeMessage). */
export function encodeUpdate(u: MemberUpdate): Uint8Array {
  return encode([u.name, u.address, u.zone, u.incarnation, STATE_CODES[u.state], u.meta, u.accuser]);
}

function bodyFields(body: MessageBody): unknown[] {
  switch (body.type) {
    case 'ping':
    case 'ack':
    case 'nack':
      return [body.seq, body.target];
    case 'ping-req':
      return [body.seq, body.target, body.targetAddress, body.wantNack];
    case 'sync':
      return [body.reply];
    case 'gossip':
    case 'refuse':
      return [];
  }
}

/** Encodes the fixed part of a message; its size tells how much room is left for updates. */
export function encodeHeader(cluster: string, sender: string, body: MessageBody): Uint8Array {
  return encode([WIRE_VERSION, cluster, sender, TYPE_CODES[body.type], ...bodyFields(body)]);
}

/** Bytes the array header of a list of `count` updates takes. */
export function listHeaderBytes(count: number): number {
  return count < 16 ? 1 : count < 0x10000 ? 3 : 5;
}

/**
 * Splices a header (from encodeHeader) and pre-encoded updates into one message. The header is a
 * msgpack fixarray of at most 8 fields; the update list becomes its last element.
 */
export function encodeMessage(header: Uint8Array, updates: readonly Uint8Array[]): Uint8Array {
  const fields = header[0]! & 0x0f;
  let size = header.length + listHeaderBytes(updates.length);
  for (const u of updates) size += u.length;
  const out = new Uint8Array(size);
  out.set(header, 0);
  out[0] = 0x90 | (fields + 1);
  let at = header.length;
  const n = updates.length;
  if (n < 16) {
    out[at++] = 0x90 | n;
  } else if (n < 0x10000) {
    out[at++] = 0xdc;
    out[at++] = n >> 8;
    out[at++] = n & 0xff;
  } else {
    out[at++] = 0xdd;
    out[at++] = (n >>> 24) & 0xff;
    out[at++] = (n >>> 16) & 0xff;
    out[at++] = (n >>> 8) & 0xff;
    out[at++] = n & 0xff;
  }
  for (const u of updates) {
    out.set(u, at);
    at += u.length;
  }
  return out;
}

/** Convenience for tests and one-off messages. */
export function encodeGossipMessage(m: GossipMessage): Uint8Array {
  return encodeMessage(encodeHeader(m.cluster, m.sender, m.body), m.updates.map(encodeUpdate));
}

export interface DecodeLimits {
  maxMessageBytes: number;
  /** Most updates one message may carry (bounds a push-pull state). */
  maxUpdates: number;
}

const decoders = new Map<number, Decoder>();

function decoderFor(maxUpdates: number): Decoder {
  let d = decoders.get(maxUpdates);
  if (!d) {
    d = new Decoder({
      maxStrLength: MAX_IDENTIFIER_LENGTH * 4,
      maxBinLength: 0,
      maxArrayLength: Math.max(16, maxUpdates),
      maxMapLength: MAX_META_ENTRIES,
      maxExtLength: 0,
    });
    decoders.set(maxUpdates, d);
  }
  return d;
}

function malformed(what: string): never {
  throw new WireDecodeError('malformed', `malformed gossip message: ${what}`);
}

function str(x: unknown, what: string, allowEmpty = false): string {
  if (typeof x !== 'string' || x.length > MAX_IDENTIFIER_LENGTH || (!allowEmpty && x.length === 0)) malformed(`${what} is not a valid string`);
  return x;
}

function uint(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) malformed(`${what} is not a non-negative integer`);
  return x;
}

/**
 * Validates decoded metadata in place. The decoder already refuses a `__proto__` key, and with
 * maxExtLength 0 it refuses extension types, so no timestamp or other exotic object can appear.
 */
function decodeMeta(x: unknown): Record<string, string | number> {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array) malformed('meta is not a map');
  const meta = x as Record<string, unknown>;
  let count = 0;
  for (const k in meta) {
    if (++count > MAX_META_ENTRIES) malformed('too many meta entries');
    if (k.length === 0 || k.length > MAX_IDENTIFIER_LENGTH) malformed('meta key is not a valid string');
    const v = meta[k];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) malformed(`meta ${k} is not finite`);
    } else {
      str(v, `meta ${k}`, true);
    }
  }
  return meta as Record<string, string | number>;
}

function decodeUpdate(x: unknown): MemberUpdate {
  if (!Array.isArray(x) || x.length !== 7) malformed('update is not a 7-element array');
  const state = STATES[uint(x[4], 'state')];
  if (state === undefined) malformed('unknown member state');
  const accuser = x[6] === null ? null : str(x[6], 'accuser');
  return {
    name: str(x[0], 'name'),
    address: str(x[1], 'address'),
    zone: str(x[2], 'zone', true),
    incarnation: uint(x[3], 'incarnation'),
    state,
    meta: decodeMeta(x[5]),
    accuser,
  };
}

/** The number of body fields per type code, for the length check. */
const BODY_LENGTH: Record<number, number> = { 1: 2, 2: 2, 3: 4, 4: 2, 5: 1, 6: 0, 7: 0 };

/** Decodes and validates one message; throws WireDecodeError on anything that is not exactly right. */
export function decodeMessage(bytes: Uint8Array, limits: DecodeLimits): GossipMessage {
  if (bytes.length > limits.maxMessageBytes) {
    throw new WireDecodeError('oversized', `gossip message of ${bytes.length} bytes exceeds the ${limits.maxMessageBytes}-byte limit`);
  }
  let raw: unknown;
  try {
    raw = decoderFor(limits.maxUpdates).decode(bytes);
  } catch (cause) {
    throw new WireDecodeError('malformed', `undecodable gossip message: ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(raw) || raw.length < 5) malformed('not a message array');
  if (raw[0] !== WIRE_VERSION) throw new WireDecodeError('version', `unsupported gossip wire version ${String(raw[0])}`);
  const cluster = str(raw[1], 'cluster');
  const sender = str(raw[2], 'sender');
  const code = uint(raw[3], 'type');
  const bodyLength = BODY_LENGTH[code];
  if (bodyLength === undefined) malformed(`unknown message type ${code}`);
  if (raw.length !== 5 + bodyLength) malformed(`message type ${code} has ${raw.length} fields`);
  const f = raw.slice(4, 4 + bodyLength) as unknown[];
  let body: MessageBody;
  switch (code) {
    case 1:
      body = { type: 'ping', seq: uint(f[0], 'seq'), target: str(f[1], 'target') };
      break;
    case 2:
      body = { type: 'ack', seq: uint(f[0], 'seq'), target: str(f[1], 'target') };
      break;
    case 3:
      if (typeof f[3] !== 'boolean') malformed('wantNack is not a boolean');
      body = { type: 'ping-req', seq: uint(f[0], 'seq'), target: str(f[1], 'target'), targetAddress: str(f[2], 'target address'), wantNack: f[3] };
      break;
    case 4:
      body = { type: 'nack', seq: uint(f[0], 'seq'), target: str(f[1], 'target') };
      break;
    case 5:
      if (typeof f[0] !== 'boolean') malformed('reply is not a boolean');
      body = { type: 'sync', reply: f[0] };
      break;
    case 6:
      body = { type: 'gossip' };
      break;
    default:
      body = { type: 'refuse' };
  }
  const list = raw[raw.length - 1];
  if (!Array.isArray(list)) malformed('update list is not an array');
  if (list.length > limits.maxUpdates) throw new WireDecodeError('oversized', `message carries ${list.length} updates, limit ${limits.maxUpdates}`);
  return { cluster, sender, body, updates: list.map(decodeUpdate) };
}

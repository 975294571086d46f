/**
 * The decoders the fuzzer drives, each with the valid messages its mutations start from (built
 * from fast-check arbitraries), a decode step, and the one error type it documents. Anything
 * else a decoder throws is a crash.
 */
import fc from 'fast-check';
import { Encoder } from '@msgpack/msgpack';
import {
  DEFAULT_WIRE_LIMITS,
  FrameDecodeError,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  type ClientFrame,
  type Request,
  type ServerFrame,
} from '../src/protocol/index.ts';
import { ERROR_CODE_NUMBERS, type ErrorCode } from '../src/protocol/error-codes.ts';
import {
  DatagramBatchError,
  DatagramBatchWriter,
  NodeHandshakeError,
  decodeNodeHandshake,
  encodeNodeHandshake,
  forEachDatagram,
  NODE_PROTOCOL_VERSION,
} from '../src/protocol/node-frames.ts';
import { decodeMessage, encodeGossipMessage, type GossipMessage, type MemberUpdate, type MessageBody } from '../src/gossip/wire.ts';
import { WireDecodeError } from '../src/gossip/errors.ts';
import { decodeKvMessage, encodeKvMessage, MalformedKvMessageError, type KvMessage } from '../src/replication/messages.ts';
import { RespParser } from '../src/resp/parser.ts';

/** Thrown by a decode step whose operation count passed its bound: a hang, reported as one. */
export class FuzzHangError extends Error {
  override readonly name = 'FuzzHangError';
}

export interface FuzzTarget {
  readonly name: string;
  /** The source file(s) of the decoder, for the report. */
  readonly decoder: string;
  /** The error type the decoder documents; any other exception is a crash. */
  readonly expectedError: string;
  /** Arbitraries of valid encoded messages (mutation seeds) and of raw structures. */
  readonly valid: fc.Arbitrary<Uint8Array>;
  /** RESP: mutate with textual length claims. */
  readonly text?: boolean;
  /**
   * Decodes one input; throws the documented error or returns. Returns the operations it took
   * (for the streaming RESP parser: calls to next()), so a hang shows as a count, not a time.
   */
  decode(bytes: Uint8Array, split: number): number;
  isExpected(error: unknown): boolean;
}

// ---- shared arbitraries ----

const msgpack = new Encoder({ ignoreUndefined: true });
const id = fc.integer({ min: 0, max: 0xffff_ffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const consistency = fc.constantFrom(null, 'one' as const, 'quorum' as const, 'all' as const);
const errorCode = fc.constantFrom(...(Object.keys(ERROR_CODE_NUMBERS) as ErrorCode[]));
const safeUint = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const ident = fc.string({ minLength: 1, maxLength: 20 });
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });

/** Any msgpack value, encoded: the structures a decoder was not written for. */
const anyMsgpack: fc.Arbitrary<Uint8Array> = fc
  .anything({ maxDepth: 4, maxKeys: 6, withTypedArray: false, withBigInt: false, withDate: false, withMap: false, withSet: false, withObjectString: false, withBoxedValues: false, withNullPrototype: false, withSparseArray: false })
  .map((v) => {
    try {
      return msgpack.encode(v);
    } catch {
      return new Uint8Array(0);
    }
  });

// ---- client frames (codec.ts, msgpack-scan.ts) ----

const rmwOp = fc.oneof(
  fc.record({ op: fc.constant('incrby' as const), by: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
  fc.record({ op: fc.constant('incrbyfloat' as const), by: fc.constantFrom('1.5', '-0.25', '1e10') }),
  fc.record({ op: fc.constant('append' as const), value: bytes(32) }),
  fc.record({ op: fc.constant('setrange' as const), offset: fc.nat(1000), value: bytes(32) }),
  fc.record({
    op: fc.constant('set' as const),
    value: bytes(32),
    expiry: fc.oneof(fc.constant({ kind: 'keep' as const }), fc.constant({ kind: 'none' as const }), fc.record({ kind: fc.constant('in' as const), ttlMs: fc.nat() })),
    condition: fc.constantFrom('always' as const, 'nx' as const, 'xx' as const),
    get: fc.boolean(),
  }),
  fc.record({ op: fc.constantFrom('getdel' as const, 'persist' as const, 'del' as const) }),
  fc.record({ op: fc.constant('rename' as const), nx: fc.boolean() }),
  fc.record({ op: fc.constant('msetnx' as const), values: fc.array(bytes(16), { minLength: 1, maxLength: 3 }) }),
);

const request: fc.Arbitrary<Request> = fc.oneof(
  fc.record({ op: fc.constant('get' as const), id, key: bytes(64), consistency }),
  fc.record({ op: fc.constant('set' as const), id, key: bytes(64), value: bytes(256), ttlMs: safeUint, consistency }),
  fc.record({ op: fc.constant('delete' as const), id, key: bytes(64), consistency }),
  fc.record({ op: fc.constant('topology' as const), id }),
  fc.record({ op: fc.constant('rmw' as const), id, keys: fc.array(bytes(16), { minLength: 1, maxLength: 3 }), rmw: rmwOp, requestId: fc.option(ident, { nil: null }), consistency }) as fc.Arbitrary<Request>,
);

const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    minVersion: fc.nat(10),
    maxVersion: fc.nat(10),
    client: fc.string(),
    credentials: fc.option(fc.dictionary(ident.filter((k) => k !== '__proto__'), fc.string()), { nil: null }),
  }),
  fc.record({ type: fc.constant('requests' as const), requests: fc.array(request, { maxLength: 20 }) }),
);

const encodedClientFrame = clientFrame.map((f) => {
  try {
    return encodeClientFrame(f);
  } catch {
    return new Uint8Array(0);
  }
});

const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({
    type: fc.constant('welcome' as const),
    version: fc.nat(10),
    node: fc.string(),
    topologyVersion: fc.string(),
    limits: fc.record({ maxFrameBytes: safeUint, maxValueBytes: safeUint, maxKeyBytes: safeUint, maxBatchRequests: safeUint }),
  }),
  fc.record({
    type: fc.constant('replies' as const),
    replies: fc.array(
      fc.oneof(
        fc.record({
          id,
          ok: fc.constant(true as const),
          result: fc.oneof(
            fc.record({ kind: fc.constant('value' as const), value: fc.option(bytes(128), { nil: null }), expiresAtMs: fc.option(safeUint, { nil: null }), acks: fc.nat(5) }),
            fc.record({ kind: fc.constant('write' as const), acks: fc.nat(5) }),
          ),
        }),
        fc.record({ id, ok: fc.constant(false as const), error: fc.record({ code: errorCode, message: fc.string(), topologyVersion: fc.option(fc.string(), { nil: null }) }) }),
      ),
      { maxLength: 10 },
    ),
  }),
  fc.record({ type: fc.constant('push' as const), push: fc.record({ kind: fc.constant('ring-changed' as const), topologyVersion: fc.string() }) }),
  fc.record({ type: fc.constant('error' as const), code: errorCode, message: fc.string() }),
);

// The limits a server decodes with (the defaults), so the fuzzer meets what production meets.
const CLIENT_LIMITS = DEFAULT_WIRE_LIMITS;

// ---- node frames ----

const handshake = fc
  .record({
    version: fc.constantFrom(NODE_PROTOCOL_VERSION, NODE_PROTOCOL_VERSION + 1),
    from: ident,
    lane: fc.constantFrom('control' as const, 'bulk' as const),
    credentials: fc.option(fc.dictionary(ident.filter((k) => k !== '__proto__'), fc.string({ maxLength: 40 }), { maxKeys: 4 }), { nil: null }),
  })
  .map((h) => encodeNodeHandshake(h));

const datagramBatch = fc.array(bytes(200), { maxLength: 12 }).map((datagrams) => {
  const writer = new DatagramBatchWriter();
  for (const d of datagrams) writer.add(d);
  return writer.take() ?? new Uint8Array(0);
});

// ---- gossip ----

const update: fc.Arbitrary<MemberUpdate> = fc.record({
  name: ident,
  address: ident,
  zone: fc.string({ maxLength: 10 }),
  incarnation: fc.nat(),
  state: fc.constantFrom('alive', 'suspect', 'dead', 'left'),
  meta: fc.dictionary(ident.filter((k) => k !== '__proto__'), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })), { maxKeys: 5 }),
  accuser: fc.option(ident, { nil: null }),
});
const body: fc.Arbitrary<MessageBody> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq: fc.nat(), target: ident }),
  fc.record({ type: fc.constant('ack' as const), seq: fc.nat(), target: ident }),
  fc.record({ type: fc.constant('nack' as const), seq: fc.nat(), target: ident }),
  fc.record({ type: fc.constant('ping-req' as const), seq: fc.nat(), target: ident, targetAddress: ident, wantNack: fc.boolean() }),
  fc.record({ type: fc.constant('sync' as const), reply: fc.boolean() }),
  fc.record({ type: fc.constant('gossip' as const) }),
  fc.record({ type: fc.constant('refuse' as const) }),
);
const gossipMessage: fc.Arbitrary<GossipMessage> = fc.record({ cluster: ident, sender: ident, body, updates: fc.array(update, { maxLength: 20 }) });
/** The daemon's gossip limits (src/gossip/config.ts defaults). */
const GOSSIP_LIMITS = { maxMessageBytes: 8 * 1024 * 1024, maxUpdates: 10_000 };

// ---- replication ----

const record = fc.uint8Array({ minLength: 24, maxLength: 80 });
const ring = fc.constantFrom(undefined, '0123456789abcdef', 'r'.repeat(300));
const rid = fc.nat({ max: 2 ** 40 });
const part = fc.nat(1023);
const kvMessage: fc.Arbitrary<KvMessage> = fc.oneof(
  fc.record({ t: fc.constant('w' as const), id: rid, p: part, k: latin1, r: record, v: ring }, { requiredKeys: ['t', 'id', 'p', 'k', 'r'] }),
  fc.record({ t: fc.constant('w' as const), id: rid, p: part, k: fc.string(), r: record, h: ident }),
  fc.record({ t: fc.constantFrom('wa' as const, 'nb' as const, 'ha' as const), id: rid }),
  fc.record({ t: fc.constant('r' as const), id: rid, p: part, k: latin1, v: ring }, { requiredKeys: ['t', 'id', 'p', 'k'] }),
  fc.record({ t: fc.constant('ns' as const), id: rid, rv: ident, v: ident, o: fc.array(ident, { maxLength: 3 }) }),
  fc.record({ t: fc.constant('ra' as const), id: rid, r: fc.option(record, { nil: null }), ready: fc.boolean() }),
  fc.record({ t: fc.constant('ra' as const), id: rid, r: fc.constant(null), ready: fc.boolean(), e: fc.record({ wallMs: fc.nat(), logical: fc.nat(), node: fc.nat() }) }),
  fc.record({ t: fc.constantFrom('rp' as const, 'hd' as const), id: rid, p: part, k: latin1, r: record }) as fc.Arbitrary<KvMessage>,
  fc.record({ t: fc.constant('sq' as const), d: fc.array(fc.nat(), { maxLength: 20 }) }),
  fc.record({ t: fc.constant('sr' as const), eq: fc.array(fc.nat(), { maxLength: 5 }), df: fc.array(fc.tuple(part, fc.array(latin1, { maxLength: 3 }), fc.array(fc.nat(), { maxLength: 9 })), { maxLength: 3 }), v: ident }),
  fc.record({ t: fc.constant('sw' as const), p: part, k: fc.array(latin1, { maxLength: 5 }) }),
  fc.record({ t: fc.constant('sd' as const), p: part, k: fc.array(latin1, { maxLength: 3 }), r: fc.array(record, { maxLength: 3 }), last: fc.boolean(), v: ident }),
  fc.record({ t: fc.constant('sc' as const), id: rid, p: part, a: fc.nat(), c: fc.nat(100), m: bytes(8) }),
  fc.record({ t: fc.constant('sa' as const), id: rid, s: fc.constantFrom('ok' as const, 'none' as const, 'busy' as const), k: fc.array(latin1, { maxLength: 4 }), n: fc.integer({ min: -1 }), x: fc.nat() }),
  fc.record({ t: fc.constant('ca' as const), id: rid, s: fc.constant('ok' as const), n: fc.nat() }),
  fc.record({ t: fc.constant('xc' as const), id: rid, p: part, e: fc.nat(), k: fc.array(latin1, { maxLength: 3 }) }),
  fc.record({ t: fc.constant('xwa' as const), id: rid, ok: fc.boolean(), e: fc.nat() }),
);

// ---- RESP ----

const respArg = fc.oneof(fc.constantFrom('GET', 'SET', 'MGET', 'PING', 'EX', 'HELLO', 'AUTH', 'CLIENT'), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')));
const respCommand = fc.array(respArg, { minLength: 1, maxLength: 6 }).chain((args) =>
  fc.constantFrom(
    // multibulk
    `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`,
    // inline (as a telnet user types it)
    `${args.map((a) => a.replace(/[\r\n ]/g, '_')).join(' ')}\r\n`,
  ),
);
const respStream = fc.array(respCommand, { minLength: 1, maxLength: 4 }).map((commands) => Uint8Array.from(commands.join(''), (c) => c.charCodeAt(0) & 0xff));

/** The RESP port's argument limit (the default value limit), as the connection sets it. */
const RESP_MAX_ARGUMENT_BYTES = DEFAULT_WIRE_LIMITS.maxValueBytes;

const either = (structured: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> => fc.oneof({ weight: 8, arbitrary: structured }, { weight: 1, arbitrary: anyMsgpack }, { weight: 1, arbitrary: bytes(64) });

export const TARGETS: readonly FuzzTarget[] = [
  {
    name: 'client-frame',
    decoder: 'src/protocol/codec.ts decodeClientFrame (+ msgpack-scan.ts)',
    expectedError: 'FrameDecodeError',
    valid: either(encodedClientFrame),
    decode: (b) => (decodeClientFrame(b, CLIENT_LIMITS), 1),
    isExpected: (e) => e instanceof FrameDecodeError,
  },
  {
    name: 'server-frame',
    decoder: 'src/protocol/codec.ts decodeServerFrame (the SDK side)',
    expectedError: 'FrameDecodeError',
    valid: either(serverFrame.map((f) => encodeServerFrame(f))),
    decode: (b) => (decodeServerFrame(b, DEFAULT_WIRE_LIMITS.maxFrameBytes), 1),
    isExpected: (e) => e instanceof FrameDecodeError,
  },
  {
    name: 'node-handshake',
    decoder: 'src/protocol/node-frames.ts decodeNodeHandshake',
    expectedError: 'NodeHandshakeError',
    valid: either(handshake),
    decode: (b) => (decodeNodeHandshake(b), 1),
    isExpected: (e) => e instanceof NodeHandshakeError,
  },
  {
    name: 'node-batch',
    decoder: 'src/protocol/node-frames.ts forEachDatagram',
    expectedError: 'DatagramBatchError',
    valid: either(datagramBatch),
    decode: (b) => {
      let n = 1;
      forEachDatagram(b, () => n++);
      return n;
    },
    isExpected: (e) => e instanceof DatagramBatchError,
  },
  {
    name: 'gossip',
    decoder: 'src/gossip/wire.ts decodeMessage',
    expectedError: 'WireDecodeError',
    valid: either(gossipMessage.map(encodeGossipMessage)),
    decode: (b) => (decodeMessage(b, GOSSIP_LIMITS), 1),
    isExpected: (e) => e instanceof WireDecodeError,
  },
  {
    name: 'replication',
    decoder: 'src/replication/messages.ts decodeKvMessage',
    expectedError: 'MalformedKvMessageError',
    valid: either(kvMessage.map(encodeKvMessage)),
    decode: (b) => (decodeKvMessage(b), 1),
    isExpected: (e) => e instanceof MalformedKvMessageError,
  },
  {
    name: 'resp',
    decoder: 'src/resp/parser.ts RespParser (errors are returned, never thrown)',
    expectedError: '(none: a ParseFailure is returned)',
    valid: fc.oneof({ weight: 9, arbitrary: respStream }, { weight: 1, arbitrary: bytes(64) }),
    text: true,
    decode: (b, split) => {
      // Fed in two chunks at `split`, as a socket may deliver it; every call to next() either
      // returns a command (consuming at least 3 bytes), null (needs more) or a failure.
      const parser = new RespParser({ maxArgumentBytes: RESP_MAX_ARGUMENT_BYTES });
      const at = Math.min(split, b.length);
      let ops = 0;
      for (const chunk of [b.subarray(0, at), b.subarray(at)]) {
        parser.push(chunk.slice());
        for (;;) {
          ops++;
          if (ops > b.length + 8) throw new FuzzHangError(`RESP parser did not settle after ${ops} calls to next() on ${b.length} bytes`);
          const r = parser.next();
          if (r === null) break;
          if (!Array.isArray(r)) {
            if (r.fatal) return ops;
            continue;
          }
        }
      }
      return ops;
    },
    isExpected: () => false,
  },
];

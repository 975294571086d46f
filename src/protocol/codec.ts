/**
 * The msgpack codec of the client wire: typed frames (frames.ts) to bytes and back.
 *
 * Every frame is a msgpack array whose first element is the frame type; docs/PROTOCOL.md lists
 * each layout. Decoding never trusts the peer: anything that is not exactly a frame this version
 * knows throws `FrameDecodeError` (and only that), so a server can answer garbage with an error
 * frame and close that one connection. Receivers ignore trailing array elements, which lets a
 * later version append fields without a version bump.
 *
 * Pure functions over bytes: no sockets, no clocks, so node, client, simulator and tests share it.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { Consistency } from './frames.ts';
import { errorCodeFromNumber, errorCodeNumber, type ErrorCode } from './error-codes.ts';
import type {
  AdminRequest,
  CatchUpStatus,
  ClientFrame,
  DeleteRequest,
  GetRequest,
  Credentials,
  MemberStatus,
  MemoryStatus,
  DiskStatus,
  DrainStatus,
  MissReason,
  NodeStatus,
  PartitionInvalidations,
  Push,
  RejectedRequest,
  Reply,
  ReplyResult,
  Request,
  RequestStatus,
  RmwRequest,
  ServerFrame,
  SetRequest,
  WireRmwErrorCode,
  WireRmwExpiry,
  WireRmwOp,
  WireRmwResult,
  WireTopology,
  WireHotKeyAlert,
  WireHotKeys,
} from './frames.ts';
import { DEFAULT_WIRE_LIMITS, type WireLimits } from './limits.ts';
import { analyticsFromWire } from './analytics.ts';
import { healthStatusFromWire } from './health-status.ts';
import { MAX_FRAME_DEPTH, MsgpackScanError, scanMsgpack, type ScanLimits } from './msgpack-scan.ts';

/** Frame type numbers (element 0 of every frame). */
export const FrameType = { hello: 1, welcome: 2, requests: 3, replies: 4, push: 5, error: 6 } as const;

/** Request op numbers (element 1 of every request). */
export const OpCode = { get: 1, set: 2, delete: 3, topology: 4, status: 5, rmw: 6, hotkeys: 7, invalidations: 8, drain: 9 } as const;

/** Result kind numbers of a successful reply (element 2). */
export const ResultKind = { value: 1, write: 2, topology: 3, status: 4, rmw: 5, hotkeys: 6, drain: 7 } as const;
/** A drain request's action on the wire. */
const DRAIN_ACTIONS = ['drain', 'undrain'] as const;
/** Why a get missed, on the wire (the 7th field of a value reply). */
export const MissCode: Readonly<Record<MissReason, number>> = { absent: 1, deleted: 2, expired: 3, evicted: 4 };
const MISS_BY_CODE = new Map(Object.entries(MissCode).map(([reason, code]) => [code, reason as MissReason]));

/** A reason a newer node may add is left out rather than refused. */
function missFromWire(code: number): { miss?: MissReason } {
  const miss = MISS_BY_CODE.get(code);
  return miss === undefined ? {} : { miss };
}

/** Push kind numbers (element 1 of a push frame). */
export const PushKind = { 'ring-changed': 1, invalidations: 2, hotkey: 3 } as const;

/** Status element of a reply: 0 is success, anything else is an error code number. */
const STATUS_OK = 0;

const CONSISTENCY_NUMBERS: Record<Consistency, number> = { one: 1, quorum: 2, all: 3 };
const CONSISTENCY_BY_NUMBER: readonly (Consistency | undefined)[] = [undefined, 'one', 'quorum', 'all'];

/** Thrown for bytes that are not a valid frame. `code` is what the receiver should answer with. */
export class FrameDecodeError extends Error {
  override readonly name = 'FrameDecodeError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const encoder = new Encoder({ ignoreUndefined: false });

/** The part of the limits a decoder enforces on what it reads. */
export type DecodeLimits = Pick<WireLimits, 'maxFrameBytes' | 'maxKeyBytes' | 'maxValueBytes' | 'maxBatchRequests'>;

// Decoders are cached per limit set: a server decodes every frame with the same limits.
const decoders = new Map<number, Decoder>();
function decoderFor(maxFrameBytes: number): Decoder {
  let decoder = decoders.get(maxFrameBytes);
  if (decoder === undefined) {
    // Lengths declared in a header can never legitimately exceed the frame itself.
    decoder = new Decoder({
      maxStrLength: maxFrameBytes,
      maxBinLength: maxFrameBytes,
      maxArrayLength: maxFrameBytes,
      maxMapLength: maxFrameBytes,
      maxExtLength: maxFrameBytes,
    });
    decoders.set(maxFrameBytes, decoder);
  }
  return decoder;
}

/**
 * Values a client frame may hold in all, per request its batch may hold: a get or set has at most
 * 7, a one-key rmw at most 15 (a set with an expiry, counting its arrays), and the rest leaves room
 * for fields a later version appends; a batch of multi-key rmws (del, msetnx) must be smaller to
 * fit (a single one may use the whole frame's budget). Enforced before decoding
 * (msgpack-scan.ts), so that a frame's decoding cost is bounded by the batch limit, not its bytes.
 */
export const MAX_VALUES_PER_REQUEST = 16;

/** The scan limits of a client frame under `limits` (the hello counts as one more request). */
export function clientFrameScanLimits(limits: Pick<WireLimits, 'maxBatchRequests'>): ScanLimits {
  return { maxDepth: MAX_FRAME_DEPTH, maxElements: (limits.maxBatchRequests + 1) * MAX_VALUES_PER_REQUEST };
}

/** Server frames (topology and status replies can be large) are bounded in depth only. */
const SERVER_FRAME_SCAN_LIMITS: ScanLimits = { maxDepth: MAX_FRAME_DEPTH, maxElements: Number.MAX_SAFE_INTEGER };

function decodeMsgpack(bytes: Uint8Array, maxFrameBytes: number, scanLimits: ScanLimits): unknown {
  if (bytes.byteLength > maxFrameBytes) {
    throw new FrameDecodeError(
      'frame-too-large',
      `frame of ${bytes.byteLength} bytes exceeds the limit of ${maxFrameBytes} bytes`,
    );
  }
  try {
    scanMsgpack(bytes, scanLimits);
  } catch (cause) {
    if (!(cause instanceof MsgpackScanError)) throw cause;
    throw new FrameDecodeError('malformed-frame', `frame refused before decoding: ${cause.message}`, { cause });
  }
  try {
    return decoderFor(maxFrameBytes).decode(bytes);
  } catch (cause) {
    throw new FrameDecodeError('malformed-frame', `frame is not valid msgpack: ${String(cause)}`, { cause });
  }
}

// ---- small validators: each returns the checked value or throws FrameDecodeError ----

function malformed(what: string): FrameDecodeError {
  return new FrameDecodeError('malformed-frame', `malformed frame: ${what}`);
}

function asArray(v: unknown, what: string, minLength: number): unknown[] {
  if (!Array.isArray(v) || v.length < minLength) throw malformed(`${what} must be an array of at least ${minLength}`);
  return v;
}

function asUint(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw malformed(`${what} must be an integer from 0 to ${max}`);
  }
  return v;
}

function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw malformed(`${what} must be a string`);
  return v;
}

function asBytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw malformed(`${what} must be binary`);
  return v;
}

function asNullable<T>(v: unknown, read: (v: unknown) => T): T | null {
  return v === null || v === undefined ? null : read(v);
}

const UINT32_MAX = 0xffff_ffff;

// ---- client frames ----

export function encodeClientFrame(frame: ClientFrame): Uint8Array {
  switch (frame.type) {
    case 'hello':
      return encoder.encode([FrameType.hello, frame.minVersion, frame.maxVersion, frame.client, frame.credentials]);
    case 'requests':
      return encoder.encode([FrameType.requests, frame.requests.map(requestToWire)]);
  }
}

/** Encodes a batch of requests straight from a list (the client's hot path). */
export function encodeRequests(requests: readonly (Request | AdminRequest)[]): Uint8Array {
  return encoder.encode([FrameType.requests, requests.map(requestToWire)]);
}

function requestToWire(r: Request | AdminRequest | RejectedRequest): unknown[] {
  switch (r.op) {
    case 'get':
      return withDeadline([r.id, OpCode.get, r.key, consistencyToWire(r.consistency)], r.deadlineMs);
    case 'set':
      return withDeadline([r.id, OpCode.set, r.key, r.value, r.ttlMs, consistencyToWire(r.consistency)], r.deadlineMs);
    case 'delete':
      return withDeadline([r.id, OpCode.delete, r.key, consistencyToWire(r.consistency)], r.deadlineMs);
    case 'topology':
      return [r.id, OpCode.topology];
    case 'status':
      return [r.id, OpCode.status];
    case 'hotkeys':
      return [r.id, OpCode.hotkeys, r.count, r.subscribe];
    case 'invalidations':
      return [r.id, OpCode.invalidations, r.partitions, r.prefixes.map(latin1Bytes)];
    case 'drain':
      return [r.id, OpCode.drain, r.action];
    case 'rmw':
      return withDeadline([r.id, OpCode.rmw, r.keys, rmwOpToWire(r.rmw), r.requestId, consistencyToWire(r.consistency)], r.deadlineMs);
    case 'rejected':
      throw new TypeError('a rejected request is a decoding result and cannot be encoded');
  }
}

/**
 * A request's deadline is its last element, appended only when there is one: a request without a
 * deadline is byte for byte what it was before the field existed, and a node that predates it
 * ignores the trailing element (receivers ignore trailing elements).
 */
function withDeadline(wire: unknown[], deadlineMs: number | undefined): unknown[] {
  if (deadlineMs !== undefined) wire.push(deadlineMs);
  return wire;
}

/** Sets `deadlineMs` from the wire: nil or absent (an older client) is no deadline. */
function deadlineFromWire<T extends { deadlineMs?: number }>(request: T, v: unknown): T {
  if (v !== null && v !== undefined) request.deadlineMs = asUint(v, 'deadlineMs');
  return request;
}

function consistencyToWire(c: Consistency | null): number | null {
  return c === null ? null : CONSISTENCY_NUMBERS[c];
}

function consistencyFromWire(v: unknown): Consistency | null {
  if (v === null || v === undefined) return null;
  const c = typeof v === 'number' ? CONSISTENCY_BY_NUMBER[v] : undefined;
  if (c === undefined) throw malformed('consistency must be nil, 1 (one), 2 (quorum) or 3 (all)');
  return c;
}

/**
 * Decodes a client frame. Throws FrameDecodeError for a frame the connection cannot survive; a
 * single bad request inside a well-formed batch becomes a `rejected` request instead.
 */
export function decodeClientFrame(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_WIRE_LIMITS): ClientFrame {
  const frame = asArray(decodeMsgpack(bytes, limits.maxFrameBytes, clientFrameScanLimits(limits)), 'frame', 1);
  switch (frame[0]) {
    case FrameType.hello: {
      asArray(frame, 'hello', 5);
      return {
        type: 'hello',
        minVersion: asUint(frame[1], 'hello.minVersion'),
        maxVersion: asUint(frame[2], 'hello.maxVersion'),
        client: asString(frame[3], 'hello.client'),
        credentials: asNullable(frame[4], credentialsFromWire),
      };
    }
    case FrameType.requests: {
      const list = asArray(asArray(frame, 'requests', 2)[1], 'requests list', 0);
      if (list.length > limits.maxBatchRequests) {
        throw new FrameDecodeError(
          'batch-too-large',
          `batch of ${list.length} requests exceeds the limit of ${limits.maxBatchRequests}`,
        );
      }
      return { type: 'requests', requests: list.map((r) => requestFromWire(r, limits)) };
    }
    default:
      throw malformed(`unknown client frame type ${String(frame[0])}`);
  }
}

function credentialsFromWire(v: unknown): Credentials {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw malformed('hello.credentials must be a map of strings');
  }
  for (const value of Object.values(v)) asString(value, 'a credential');
  return v as Credentials;
}

function requestFromWire(v: unknown, limits: DecodeLimits): Request | AdminRequest | RejectedRequest {
  // Only a request without a readable id breaks the frame: without it we cannot answer it.
  const r = asArray(v, 'request', 2);
  const id = asUint(r[0], 'request id', UINT32_MAX);
  try {
    return requestBodyFromWire(id, r, limits);
  } catch (error) {
    if (!(error instanceof FrameDecodeError)) throw error;
    const code = error.code === 'malformed-frame' ? 'bad-request' : error.code;
    return { op: 'rejected', id, code, message: error.message.replace(/^malformed frame: /, '') };
  }
}

function requestBodyFromWire(id: number, r: unknown[], limits: DecodeLimits): Request | AdminRequest {
  switch (r[1]) {
    case OpCode.get:
      asArray(r, 'get', 4);
      return deadlineFromWire<GetRequest>({ op: 'get', id, key: keyFromWire(r[2], limits), consistency: consistencyFromWire(r[3]) }, r[4]);
    case OpCode.set:
      asArray(r, 'set', 6);
      return deadlineFromWire<SetRequest>(
        {
          op: 'set',
          id,
          key: keyFromWire(r[2], limits),
          value: valueFromWire(r[3], limits),
          ttlMs: asUint(r[4], 'ttlMs'),
          consistency: consistencyFromWire(r[5]),
        },
        r[6],
      );
    case OpCode.delete:
      asArray(r, 'delete', 4);
      return deadlineFromWire<DeleteRequest>({ op: 'delete', id, key: keyFromWire(r[2], limits), consistency: consistencyFromWire(r[3]) }, r[4]);
    case OpCode.topology:
      return { op: 'topology', id };
    case OpCode.status:
      return { op: 'status', id };
    case OpCode.hotkeys:
      asArray(r, 'hotkeys', 4);
      if (typeof r[3] !== 'boolean') throw malformed('hotkeys.subscribe must be a boolean');
      return { op: 'hotkeys', id, count: asUint(r[2], 'hotkeys.count', 1_000_000), subscribe: r[3] };
    case OpCode.rmw:
      return rmwRequestFromWire(id, asArray(r, 'rmw', 6), limits);
    case OpCode.drain: {
      const action = asArray(r, 'drain', 3)[2];
      if (action !== 'drain' && action !== 'undrain') throw malformed(`drain.action must be one of ${DRAIN_ACTIONS.join(', ')}`);
      return { op: 'drain', id, action };
    }
    case OpCode.invalidations: {
      asArray(r, 'invalidations', 4);
      const partitions = asBytes(r[2], 'invalidations.partitions');
      if (partitions.byteLength > MAX_SUBSCRIPTION_BYTES) throw malformed(`invalidations.partitions is over ${MAX_SUBSCRIPTION_BYTES} bytes`);
      const prefixes = asArray(r[3], 'invalidations.prefixes', 0);
      if (prefixes.length > MAX_SUBSCRIPTION_PREFIXES) throw malformed(`more than ${MAX_SUBSCRIPTION_PREFIXES} invalidation prefixes`);
      return { op: 'invalidations', id, partitions, prefixes: prefixes.map((x) => latin1String(keyFromWire(x, limits))) };
    }
    default:
      throw new FrameDecodeError('unknown-op', `unknown op ${String(r[1])}`);
  }
}

function keyFromWire(v: unknown, limits: DecodeLimits): Uint8Array {
  const key = asBytes(v, 'key');
  if (key.byteLength > limits.maxKeyBytes) {
    throw new FrameDecodeError('key-too-large', `key of ${key.byteLength} bytes exceeds the limit of ${limits.maxKeyBytes}`);
  }
  return key;
}

function valueFromWire(v: unknown, limits: DecodeLimits): Uint8Array {
  const value = asBytes(v, 'value');
  if (value.byteLength > limits.maxValueBytes) {
    throw new FrameDecodeError(
      'value-too-large',
      `value of ${value.byteLength} bytes exceeds the limit of ${limits.maxValueBytes}`,
    );
  }
  return value;
}

// ---- server frames ----

export function encodeServerFrame(frame: ServerFrame): Uint8Array {
  switch (frame.type) {
    case 'welcome': {
      const l = frame.limits;
      return encoder.encode([
        FrameType.welcome,
        frame.version,
        frame.node,
        frame.topologyVersion,
        [l.maxFrameBytes, l.maxValueBytes, l.maxKeyBytes, l.maxBatchRequests],
      ]);
    }
    case 'replies':
      return encodeReplies(frame.replies);
    case 'push':
      return encoder.encode(pushToWire(frame.push));
    case 'error':
      return encoder.encode([FrameType.error, errorCodeNumber(frame.code), frame.message]);
  }
}

/** Encodes a batch of replies straight from a list (the server's hot path). */
export function encodeReplies(replies: readonly Reply[]): Uint8Array {
  return encoder.encode([FrameType.replies, replies.map(replyToWire)]);
}

/** The bytes a replies frame adds around its replies: its two-element array, type, and list header. */
export const REPLIES_FRAME_OVERHEAD_BYTES = 7;

/**
 * An upper bound on the bytes `reply` takes inside a replies frame, cheap for the common kinds, so a
 * server can split its replies into frames no larger than `maxFrameBytes` before encoding them.
 */
export function replyBytesBound(r: Reply): number {
  // Each uint (id, status, kind, acks) takes at most 9 bytes, a bin or str header 5, an array header 5.
  if (!r.ok) return 32 + 3 * (r.error.message.length + (r.error.topologyVersion?.length ?? 0));
  switch (r.result.kind) {
    case 'value':
      return 48 + (r.result.value?.byteLength ?? 0);
    case 'write':
      return 32;
    case 'rmw':
      return 48 + (r.result.result.kind === 'bulk' ? (r.result.result.value?.byteLength ?? 0) : 0);
    case 'topology':
    case 'status':
    case 'hotkeys':
    case 'drain':
      // Rare and not small: measured exactly.
      return encoder.encode(replyToWire(r)).byteLength;
  }
}

function replyToWire(r: Reply): unknown[] {
  if (!r.ok) return [r.id, errorCodeNumber(r.error.code), r.error.message, r.error.topologyVersion];
  const res = r.result;
  switch (res.kind) {
    case 'value':
      // A miss appends its reason; readers that predate it stop at acks.
      return res.miss === undefined ? [r.id, STATUS_OK, ResultKind.value, res.value, res.expiresAtMs, res.acks] : [r.id, STATUS_OK, ResultKind.value, res.value, res.expiresAtMs, res.acks, MissCode[res.miss]];
    case 'write':
      return [r.id, STATUS_OK, ResultKind.write, res.acks];
    case 'rmw':
      return [r.id, STATUS_OK, ResultKind.rmw, ...rmwResultToWire(res.result)];
    case 'topology': {
      const t = res.topology;
      const index = new Map(t.nodes.map((n, i) => [n.name, i]));
      const owners = t.owners.map((names) =>
        names.map((name) => {
          const i = index.get(name);
          if (i === undefined) throw new TypeError(`topology owner "${name}" is not among its nodes`);
          return i;
        }),
      );
      const nodes = t.nodes.map((n) => [n.name, n.clientAddress, n.zone]);
      return [r.id, STATUS_OK, ResultKind.topology, t.version, t.partitions, t.replicas, nodes, owners];
    }
    case 'status':
      // A map, not an array: status is for operators and tools, read rarely, and named fields let
      // a newer node add some without breaking older readers.
      return [r.id, STATUS_OK, ResultKind.status, res.status];
    case 'hotkeys':
      // A map too, for the same reason.
      return [r.id, STATUS_OK, ResultKind.hotkeys, res.hotkeys];
    case 'drain':
      return [r.id, STATUS_OK, ResultKind.drain, res.drain];
  }
}

function pushToWire(push: Push): unknown[] {
  switch (push.kind) {
    case 'ring-changed':
      return [FrameType.push, PushKind['ring-changed'], push.topologyVersion];
    case 'hotkey':
      return [FrameType.push, PushKind.hotkey, push.alert];
    case 'invalidations':
      return [FrameType.push, PushKind.invalidations, push.batch.heartbeat, push.batch.partitions.map(partitionInvalidationsToWire)];
    case 'unknown':
      throw new TypeError('an unknown push is a decoding result and cannot be encoded');
  }
}

/** Decodes a server frame; throws FrameDecodeError for anything else. */
export function decodeServerFrame(bytes: Uint8Array, maxFrameBytes = Number.MAX_SAFE_INTEGER): ServerFrame {
  const frame = asArray(decodeMsgpack(bytes, maxFrameBytes, SERVER_FRAME_SCAN_LIMITS), 'frame', 1);
  switch (frame[0]) {
    case FrameType.welcome: {
      asArray(frame, 'welcome', 5);
      const l = asArray(frame[4], 'welcome.limits', 4);
      return {
        type: 'welcome',
        version: asUint(frame[1], 'welcome.version'),
        node: asString(frame[2], 'welcome.node'),
        topologyVersion: asString(frame[3], 'welcome.topologyVersion'),
        limits: {
          maxFrameBytes: asUint(l[0], 'maxFrameBytes'),
          maxValueBytes: asUint(l[1], 'maxValueBytes'),
          maxKeyBytes: asUint(l[2], 'maxKeyBytes'),
          maxBatchRequests: asUint(l[3], 'maxBatchRequests'),
        },
      };
    }
    case FrameType.replies:
      return { type: 'replies', replies: asArray(asArray(frame, 'replies', 2)[1], 'replies list', 0).map(replyFromWire) };
    case FrameType.push:
      return { type: 'push', push: pushFromWire(asArray(frame, 'push', 2)) };
    case FrameType.error:
      asArray(frame, 'error', 3);
      return { type: 'error', code: errorCodeFromWire(frame[1]), message: asString(frame[2], 'error.message') };
    default:
      throw malformed(`unknown server frame type ${String(frame[0])}`);
  }
}

/** An error number a newer server may send that this version does not know reads as `internal`. */
function errorCodeFromWire(v: unknown): ErrorCode {
  return errorCodeFromNumber(asUint(v, 'error code')) ?? 'internal';
}

function replyFromWire(v: unknown): Reply {
  const r = asArray(v, 'reply', 3);
  const id = asUint(r[0], 'reply id', UINT32_MAX);
  const status = asUint(r[1], 'reply status');
  if (status !== STATUS_OK) {
    return {
      id,
      ok: false,
      error: {
        code: errorCodeFromWire(status),
        message: asString(r[2], 'reply error message'),
        topologyVersion: asNullable(r[3], (x) => asString(x, 'reply topologyVersion')),
      },
    };
  }
  return { id, ok: true, result: resultFromWire(r) };
}

function resultFromWire(r: unknown[]): ReplyResult {
  switch (r[2]) {
    case ResultKind.value:
      asArray(r, 'value reply', 6);
      return {
        kind: 'value',
        value: asNullable(r[3], (x) => asBytes(x, 'value')),
        expiresAtMs: asNullable(r[4], (x) => asUint(x, 'expiresAtMs')),
        acks: asUint(r[5], 'acks'),
        ...(r[6] === undefined ? {} : missFromWire(asUint(r[6], 'miss reason'))),
      };
    case ResultKind.write:
      asArray(r, 'write reply', 4);
      return { kind: 'write', acks: asUint(r[3], 'acks') };
    case ResultKind.topology:
      asArray(r, 'topology reply', 8);
      return { kind: 'topology', topology: topologyFromWire(r) };
    case ResultKind.status:
      asArray(r, 'status reply', 4);
      return { kind: 'status', status: statusFromWire(r[3]) };
    case ResultKind.rmw:
      return { kind: 'rmw', result: rmwResultFromWire(asArray(r, 'rmw reply', 4)) };
    case ResultKind.hotkeys:
      asArray(r, 'hotkeys reply', 4);
      return { kind: 'hotkeys', hotkeys: hotKeysFromWire(r[3]) };
    case ResultKind.drain:
      asArray(r, 'drain reply', 4);
      return { kind: 'drain', drain: drainStatusFromWire(r[3]) };
    default:
      throw malformed(`unknown reply kind ${String(r[2])}`);
  }
}

function topologyFromWire(r: unknown[]): WireTopology {
  const nodes = asArray(r[6], 'topology nodes', 0).map((n) => {
    const a = asArray(n, 'topology node', 3);
    return { name: asString(a[0], 'node name'), clientAddress: asString(a[1], 'node address'), zone: asString(a[2], 'node zone') };
  });
  const partitions = asUint(r[4], 'partitions');
  const ownersWire = asArray(r[7], 'topology owners', 0);
  if (ownersWire.length !== partitions) throw malformed(`topology has ${ownersWire.length} owner lists for ${partitions} partitions`);
  const owners = ownersWire.map((list) =>
    asArray(list, 'owner list', 0).map((i) => nodes[asUint(i, 'owner index', nodes.length - 1)]!.name),
  );
  return { version: asString(r[3], 'topology version'), partitions, replicas: asUint(r[5], 'replicas'), nodes, owners };
}

function asNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw malformed(`${what} must be a number`);
  return v;
}

function hotKeyAlertFromWire(v: unknown): WireHotKeyAlert {
  const m = asMap(v, 'hot-key alert');
  return {
    key: asString(m.key, 'alert.key'),
    node: asString(m.node, 'alert.node'),
    rate: asNumber(m.rate, 'alert.rate'),
    threshold: asNumber(m.threshold, 'alert.threshold'),
    sinceMs: asNumber(m.sinceMs, 'alert.sinceMs'),
    atMs: asNumber(m.atMs, 'alert.atMs'),
    cleared: m.cleared === true,
  };
}

function hotKeysFromWire(v: unknown): WireHotKeys {
  const m = asMap(v, 'hotkeys');
  const keys = asArray(m.keys, 'hotkeys.keys', 0).map((k) => {
    const e = asMap(k, 'hot key');
    return { key: asString(e.key, 'hot key'), rate: asNumber(e.rate, 'hot key rate'), count: asNumber(e.count, 'hot key count'), error: asNumber(e.error, 'hot key error') };
  });
  return { node: asString(m.node, 'hotkeys.node'), atMs: asNumber(m.atMs, 'hotkeys.atMs'), alertRate: asNumber(m.alertRate, 'hotkeys.alertRate'), keys, alerts: asArray(m.alerts, 'hotkeys.alerts', 0).map(hotKeyAlertFromWire) };
}

function asMap(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw malformed(`${what} must be a map`);
  return v as Record<string, unknown>;
}

const STATUS_STRINGS = ['node', 'cluster', 'zone', 'version', 'ringVersion'] as const;
const STATUS_UINTS = ['uptimeMs', 'partitions', 'replicas', 'readQuorum', 'writeQuorum', 'held', 'catchingUp', 'toHandOff', 'clientConnections'] as const;
const MEMBER_STRINGS = ['name', 'address', 'clientAddress', 'zone', 'state'] as const;
const MEMBER_UINTS = ['incarnation', 'partitions', 'primaries'] as const;

function statusFromWire(v: unknown): NodeStatus {
  const m = asMap(v, 'status');
  const out: Record<string, unknown> = {};
  for (const key of STATUS_STRINGS) out[key] = asString(m[key], `status.${key}`);
  for (const key of STATUS_UINTS) out[key] = asUint(m[key], `status.${key}`);
  if (typeof m['joined'] !== 'boolean') throw malformed('status.joined must be a boolean');
  out['joined'] = m['joined'];
  out['members'] = asArray(m['members'], 'status.members', 0).map(memberStatusFromWire);
  out['joining'] = joiningFromWire(m['joining']);
  if (m['requests'] !== undefined) out['requests'] = requestStatusFromWire(m['requests']);
  if (m['catchUp'] !== undefined) out['catchUp'] = catchUpStatusFromWire(m['catchUp']);
  if (m['analytics'] !== undefined) out['analytics'] = analyticsFromWire(m['analytics'], malformed);
  if (m['disk'] !== undefined) out['disk'] = diskStatusFromWire(m['disk']);
  if (m['drain'] !== undefined) out['drain'] = drainStatusFromWire(m['drain']);
  if (m['health'] !== undefined) out['health'] = healthStatusFromWire(m['health'], malformed);
  if (m['hints'] !== undefined) {
    const hints = asMap(m['hints'], 'status.hints');
    out['hints'] = { held: asUint(hints['held'], 'status.hints.held'), heldBytes: asUint(hints['heldBytes'], 'status.hints.heldBytes') };
  }
  if (m['memory'] !== undefined) out['memory'] = memoryStatusFromWire(m['memory']);
  return out as unknown as NodeStatus;
}

const MEMORY_UINTS = ['bytes', 'maxBytes', 'entries', 'evicted'] as const;

function memoryStatusFromWire(v: unknown): MemoryStatus {
  const m = asMap(v, 'status.memory');
  const out: Record<string, unknown> = { policy: asString(m['policy'], 'status.memory.policy') };
  for (const key of MEMORY_UINTS) out[key] = asUint(m[key], `status.memory.${key}`);
  return out as unknown as MemoryStatus;
}

const DRAIN_UINTS = ['partitionsAtStart', 'partitionsLeft', 'keysHandedOff', 'bytesHandedOff', 'elapsedMs'] as const;

function drainStatusFromWire(v: unknown): DrainStatus {
  const m = asMap(v, 'drain');
  const out: Record<string, unknown> = { state: asString(m['state'], 'drain.state') };
  for (const key of DRAIN_UINTS) out[key] = asUint(m[key], `drain.${key}`);
  return out as unknown as DrainStatus;
}

/** `joining` is absent from older nodes' statuses: null, as for a joined node. */
function joiningFromWire(v: unknown): NodeStatus['joining'] {
  if (v === undefined || v === null) return null;
  return { waitingFor: asString(asMap(v, 'status.joining')['waitingFor'], 'status.joining.waitingFor') };
}

function requestStatusFromWire(v: unknown): RequestStatus {
  const m = asMap(v, 'status.requests');
  const misses = asMap(m['misses'], 'status.requests.misses');
  return {
    configuredReplicas: asUint(m['configuredReplicas'], 'status.requests.configuredReplicas'),
    effectiveReadQuorum: asUint(m['effectiveReadQuorum'], 'status.requests.effectiveReadQuorum'),
    effectiveWriteQuorum: asUint(m['effectiveWriteQuorum'], 'status.requests.effectiveWriteQuorum'),
    misses: {
      absent: asUint(misses['absent'], 'status.requests.misses.absent'),
      deleted: asUint(misses['deleted'], 'status.requests.misses.deleted'),
      expired: asUint(misses['expired'], 'status.requests.misses.expired'),
      evicted: asUint(misses['evicted'], 'status.requests.misses.evicted'),
    },
  };
}

const CATCH_UP_UINTS = ['partitionsLeft', 'partitions', 'keysReceived', 'bytesReceived', 'keysEvictedAtSource', 'elapsedMs'] as const;

function catchUpStatusFromWire(v: unknown): CatchUpStatus {
  const m = asMap(v, 'status.catchUp');
  const out: Record<string, unknown> = {};
  for (const key of CATCH_UP_UINTS) out[key] = asUint(m[key], `status.catchUp.${key}`);
  return out as unknown as CatchUpStatus;
}

const DISK_UINTS = ['entries', 'puts', 'hits', 'deviceReads', 'corrupt', 'deviceBytesWritten', 'appBytes'] as const;

function diskStatusFromWire(v: unknown): DiskStatus {
  const m = asMap(v, 'status.disk');
  const out: Record<string, unknown> = {};
  for (const key of DISK_UINTS) out[key] = asUint(m[key], `status.disk.${key}`);
  if (m['writeErrors'] !== undefined) out['writeErrors'] = asUint(m['writeErrors'], 'status.disk.writeErrors');
  return out as unknown as DiskStatus;
}

function memberStatusFromWire(v: unknown): MemberStatus {
  const m = asMap(v, 'member status');
  const out: Record<string, unknown> = {};
  for (const key of MEMBER_STRINGS) out[key] = asString(m[key], `member.${key}`);
  for (const key of MEMBER_UINTS) out[key] = asUint(m[key], `member.${key}`);
  if (m['reason'] !== undefined && m['reason'] !== null) out['reason'] = asString(m['reason'], 'member.reason');
  if (m['health'] !== undefined) {
    const h = asMap(m['health'], 'member.health');
    if (typeof h['degraded'] !== 'boolean') throw malformed('member.health.degraded must be a boolean');
    out['health'] = {
      degraded: h['degraded'],
      score: asNumber(h['score'], 'member.health.score'),
      ...(h['failureProbability'] === undefined ? {} : { failureProbability: asNumber(h['failureProbability'], 'member.health.failureProbability') }),
      ...(h['secondsToFailure'] === undefined ? {} : { secondsToFailure: asNumber(h['secondsToFailure'], 'member.health.secondsToFailure') }),
    };
  }
  if (m['draining'] !== undefined) {
    if (typeof m['draining'] !== 'boolean') throw malformed('member.draining must be a boolean');
    out['draining'] = m['draining'];
  }
  if (m['onAnotherRing'] !== undefined) {
    if (typeof m['onAnotherRing'] !== 'boolean') throw malformed('member.onAnotherRing must be a boolean');
    out['onAnotherRing'] = m['onAnotherRing'];
  }
  return out as unknown as MemberStatus;
}

function pushFromWire(frame: unknown[]): Push {
  const kind = asUint(frame[1], 'push kind');
  if (kind === PushKind['ring-changed']) {
    asArray(frame, 'ring-changed push', 3);
    return { kind: 'ring-changed', topologyVersion: asString(frame[2], 'push topologyVersion') };
  }
  if (kind === PushKind.hotkey) return { kind: 'hotkey', alert: hotKeyAlertFromWire(asArray(frame, 'hotkey push', 3)[2]) };
  if (kind === PushKind.invalidations) {
    asArray(frame, 'invalidations push', 4);
    if (typeof frame[2] !== 'boolean') throw malformed('invalidations.heartbeat must be a boolean');
    return { kind: 'invalidations', batch: { heartbeat: frame[2], partitions: asArray(frame[3], 'invalidations', 0).map(partitionInvalidationsFromWire) } };
  }
  return { kind: 'unknown', code: kind };
}

// ---- read-modify-write (op 6, result kind 5) ----

/** Operation numbers inside an rmw request's operation array (its element 0). */
export const RmwOpCode = {
  incrby: 1,
  incrbyfloat: 2,
  append: 3,
  setrange: 4,
  set: 5,
  getdel: 6,
  getex: 7,
  expire: 8,
  persist: 9,
  del: 10,
  rename: 11,
  msetnx: 12,
  copy: 13,
} as const satisfies Record<WireRmwOp['op'], number>;
const RMW_OP_BY_CODE = new Map<unknown, WireRmwOp['op']>(Object.entries(RmwOpCode).map(([op, code]) => [code, op as WireRmwOp['op']]));

/** Expiry kinds: `[0]` keep, `[1]` none, `[2, atMs]` absolute, `[3, ttlMs]` relative to receipt. */
const RmwExpiryCode = { keep: 0, none: 1, at: 2, in: 3 } as const;

/** Conditions of set (0-2) and expire (0-4). */
const RMW_CONDITIONS = ['always', 'nx', 'xx', 'gt', 'lt'] as const;

/** Result tags of an rmw reply (its element 3). */
const RmwResultTag = { ok: 1, integer: 2, bulk: 3, error: 4 } as const;

/** Why an rmw wrote nothing, on the wire. Never renumbered; an unknown number reads as `unknown`. */
export const RmwErrorNumber: Readonly<Record<WireRmwErrorCode, number>> = {
  'not-integer': 1,
  overflow: 2,
  'not-float': 3,
  'nan-or-infinity': 4,
  'no-such-key': 5,
  'too-large': 6,
};
const RMW_ERROR_BY_NUMBER = new Map(Object.entries(RmwErrorNumber).map(([code, n]) => [n, code as WireRmwErrorCode]));

/** Longest idempotency key a node accepts (it keeps recent ones in memory): 128 UTF-16 units. */
export const MAX_RMW_REQUEST_ID_LENGTH = 128;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** 64-bit integers travel as decimal strings: msgpack numbers decode to doubles, which lose digits past 2^53. */
function int64FromWire(v: unknown, what: string): bigint {
  const text = asString(v, what);
  if (!/^-?(0|[1-9][0-9]{0,18})$/.test(text)) throw malformed(`${what} must be a decimal 64-bit integer`);
  const n = BigInt(text);
  if (n < INT64_MIN || n > INT64_MAX) throw malformed(`${what} must be a decimal 64-bit integer`);
  return n;
}

function rmwExpiryToWire(e: WireRmwExpiry): unknown[] {
  switch (e.kind) {
    case 'keep':
    case 'none':
      return [RmwExpiryCode[e.kind]];
    case 'at':
      return [RmwExpiryCode.at, e.atMs];
    case 'in':
      return [RmwExpiryCode.in, e.ttlMs];
  }
}

function rmwExpiryFromWire(v: unknown): WireRmwExpiry {
  const e = asArray(v, 'rmw expiry', 1);
  switch (e[0]) {
    case RmwExpiryCode.keep:
      return { kind: 'keep' };
    case RmwExpiryCode.none:
      return { kind: 'none' };
    case RmwExpiryCode.at:
      return { kind: 'at', atMs: asUint(asArray(e, 'rmw expiry', 2)[1], 'rmw expiry atMs') };
    case RmwExpiryCode.in: {
      const ttlMs = asUint(asArray(e, 'rmw expiry', 2)[1], 'rmw expiry ttlMs');
      if (ttlMs === 0) throw malformed('rmw expiry ttlMs must be positive');
      return { kind: 'in', ttlMs };
    }
    default:
      throw malformed(`unknown rmw expiry kind ${String(e[0])}`);
  }
}

function rmwConditionFromWire<C extends string>(v: unknown, allowed: readonly C[]): C {
  const condition = allowed[asUint(v, 'rmw condition', allowed.length - 1)];
  if (condition === undefined) throw malformed('rmw condition out of range');
  return condition;
}

function asBoolean(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw malformed(`${what} must be a boolean`);
  return v;
}

function rmwOpToWire(o: WireRmwOp): unknown[] {
  const code = RmwOpCode[o.op];
  switch (o.op) {
    case 'incrby':
      return [code, o.by.toString()];
    case 'incrbyfloat':
      return [code, o.by];
    case 'append':
      return [code, o.value];
    case 'setrange':
      return [code, o.offset, o.value];
    case 'set':
      return [code, o.value, rmwExpiryToWire(o.expiry), RMW_CONDITIONS.indexOf(o.condition), o.get];
    case 'getdel':
    case 'persist':
    case 'del':
      return [code];
    case 'getex':
      return [code, o.expiry === null ? null : rmwExpiryToWire(o.expiry)];
    case 'expire':
      return [code, o.atMs, RMW_CONDITIONS.indexOf(o.condition)];
    case 'rename':
      return [code, o.nx];
    case 'msetnx':
      return [code, o.values];
    case 'copy':
      return [code, o.replace];
  }
}

function rmwOpFromWire(v: unknown, limits: DecodeLimits): WireRmwOp {
  const o = asArray(v, 'rmw operation', 1);
  const op = RMW_OP_BY_CODE.get(o[0]);
  if (op === undefined) throw new FrameDecodeError('unknown-op', `unknown rmw operation ${String(o[0])}`);
  const field = (i: number): unknown => asArray(o, `rmw ${op}`, i + 1)[i];
  switch (op) {
    case 'incrby':
      return { op, by: int64FromWire(field(1), 'incrby amount') };
    case 'incrbyfloat': {
      const by = asString(field(1), 'incrbyfloat amount');
      // A long double has at most a few thousand digits; anything longer is not a number Redis takes.
      if (by.length > 5000) throw malformed('incrbyfloat amount is too long');
      return { op, by };
    }
    case 'append':
      return { op, value: valueFromWire(field(1), limits) };
    case 'setrange':
      return { op, offset: asUint(field(1), 'setrange offset'), value: valueFromWire(field(2), limits) };
    case 'set':
      return {
        op,
        value: valueFromWire(field(1), limits),
        expiry: rmwExpiryFromWire(field(2)),
        condition: rmwConditionFromWire(field(3), RMW_CONDITIONS.slice(0, 3) as ('always' | 'nx' | 'xx')[]),
        get: asBoolean(field(4), 'set get'),
      };
    case 'getdel':
    case 'persist':
    case 'del':
      return { op };
    case 'getex':
      return { op, expiry: asNullable(field(1), rmwExpiryFromWire) };
    case 'expire':
      return { op, atMs: asUint(field(1), 'expire atMs'), condition: rmwConditionFromWire(field(2), RMW_CONDITIONS) };
    case 'rename':
      return { op, nx: asBoolean(field(1), 'rename nx') };
    case 'msetnx':
      return { op, values: asArray(field(1), 'msetnx values', 1).map((value) => valueFromWire(value, limits)) };
    case 'copy':
      return { op, replace: asBoolean(field(1), 'copy replace') };
  }
}

/** How many keys each operation takes: most take one; del any; rename and copy two; msetnx one per value. */
function checkRmwKeys(o: WireRmwOp, keys: Uint8Array[]): void {
  const expected = o.op === 'rename' || o.op === 'copy' ? 2 : o.op === 'msetnx' ? o.values.length : o.op === 'del' ? null : 1;
  if (keys.length === 0) throw malformed('rmw needs at least one key');
  if (expected !== null && keys.length !== expected) throw malformed(`rmw ${o.op} takes ${expected} key(s), got ${keys.length}`);
  // Redis refuses a copy to itself (COPY's "source and destination objects are the same").
  if (o.op === 'copy' && sameBytes(keys[0]!, keys[1]!)) throw malformed('rmw copy needs two different keys');
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function rmwRequestFromWire(id: number, r: unknown[], limits: DecodeLimits): RmwRequest {
  const keys = asArray(r[2], 'rmw keys', 0).map((key) => keyFromWire(key, limits));
  const rmw = rmwOpFromWire(r[3], limits);
  checkRmwKeys(rmw, keys);
  const requestId = asNullable(r[4], (x) => asString(x, 'rmw request id'));
  if (requestId !== null && (requestId.length === 0 || requestId.length > MAX_RMW_REQUEST_ID_LENGTH)) {
    throw malformed(`rmw request id must be 1 to ${MAX_RMW_REQUEST_ID_LENGTH} characters`);
  }
  const request: RmwRequest = { op: 'rmw', id, keys, rmw, requestId, consistency: consistencyFromWire(r[5]) };
  return deadlineFromWire(request, r[6]);
}

function rmwResultToWire(res: WireRmwResult): unknown[] {
  switch (res.kind) {
    case 'ok':
      return [RmwResultTag.ok];
    case 'integer':
      return [RmwResultTag.integer, res.value.toString()];
    case 'bulk':
      return [RmwResultTag.bulk, res.value];
    case 'error':
      if (res.code === 'unknown') throw new TypeError('an unknown rmw error is a decoding result and cannot be encoded');
      return [RmwResultTag.error, RmwErrorNumber[res.code]];
  }
}

function rmwResultFromWire(r: unknown[]): WireRmwResult {
  switch (r[3]) {
    case RmwResultTag.ok:
      return { kind: 'ok' };
    case RmwResultTag.integer:
      return { kind: 'integer', value: int64FromWire(asArray(r, 'rmw integer reply', 5)[4], 'rmw integer') };
    case RmwResultTag.bulk:
      return { kind: 'bulk', value: asNullable(asArray(r, 'rmw bulk reply', 5)[4], (x) => asBytes(x, 'rmw bulk')) };
    case RmwResultTag.error: {
      const number = asUint(asArray(r, 'rmw error reply', 5)[4], 'rmw error');
      const code = RMW_ERROR_BY_NUMBER.get(number);
      return code === undefined ? { kind: 'error', code: 'unknown', number } : { kind: 'error', code };
    }
    default:
      throw malformed(`unknown rmw result ${String(r[3])}`);
  }
}

// ---- invalidations (op 8, push kind 2) ----

/** A subscription names at most 65,536 partitions (the bitset's bytes) and this many prefixes. */
export const MAX_SUBSCRIPTION_BYTES = 8192;
export const MAX_SUBSCRIPTION_PREFIXES = 64;

/** Keys travel as bytes; nodes and near caches hold them as one char per byte (storeKeyToKey's inverse). */
function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function latin1String(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

/** [partition, epoch, seq, count, [key, wallMs, logical, node, key, ...]] */
function partitionInvalidationsToWire(e: PartitionInvalidations): unknown[] {
  const keys: unknown[] = [];
  for (const k of e.keys) keys.push(latin1Bytes(k.key), k.version.wallMs, k.version.logical, k.version.node);
  return [e.partition, e.epoch, e.seq, e.count, keys];
}

function partitionInvalidationsFromWire(v: unknown): PartitionInvalidations {
  const a = asArray(v, 'partition invalidations', 5);
  const flat = asArray(a[4], 'invalidated keys', 0);
  if (flat.length % 4 !== 0) throw malformed('invalidated keys come in fours');
  const keys: PartitionInvalidations['keys'] = [];
  for (let i = 0; i < flat.length; i += 4) {
    keys.push({
      key: latin1String(asBytes(flat[i], 'invalidated key')),
      version: { wallMs: asNumber(flat[i + 1], 'version.wallMs'), logical: asUint(flat[i + 2], 'version.logical'), node: asUint(flat[i + 3], 'version.node') },
    });
  }
  return { partition: asUint(a[0], 'partition'), epoch: asUint(a[1], 'epoch'), seq: asUint(a[2], 'seq'), count: asUint(a[3], 'count'), keys };
}

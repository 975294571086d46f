/**
 * One client connection on the server: the hello handshake, then batches of requests served by a
 * KvService, with replies batched back. A frame the connection cannot survive (malformed, too
 * large, wrong order) gets an `error` frame and closes this connection only.
 */
import type { WebSocket } from 'ws';
import type { Consistency, GetResult, KvError, KvService, WriteResult } from '../replication/api.ts';
import {
  FrameDecodeError,
  decodeClientFrame,
  encodeReplies,
  encodeServerFrame,
  negotiateVersion,
  type ErrorCode,
  type AdminRequest,
  type HelloFrame,
  type NodeStatus,
  type RejectedRequest,
  type Reply,
  type ReplyResult,
  type Request,
  type WireLimits,
} from '../protocol/index.ts';
import { partitionOf } from '../ring/partition.ts';
import type { Logger } from '../runtime/env.ts';

/** WebSocket close codes (RFC 6455 section 7.4.1) used for connection-level errors. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
} as const;

const CLOSE_CODE_FOR: Partial<Record<ErrorCode, number>> = {
  'frame-too-large': CloseCode.messageTooBig,
  'batch-too-large': CloseCode.messageTooBig,
  'hello-timeout': CloseCode.policyViolation,
  unauthenticated: CloseCode.policyViolation,
};

/**
 * Replies buffered for a client that does not read them. Past this the connection is closed, so a
 * client that only sends cannot make the server buffer without bound.
 */
export const UNREAD_REPLIES_LIMIT_BYTES = 64 * 1024 * 1024;

/** Counters shared by every session of one server (for metrics, benchmarks and tests). */
export interface ClientServerStats {
  /** WebSocket messages received from clients (hello included). */
  framesReceived: number;
  /** Requests received inside `requests` frames. */
  requestsReceived: number;
  /** `replies` frames sent. */
  replyFramesSent: number;
  /** Connections closed because of a connection-level error. */
  connectionsFailed: number;
  /** Connections closed because their client did not read its replies. */
  connectionsClosedUnread: number;
}

export interface SessionConfig {
  stats: ClientServerStats;
  kv: KvService;
  nodeName: string;
  limits: WireLimits;
  maxInFlight: number;
  helloTimeoutMs: number;
  /** Answer `not-owner` for keys this node does not hold (see ClientServerOptions.ownersOnly). */
  ownersOnly: boolean;
  /** Answers `status` requests (see ClientServerOptions.status); null: they get `unknown-op`. */
  status: (() => NodeStatus) | null;
  log: Logger;
}

/**
 * A KvService callback (`Callback<T>` accepts it: its error type is wider), which the server may
 * also call itself with a protocol error such as `internal`.
 */
type Completion<T> = (error: { code: ErrorCode; message: string } | KvError | null, result?: T) => void;

type SessionState = 'awaiting-hello' | 'ready' | 'closed';

export class ClientSession {
  private state: SessionState = 'awaiting-hello';
  private inFlight = 0;
  private outbox: Reply[] = [];
  private flushScheduled = false;
  private shuttingDown = false;
  private readonly helloTimer: NodeJS.Timeout;
  /** Resolved when the last in-flight request has been answered (used by a graceful close). */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: WebSocket,
    private readonly config: SessionConfig,
    private readonly remote: string,
  ) {
    this.helloTimer = setTimeout(
      () => this.fail('hello-timeout', `no hello within ${config.helloTimeoutMs} ms`),
      config.helloTimeoutMs,
    );
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', () => this.onClosed());
    // A socket error is followed by 'close'; logging it is all there is to do.
    socket.on('error', (error) => config.log.debug({ remote, err: error.message }, 'client socket error'));
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** Sends a frame if the handshake is done (pushes before welcome would confuse the client). */
  push(bytes: Uint8Array): void {
    if (this.state === 'ready') this.socket.send(bytes);
  }

  /** Stops taking new requests: they get `shutting-down`; in-flight ones still complete. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Resolves once nothing is in flight and every reply has been handed to the socket. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0 && this.outbox.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.socket.close(code, reason);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.config.stats.framesReceived++;
    if (!isBinary) {
      this.fail('malformed-frame', 'frames must be binary WebSocket messages (msgpack)');
      return;
    }
    let frame;
    try {
      // A plain Uint8Array view, so keys and values handed to the service are not Buffers.
      frame = decodeClientFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.config.limits);
    } catch (error) {
      if (!(error instanceof FrameDecodeError)) throw error;
      this.fail(error.code, error.message);
      return;
    }
    if (frame.type === 'hello') {
      this.onHello(frame);
      return;
    }
    if (this.state !== 'ready') {
      this.fail('hello-required', 'the first frame on a connection must be hello');
      return;
    }
    this.config.stats.requestsReceived += frame.requests.length;
    for (const request of frame.requests) this.serve(request);
  }

  private onHello(hello: HelloFrame): void {
    if (this.state === 'ready') {
      this.fail('hello-required', 'hello was sent twice on one connection');
      return;
    }
    const version = negotiateVersion(hello.minVersion, hello.maxVersion);
    if (version === null) {
      this.fail('unsupported-version', `client speaks protocol versions ${hello.minVersion}..${hello.maxVersion}, which this server does not`);
      return;
    }
    // hello.credentials is where authentication will plug in; every client is accepted until then.
    clearTimeout(this.helloTimer);
    this.state = 'ready';
    this.socket.send(
      encodeServerFrame({
        type: 'welcome',
        version,
        node: this.config.nodeName,
        topologyVersion: this.config.kv.topology().version,
        limits: this.config.limits,
      }),
    );
    this.config.log.debug({ remote: this.remote, client: hello.client, version }, 'client connected');
  }

  private serve(request: Request | AdminRequest | RejectedRequest): void {
    const { id } = request;
    if (request.op === 'rejected') return this.replyError(id, request.code, request.message);
    // Status is answered even while shutting down: an operator wants to watch a node leave.
    if (request.op === 'status') return this.serveStatus(id);
    if (this.shuttingDown) return this.replyError(id, 'shutting-down', 'this node is shutting down; use another node');
    if (this.inFlight >= this.config.maxInFlight) {
      return this.replyError(id, 'overloaded', `more than ${this.config.maxInFlight} requests in flight on this connection`);
    }
    const kv = this.config.kv;
    if (request.op === 'topology') return this.reply({ id, ok: true, result: { kind: 'topology', topology: kv.topology() } });
    if (this.config.ownersOnly && !this.owns(request.key)) {
      return this.reply({
        id,
        ok: false,
        error: { code: 'not-owner', message: 'this node does not hold that key', topologyVersion: kv.topology().version },
      });
    }
    // Key and value are views into the frame, lent to the service for the call only (KvService
    // copies what it keeps), so nothing is copied here.
    const key = request.key;
    this.inFlight++;
    switch (request.op) {
      case 'get': {
        const done = this.completion(id, toValueResult);
        return this.invoke(request.op, done, () => kv.get(key, consistencyOption(request.consistency), done));
      }
      case 'set': {
        const done = this.completion(id, toWriteResult);
        const options = request.consistency === null ? { ttlMs: request.ttlMs } : { consistency: request.consistency, ttlMs: request.ttlMs };
        return this.invoke(request.op, done, () => kv.set(key, request.value, options, done));
      }
      case 'delete': {
        const done = this.completion(id, toWriteResult);
        return this.invoke(request.op, done, () => kv.delete(key, consistencyOption(request.consistency), done));
      }
    }
  }

  private serveStatus(id: number): void {
    const status = this.config.status;
    if (status === null) return this.replyError(id, 'unknown-op', 'this server does not report status');
    try {
      this.reply({ id, ok: true, result: { kind: 'status', status: status() } });
    } catch (error) {
      this.config.log.error({ err: error }, 'status provider threw');
      this.replyError(id, 'internal', `status failed: ${String(error)}`);
    }
  }

  /** Calls the service; a throwing KvService is a bug in the node, answered rather than left hanging. */
  private invoke<T>(op: string, done: Completion<T>, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.config.log.error({ err: error, op }, 'KvService threw');
      done({ code: 'internal', message: `${op} failed: ${String(error)}` });
    }
  }

  private owns(key: Uint8Array): boolean {
    const topology = this.config.kv.topology();
    const owners = topology.owners[partitionOf(key, topology.partitions)] ?? [];
    return owners.includes(this.config.nodeName);
  }

  /** A KvService callback that answers request `id` exactly once. */
  private completion<T>(id: number, toResult: (result: T) => ReplyResult): Completion<T> {
    let called = false;
    return (error, result) => {
      if (called) {
        this.config.log.warn({ id }, 'KvService called back twice for one request; ignoring the second');
        return;
      }
      called = true;
      if (error !== null || result === undefined) {
        const code: ErrorCode = error?.code ?? 'internal';
        const message = error?.message ?? 'KvService returned neither an error nor a result';
        this.settle({ id, ok: false, error: { code, message, topologyVersion: null } });
      } else {
        this.settle({ id, ok: true, result: toResult(result) });
      }
    };
  }

  /** Answers a request that was counted in flight. */
  private settle(reply: Reply): void {
    this.inFlight--;
    this.reply(reply);
  }

  private replyError(id: number, code: ErrorCode, message: string): void {
    this.reply({ id, ok: false, error: { code, message, topologyVersion: null } });
  }

  /**
   * Queues a reply. Replies that complete in the same turn of the event loop (all of a batch, when
   * the service answers synchronously) leave in one WebSocket message.
   */
  private reply(reply: Reply): void {
    if (this.state === 'closed') return;
    this.outbox.push(reply);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const replies = this.outbox;
    this.outbox = [];
    if (this.state !== 'closed' && replies.length > 0) {
      this.socket.send(encodeReplies(replies));
      this.config.stats.replyFramesSent++;
      if (this.socket.bufferedAmount > UNREAD_REPLIES_LIMIT_BYTES) {
        this.config.log.warn({ remote: this.remote, buffered: this.socket.bufferedAmount }, 'closing a client that does not read its replies');
        this.config.stats.connectionsClosedUnread++;
        this.close(CloseCode.policyViolation, 'replies not read');
      }
    }
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Sends a connection-level error and closes this connection; nothing else is affected. */
  private fail(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    this.config.log.info({ remote: this.remote, code, message }, 'closing client connection');
    this.config.stats.connectionsFailed++;
    this.socket.send(encodeServerFrame({ type: 'error', code, message }));
    this.close(CLOSE_CODE_FOR[code] ?? CloseCode.protocolError, code);
  }

  private onClosed(): void {
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.outbox = [];
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function toValueResult(r: GetResult): ReplyResult {
  const result: ReplyResult = { kind: 'value', value: r.value, expiresAtMs: r.expiresAtMs, acks: r.acks };
  if (r.miss !== undefined) result.miss = r.miss;
  return result;
}

function toWriteResult(r: WriteResult): ReplyResult {
  return { kind: 'write', acks: r.acks };
}

const NO_OPTIONS: { consistency?: Consistency } = Object.freeze({});

function consistencyOption(consistency: Consistency | null): { consistency?: Consistency } {
  return consistency === null ? NO_OPTIONS : { consistency };
}

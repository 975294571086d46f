/**
 * Helpers for the client/server integration tests: servers on loopback port 0 serving a MemoryKv,
 * a KvService wrapper that holds chosen calls back, a raw WebSocket for speaking bad frames, and a
 * fake node that shakes hands and then stays silent.
 */
import WebSocket, { WebSocketServer } from 'ws';
import type { Callback, GetResult, KvService, TopologySnapshot, WriteResult } from '../../src/replication/api.ts';
import { MemoryKv, MemoryStore, startClientServer, type ClientServer, type ClientServerOptions } from '../../src/server/index.ts';
import {
  CLIENT_ENDPOINT_PATH,
  DEFAULT_WIRE_LIMITS,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  type ServerFrame,
} from '../../src/protocol/index.ts';
import type { WebSocketLike } from '../../src/index.ts';

export interface TestNode {
  server: ClientServer;
  kv: MemoryKv;
  address: string;
}

/** A node: a MemoryKv (optionally sharing a store) behind a client server on a free port. */
export async function startNode(
  options: { store?: MemoryStore; name?: string; port?: number; wrap?: (kv: MemoryKv) => KvService } & Partial<ClientServerOptions> = {},
): Promise<TestNode> {
  const name = options.name ?? 'n1';
  const kv = new MemoryKv({ nodeName: name, ...(options.store ? { store: options.store } : {}) });
  const server = await startClientServer({ ...options, nodeName: name, kv: options.wrap ? options.wrap(kv) : kv, port: options.port ?? 0 });
  const address = `127.0.0.1:${server.port}`;
  kv.setTopology({ ...kv.topology(), nodes: [{ name, clientAddress: address, zone: 'default' }], version: `single:${name}@${address}` });
  return { server, kv, address };
}

/** A manual wall clock for TTL tests. */
export function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/**
 * Wraps a KvService; calls for keys starting with `hold` are kept until `release()` (or forever),
 * so tests can have requests in flight while they break connections.
 */
export class HoldingKv implements KvService {
  private held: (() => void)[] = [];
  heldCount = 0;

  constructor(private readonly inner: KvService) {}

  private holds(key: Uint8Array): boolean {
    return new TextDecoder().decode(key).startsWith('hold');
  }

  private run(key: Uint8Array, call: () => void): void {
    if (!this.holds(key)) return call();
    this.heldCount++;
    this.held.push(call);
  }

  get(key: Uint8Array, options: object, done: Callback<GetResult>): void {
    this.run(key, () => this.inner.get(key, options, done));
  }

  set(key: Uint8Array, value: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.run(key, () => this.inner.set(key, value, options, done));
  }

  delete(key: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.run(key, () => this.inner.delete(key, options, done));
  }

  topology(): TopologySnapshot {
    return this.inner.topology();
  }

  /** Resolves once `n` calls in total have been held. */
  async untilHeld(n: number): Promise<void> {
    while (this.heldCount < n) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  release(): void {
    const held = this.held;
    this.held = [];
    for (const call of held) call();
  }
}

/** Wraps a KvService and calls `onCall` for each get, set or delete it is asked to serve. */
export class CountingKv implements KvService {
  constructor(
    private readonly inner: KvService,
    private readonly onCall: () => void,
  ) {}

  get(key: Uint8Array, options: object, done: Callback<GetResult>): void {
    this.onCall();
    this.inner.get(key, options, done);
  }

  set(key: Uint8Array, value: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.onCall();
    this.inner.set(key, value, options, done);
  }

  delete(key: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.onCall();
    this.inner.delete(key, options, done);
  }

  topology(): TopologySnapshot {
    return this.inner.topology();
  }
}

/**
 * Wraps a KvService so that every call answers in a later turn of the event loop, as a node's
 * coordinator does (replicas answer asynchronously), and counts the answers.
 */
export class DeferredKv implements KvService {
  answered = 0;

  constructor(private readonly inner: KvService) {}

  private later<T>(done: Callback<T>): Callback<T> {
    return (error, result) =>
      setImmediate(() => {
        this.answered++;
        done(error, result);
      });
  }

  get(key: Uint8Array, options: object, done: Callback<GetResult>): void {
    this.inner.get(key, options, this.later(done));
  }

  set(key: Uint8Array, value: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.inner.set(key, value, options, this.later(done));
  }

  delete(key: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.inner.delete(key, options, this.later(done));
  }

  topology(): TopologySnapshot {
    return this.inner.topology();
  }
}

/** A raw WebSocket to a server that records every frame and the close code. */
export class RawSocket {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.frames.push(decodeServerFrame(new Uint8Array(data))));
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(url: string, hello = true): Promise<RawSocket> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const raw = new RawSocket(socket);
    if (hello) {
      socket.send(encodeClientFrame({ type: 'hello', minVersion: 1, maxVersion: 1, client: 'raw-test', credentials: null }));
      await raw.nextFrame();
    }
    return raw;
  }

  /** Resolves with the next frame received (or one already waiting beyond `seen`). */
  async nextFrame(seen = this.frames.length): Promise<ServerFrame> {
    while (this.frames.length <= seen) await new Promise((resolve) => this.socket.once('message', () => setImmediate(resolve)));
    return this.frames[seen]!;
  }

  send(bytes: Uint8Array | string): void {
    this.socket.send(bytes);
  }

  close(): void {
    this.socket.terminate();
  }
}

export { MemoryStore };

/** Resolves on the next event matching `predicate` (a test-only convenience). */
export function waitFor<T>(subscribe: (listener: (value: T) => void) => () => void, predicate: (value: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((value) => {
      if (predicate(value)) {
        off();
        resolve(value);
      }
    });
  });
}

/**
 * A node that answers hello with welcome and then never answers a request. With `autoPong: false`
 * it does not answer pings either: a frozen process or a black-holed network whose TCP connection
 * stays up.
 */
export class FakeNode {
  dials = 0;
  pings = 0;
  requestFrames = 0;

  private constructor(private readonly wss: WebSocketServer) {
    wss.on('connection', (socket: WebSocket) => {
      this.dials++;
      socket.on('ping', () => this.pings++);
      socket.on('message', (data: Buffer) => {
        if (decodeClientFrame(new Uint8Array(data)).type !== 'hello') {
          this.requestFrames++;
          return;
        }
        FakeNode.welcome(socket);
      });
    });
  }

  static async start(options: { autoPong?: boolean } = {}): Promise<FakeNode> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: CLIENT_ENDPOINT_PATH, autoPong: options.autoPong ?? true });
    await new Promise((resolve) => wss.once('listening', resolve));
    return new FakeNode(wss);
  }

  get address(): string {
    return `127.0.0.1:${(this.wss.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private static welcome(socket: WebSocket): void {
    socket.send(encodeServerFrame({ type: 'welcome', version: 1, node: 'fake', topologyVersion: 'fake', limits: DEFAULT_WIRE_LIMITS }));
  }
}

/** Polls `condition` each millisecond; gives up after a generous bound so a failing test cannot spin forever. */
export async function until(condition: () => boolean, what = 'the condition'): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 10_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * `ws` showing only the WHATWG WebSocket API (no ping, pong or terminate), as the SDK meets it in
 * browsers, Deno and Bun.
 */
export class StandardWebSocket implements WebSocketLike {
  constructor(protected readonly socket: WebSocket) {}
  get binaryType(): string {
    return this.socket.binaryType;
  }
  set binaryType(type: string) {
    this.socket.binaryType = type as WebSocket['binaryType'];
  }
  get readyState(): number {
    return this.socket.readyState;
  }
  send(data: Uint8Array): void {
    this.socket.send(data);
  }
  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }
  addEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: never) => void): void {
    this.socket.addEventListener(type, listener as never);
  }
}

export interface Upgrade {
  status: number;
  body: string;
}

/** Opens a WebSocket to the client port with `origin` (none: as Node does) and says how the node answered the upgrade. */
export function upgrade(port: number, origin?: string): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${CLIENT_ENDPOINT_PATH}`, origin === undefined ? {} : { origin });
    socket.on('open', () => {
      socket.terminate();
      resolve({ status: 101, body: '' });
    });
    socket.on('unexpected-response', (request, response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    socket.on('error', reject);
  });
}

/**
 * The real node-to-node `Transport`: datagrams over WebSocket, on the node endpoint (its own port
 * and path, apart from the client endpoint).
 *
 * - One outbound connection per peer and lane, dialed on the first send. Traffic is one-way per
 *   connection (the peer dials back for its replies), so `from` is always the dialer's listening
 *   address, announced in the handshake (src/protocol/node-frames.ts).
 * - Lanes: 'control' (gossip probes) and 'bulk' (handoff streams) use separate connections, so a
 *   probe never waits behind megabytes of handoff in one TCP stream.
 * - Unreliable by contract, so nothing queues without bound: while a connection is being dialed a
 *   few messages wait (then are dropped); after a failed dial the peer is in backoff and sends are
 *   dropped until it ends; bulk sends are dropped while too many bytes are buffered for the socket.
 * - A failed dial calls the `onUnreachable` hooks, which gossip may count as a failed probe.
 */
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { NODE_ENDPOINT_PATH, NODE_PROTOCOL_VERSION, NodeHandshakeError, decodeNodeHandshake, encodeNodeHandshake, type Credentials } from '../protocol/index.ts';
import type { Lane, Logger, NodeAddress, ReceiveHandler, Transport } from './env.ts';

/** Messages held per peer and lane while its connection is being dialed. */
export const DEFAULT_MAX_PENDING_WHILE_DIALING = { control: 64, bulk: 256 } as const;
/** Bulk sends are dropped while more than this is buffered for the socket (8 MiB). */
export const DEFAULT_MAX_BULK_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Control sends are dropped beyond this (1 MiB): a peer that cannot take probes is as good as down. */
export const DEFAULT_MAX_CONTROL_BUFFERED_BYTES = 1024 * 1024;
/** Largest datagram accepted (16 MiB): handoff chunks must stay below it. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A dial that has not opened by then counts as failed (2 s). */
export const DEFAULT_DIAL_TIMEOUT_MS = 2000;
/** An inbound connection must send its handshake within this (2 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 2000;
/** Backoff after failed dials: 100 ms doubling to 5 s, minus up to 50% jitter. */
export const DEFAULT_REDIAL_BACKOFF = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.5 } as const;

export interface WsTransportOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Host peers should dial (needed when `host` is 0.0.0.0). Default `host`. */
  advertiseHost?: string;
  /** Sent in every handshake; reserved for the cluster secret. Default none. */
  credentials?: Credentials | null;
  maxPendingWhileDialing?: { control: number; bulk: number };
  maxBulkBufferedBytes?: number;
  maxControlBufferedBytes?: number;
  maxMessageBytes?: number;
  dialTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  redialBackoff?: { initialDelayMs: number; maxDelayMs: number; factor: number; jitter: number };
  /** Random source for jitter. Default Math.random. */
  random?: () => number;
  log?: Logger;
}

export interface WsTransportStats {
  sent: number;
  received: number;
  /** Sends dropped: peer in backoff, dial queue full, socket buffer full, or connection lost. */
  dropped: number;
  failedDials: number;
}

type LinkState = 'idle' | 'dialing' | 'open' | 'backoff';

/** The outbound connection to one peer on one lane. */
interface Link {
  state: LinkState;
  socket: WebSocket | null;
  pending: Uint8Array[];
  failures: number;
  timer: NodeJS.Timeout | undefined;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class WsTransport implements Transport {
  readonly stats: WsTransportStats = { sent: 0, received: 0, dropped: 0, failedDials: 0 };
  private handler: ReceiveHandler = () => {};
  private readonly unreachableHooks = new Set<(address: NodeAddress) => void>();
  private readonly links = new Map<string, Link>();
  private readonly inbound = new Set<WebSocket>();
  private closed = false;

  private constructor(
    private readonly wss: WebSocketServer,
    /** This node's address on the node network (`host:port`). */
    readonly address: NodeAddress,
    private readonly options: Required<Omit<WsTransportOptions, 'host' | 'port' | 'advertiseHost'>>,
  ) {
    wss.on('connection', (socket) => this.accept(socket));
    wss.on('error', (error) => options.log.error({ err: error.message }, 'node endpoint error'));
  }

  /** Starts listening; resolves once the port is bound (rejects if it is in use). */
  static async listen(options: WsTransportOptions = {}): Promise<WsTransport> {
    const host = options.host ?? '127.0.0.1';
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const wss = new WebSocketServer({ host, port: options.port ?? 0, path: NODE_ENDPOINT_PATH, maxPayload: maxMessageBytes, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const port = (wss.address() as AddressInfo).port;
    return new WsTransport(wss, `${options.advertiseHost ?? host}:${port}`, {
      credentials: options.credentials ?? null,
      maxPendingWhileDialing: options.maxPendingWhileDialing ?? DEFAULT_MAX_PENDING_WHILE_DIALING,
      maxBulkBufferedBytes: options.maxBulkBufferedBytes ?? DEFAULT_MAX_BULK_BUFFERED_BYTES,
      maxControlBufferedBytes: options.maxControlBufferedBytes ?? DEFAULT_MAX_CONTROL_BUFFERED_BYTES,
      maxMessageBytes,
      dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      redialBackoff: options.redialBackoff ?? DEFAULT_REDIAL_BACKOFF,
      random: options.random ?? Math.random,
      log: options.log ?? silent,
    });
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /** Called with a peer's address each time a dial to it fails; returns an unsubscribe function. */
  onUnreachable(hook: (address: NodeAddress) => void): () => void {
    this.unreachableHooks.add(hook);
    return () => this.unreachableHooks.delete(hook);
  }

  send(to: NodeAddress, bytes: Uint8Array, lane: Lane = 'control'): void {
    if (this.closed) return;
    const link = this.linkTo(to, lane);
    switch (link.state) {
      case 'open': {
        const limit = lane === 'bulk' ? this.options.maxBulkBufferedBytes : this.options.maxControlBufferedBytes;
        if (link.socket!.bufferedAmount > limit) {
          this.stats.dropped++;
          return;
        }
        link.socket!.send(bytes);
        this.stats.sent++;
        return;
      }
      case 'backoff':
        this.stats.dropped++;
        return;
      case 'idle':
        this.dial(to, lane, link);
        this.queue(link, lane, bytes);
        return;
      case 'dialing':
        this.queue(link, lane, bytes);
        return;
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) {
      clearTimeout(link.timer);
      link.socket?.terminate();
    }
    this.links.clear();
    for (const socket of this.inbound) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private linkTo(to: NodeAddress, lane: Lane): Link {
    const id = `${lane} ${to}`;
    let link = this.links.get(id);
    if (link === undefined) {
      link = { state: 'idle', socket: null, pending: [], failures: 0, timer: undefined };
      this.links.set(id, link);
    }
    return link;
  }

  private queue(link: Link, lane: Lane, bytes: Uint8Array): void {
    if (link.pending.length >= this.options.maxPendingWhileDialing[lane]) {
      this.stats.dropped++;
      return;
    }
    // Copied: the caller may reuse its buffer before the connection opens.
    link.pending.push(bytes.slice());
  }

  private dial(to: NodeAddress, lane: Lane, link: Link): void {
    link.state = 'dialing';
    const socket = new WebSocket(`ws://${to}${NODE_ENDPOINT_PATH}`, { perMessageDeflate: false, handshakeTimeout: this.options.dialTimeoutMs });
    link.socket = socket;
    let opened = false;
    socket.on('open', () => {
      opened = true;
      link.state = 'open';
      link.failures = 0;
      socket.send(encodeNodeHandshake({ version: NODE_PROTOCOL_VERSION, from: this.address, lane, credentials: this.options.credentials }));
      for (const bytes of link.pending) socket.send(bytes);
      this.stats.sent += link.pending.length;
      link.pending = [];
    });
    // Outbound connections only send (the peer dials back for replies); an error is followed by 'close'.
    socket.on('error', (error) => this.options.log.debug({ peer: to, lane, err: error.message }, 'node connection error'));
    socket.on('close', () => {
      if (link.socket !== socket || this.closed) return;
      link.socket = null;
      this.stats.dropped += link.pending.length;
      link.pending = [];
      if (opened) {
        // The peer went away after we had talked: redial on the next send.
        link.state = 'idle';
        return;
      }
      this.stats.failedDials++;
      link.state = 'backoff';
      const b = this.options.redialBackoff;
      const delay = Math.min(b.maxDelayMs, b.initialDelayMs * b.factor ** link.failures++) * (1 - b.jitter * this.options.random());
      link.timer = setTimeout(() => (link.state = 'idle'), delay);
      for (const hook of this.unreachableHooks) hook(to);
    });
  }

  private accept(socket: WebSocket): void {
    this.inbound.add(socket);
    let from: NodeAddress | null = null;
    const timer = setTimeout(() => socket.close(1008, 'no handshake'), this.options.handshakeTimeoutMs);
    socket.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (from === null) {
        try {
          from = decodeNodeHandshake(bytes).from;
          clearTimeout(timer);
        } catch (error) {
          if (!(error instanceof NodeHandshakeError)) throw error;
          this.options.log.warn({ err: error.message }, 'refused a node connection');
          socket.close(1008, 'bad handshake');
        }
        return;
      }
      this.stats.received++;
      this.handler(from, bytes);
    });
    socket.on('error', () => {}); // followed by 'close'
    socket.on('close', () => {
      clearTimeout(timer);
      this.inbound.delete(socket);
    });
  }
}

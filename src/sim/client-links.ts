/**
 * Simulated client connections: the WebSocket between a real SDK client (src/client) and a node's
 * real client session (src/server/session.ts), in virtual time. A link is ordered and reliable
 * while it lasts, as TCP is: each frame takes a drawn one-way delay but never overtakes the one
 * before it. What goes wrong is the connection itself (`drop`, `halfOpen`, `slowReader`), and the
 * node behind it: a frame for a crashed or restarted node's old process resets the connection,
 * and a paused node handles nothing meanwhile, pings included.
 *
 * Clients live outside the nodes. Their timers and the frames reaching them are global events of
 * the simulation, and the SDK's promises settle between events (Simulation.runUntilSettled with
 * `settle`). Frames reaching a node, and the callbacks of its socket, are events of that node
 * (its Env's timers), so they stop with its process and wait out its pauses.
 */
import type { ClientTimers } from '../client/timers.ts';
import type { WebSocketConstructor } from '../client/websocket.ts';
import type { Env, TimerId } from '../runtime/env.ts';
import type { SeededRandom } from '../runtime/seeded-random.ts';
import type { SessionSocket } from '../server/session.ts';
import { SIM_EPOCH_MS } from './clock.ts';
import type { SimProcess, Simulation } from './simulation.ts';

export interface ClientLinkConfig {
  /** One-way delay of a frame, drawn uniformly from [min, max] ms. */
  latencyMs: [number, number];
}

export const DEFAULT_CLIENT_LINKS: ClientLinkConfig = { latencyMs: [0.2, 2] };

/** The close code a WebSocket reports when the connection ended without a close frame. */
const ABNORMAL_CLOSURE = 1006;

/** What a node's process registers to take connections (one per incarnation). */
interface Listener {
  index: number;
  incarnation: number;
  env: Env;
  accept: (socket: SessionSocket, remote: string) => void;
}

type ToServer = { kind: 'message'; bytes: Uint8Array } | { kind: 'ping' };
type ToClient = { kind: 'open' } | { kind: 'pong' } | { kind: 'message'; bytes: Uint8Array; callback: ((error?: Error) => void) | undefined } | { kind: 'close'; code: number; reason: string };

export class ClientLink {
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  /** Frames in either direction vanish, and neither end hears of it (a NAT forgot the connection). */
  halfOpen = false;
  /** The client reads nothing before this time; frames for it wait (and count in the server's bufferedAmount). */
  readerPausedUntil = 0;
  listener: Listener | null = null;
  server: SimServerSocket | null = null;
  /** When the last frame in each direction arrives (a frame never overtakes the one before it). */
  toServerAt = 0;
  toClientAt = 0;

  constructor(
    readonly id: number,
    readonly host: string,
    readonly client: SimClientSocket,
  ) {}
}

export class ClientLinks {
  readonly stats = { dialed: 0, refused: 0, reset: 0, dropped: 0, halfOpened: 0, slowReaders: 0, framesToNodes: 0, framesToClients: 0 };
  /** The WebSocket class SDK clients dial with (the `webSocket` option). */
  readonly WebSocket: WebSocketConstructor;
  /** The timers SDK clients run on (the `timers` option): virtual time, global events. */
  readonly timers: ClientTimers;
  private readonly listeners = new Map<string, Listener>();
  private readonly links: ClientLink[] = [];
  private clientRan = false;

  constructor(
    private readonly sim: Simulation<SimProcess>,
    private readonly random: SeededRandom,
    private readonly config: ClientLinkConfig = DEFAULT_CLIENT_LINKS,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the socket class below is built for these links
    const links = this;
    this.WebSocket = class extends SimClientSocket {
      constructor(url: string) {
        super(links, url);
      }
    } as unknown as WebSocketConstructor;
    let nextId = 1;
    const live = new Set<TimerId>();
    this.timers = {
      setTimer: (delayMs, fn) => {
        const id = nextId++;
        live.add(id);
        this.sim.after(
          Math.max(0, delayMs),
          () => {
            if (live.delete(id)) this.onClient(fn);
          },
          'sdk timer',
        );
        return id;
      },
      cancelTimer: (id) => void live.delete(id),
      // Clients' wall clocks are true (virtual) time; only the nodes' clocks suffer clock faults.
      wallMs: () => Math.floor(SIM_EPOCH_MS + this.sim.now),
    };
  }

  /** A node's process takes connections for `host` (its client address) until it crashes or stops. */
  listen(host: string, index: number, env: Env, accept: Listener['accept']): void {
    this.listeners.set(host, { index, incarnation: this.sim.nodes[index]!.incarnation, env, accept });
  }

  /** Runs client code now (the workload calling an SDK client, a client timer, a frame for a client). */
  onClient(fn: () => void): void {
    this.clientRan = true;
    fn();
  }

  /**
   * For Simulation.runUntilSettled: if client code ran since the last call, a promise that
   * resolves once every microtask it queued (and those they queued) has run.
   */
  readonly settle = (): Promise<void> | null => {
    if (!this.clientRan) return null;
    this.clientRan = false;
    return new Promise((resolve) => setImmediate(resolve));
  };

  /** Links not closed yet, in the order they were dialed (what link faults choose from). */
  openLinks(): ClientLink[] {
    return this.links.filter((l) => l.state === 'open' && !l.halfOpen);
  }

  // ---- faults ----

  /** The connection is reset: both ends hear of it one delay later. */
  drop(link: ClientLink): void {
    if (link.state === 'closed') return;
    this.stats.dropped++;
    link.state = 'closed';
    this.sim.after(this.delay(), () => this.onClient(() => link.client.closed(ABNORMAL_CLOSURE, 'connection reset')), 'sdk link drop');
    this.toServer(link, () => link.server?.closed(), true);
  }

  /** From now on the connection carries nothing, and neither end is told: only keepalive finds out. */
  halfOpen(link: ClientLink): void {
    this.stats.halfOpened++;
    link.halfOpen = true;
  }

  /** The client reads nothing for `forMs`: the node's replies pile up behind it. */
  slowReader(link: ClientLink, forMs: number): void {
    this.stats.slowReaders++;
    link.readerPausedUntil = Math.max(link.readerPausedUntil, this.sim.now + forMs);
  }

  // ---- what the sockets do ----

  dial(client: SimClientSocket, host: string): ClientLink {
    const link = new ClientLink(this.links.length + 1, host, client);
    this.links.push(link);
    this.stats.dialed++;
    const at = this.arrival(link, 'toServerAt');
    this.sim.at(at, () => this.arrive(link), 'sdk dial');
    return link;
  }

  private arrive(link: ClientLink): void {
    if (link.state === 'closed') return; // the client gave up meanwhile
    const listener = this.listeners.get(link.host);
    if (listener === undefined || !this.alive(listener)) {
      this.stats.refused++;
      link.state = 'closed';
      this.sim.after(this.delay(), () => this.onClient(() => link.client.failed('connection refused')), 'sdk refused');
      return;
    }
    link.listener = listener;
    listener.env.timers.setTimer(0, () => {
      if (link.state === 'closed') return;
      link.state = 'open';
      link.server = new SimServerSocket(this, link, listener.env);
      listener.accept(link.server, `sdk-link-${link.id}`);
      this.toClient(link, { kind: 'open' });
    });
  }

  /** A frame (or a ping) from the client. A node process that is gone answers with a reset. */
  sendToServer(link: ClientLink, frame: ToServer): void {
    if (link.state !== 'open' || link.halfOpen) return;
    if (!this.alive(link.listener!)) {
      this.stats.reset++;
      link.state = 'closed';
      this.sim.after(this.delay(), () => this.onClient(() => link.client.closed(ABNORMAL_CLOSURE, 'connection reset')), 'sdk reset');
      return;
    }
    this.stats.framesToNodes++;
    this.toServer(link, () => link.server!.receive(frame));
  }

  /** The client closes: the node hears of it one delay later (unless the link is half-open). */
  clientClose(link: ClientLink, code: number, reason: string, abrupt: boolean): void {
    const wasOpen = link.state === 'open' && !link.halfOpen;
    link.state = 'closed';
    if (wasOpen) this.toServer(link, () => link.server?.closed(), true);
    // A close handshake takes a round trip; terminate() (or a link no one answers on) ends at once.
    const after = abrupt || !wasOpen ? 0 : 2 * this.delay();
    this.sim.after(after, () => this.onClient(() => link.client.closed(abrupt ? ABNORMAL_CLOSURE : code, abrupt ? '' : reason)), 'sdk close');
  }

  /** A frame from the node, in order behind the ones before it. */
  sendToClient(link: ClientLink, frame: ToClient): void {
    if (link.state === 'closed' || link.halfOpen) return;
    if (frame.kind === 'close') link.state = 'closed';
    this.toClient(link, frame);
  }

  private toServer(link: ClientLink, fn: () => void, evenIfClosed = false): void {
    const listener = link.listener;
    if (listener === null || !this.alive(listener)) return;
    const at = this.arrival(link, 'toServerAt');
    listener.env.timers.setTimer(at - this.sim.now, () => {
      if ((link.state === 'open' || evenIfClosed) && !link.halfOpen) fn();
    });
  }

  private toClient(link: ClientLink, frame: ToClient): void {
    const at = this.arrival(link, 'toClientAt');
    this.sim.at(at, () => this.deliverToClient(link, frame), 'sdk frame');
  }

  private deliverToClient(link: ClientLink, frame: ToClient): void {
    if (link.halfOpen) return;
    if (this.sim.now < link.readerPausedUntil) {
      // Not read yet: the frame waits, and so do the ones behind it (they arrive no earlier).
      this.sim.at(link.readerPausedUntil, () => this.deliverToClient(link, frame), 'sdk slow read');
      return;
    }
    this.stats.framesToClients++;
    if (frame.kind === 'message') {
      link.server?.delivered(frame.bytes.byteLength, frame.callback);
    }
    this.onClient(() => link.client.receive(frame));
  }

  private alive(listener: Listener): boolean {
    const node = this.sim.nodes[listener.index]!;
    return node.up && node.incarnation === listener.incarnation;
  }

  private arrival(link: ClientLink, direction: 'toServerAt' | 'toClientAt'): number {
    const at = Math.max(this.sim.now + this.delay(), link[direction]);
    link[direction] = at;
    return at;
  }

  /** A frame's one-way delay, drawn. */
  delay(): number {
    const [min, max] = this.config.latencyMs;
    return min + this.random.next() * (max - min);
  }
}

type ClientListeners = { open: (() => void)[]; message: ((event: { data: unknown }) => void)[]; error: ((event: { message?: string }) => void)[]; close: ((event: { code: number; reason: string }) => void)[] };

/** The SDK's end: the WHATWG WebSocket subset plus `ws`'s ping, pong and terminate (websocket.ts). */
class SimClientSocket {
  binaryType = 'arraybuffer';
  readyState = 0;
  private readonly listeners: ClientListeners = { open: [], message: [], error: [], close: [] };
  private readonly pongListeners: (() => void)[] = [];
  private readonly link: ClientLink;

  constructor(
    private readonly links: ClientLinks,
    url: string,
  ) {
    this.link = links.dial(this, new URL(url).host);
  }

  addEventListener(type: keyof ClientListeners, listener: never): void {
    (this.listeners[type] as unknown[]).push(listener);
  }

  on(_event: 'pong', listener: () => void): void {
    this.pongListeners.push(listener);
  }

  send(data: Uint8Array): void {
    if (this.readyState !== 1) throw new Error('WebSocket is not open');
    this.links.sendToServer(this.link, { kind: 'message', bytes: data.slice() });
  }

  ping(): void {
    if (this.readyState === 1) this.links.sendToServer(this.link, { kind: 'ping' });
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return;
    const abrupt = this.readyState === 0;
    this.readyState = 2;
    this.links.clientClose(this.link, code, reason, abrupt);
  }

  terminate(): void {
    if (this.readyState === 3) return;
    this.readyState = 2;
    this.links.clientClose(this.link, ABNORMAL_CLOSURE, '', true);
  }

  receive(frame: ToClient): void {
    if (this.readyState === 3) return;
    switch (frame.kind) {
      case 'open':
        if (this.readyState !== 0) return;
        this.readyState = 1;
        for (const l of this.listeners.open) l();
        return;
      case 'message':
        // Frames that were on the way when close() was called still arrive, as with `ws`.
        if (this.readyState === 1 || this.readyState === 2) for (const l of this.listeners.message) l({ data: frame.bytes });
        return;
      case 'pong':
        for (const l of this.pongListeners) l();
        return;
      case 'close':
        this.closed(frame.code, frame.reason);
    }
  }

  failed(why: string): void {
    if (this.readyState === 3) return;
    for (const l of this.listeners.error) l({ message: why });
    this.closed(ABNORMAL_CLOSURE, '');
  }

  closed(code: number, reason: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    for (const l of this.listeners.close) l({ code, reason });
  }
}

/** The node's end, as a session sees it (SessionSocket); its callbacks run as events of the node. */
class SimServerSocket implements SessionSocket {
  bufferedAmount = 0;
  isPaused = false;
  private readonly messageListeners: ((data: Uint8Array, isBinary: boolean) => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];
  /** Frames that arrived while paused: read once resumed. */
  private unread: ToServer[] = [];
  private closeHeard = false;

  constructor(
    private readonly links: ClientLinks,
    private readonly link: ClientLink,
    private readonly env: Env,
  ) {}

  on(event: 'message' | 'close' | 'error', listener: never): this {
    if (event === 'message') this.messageListeners.push(listener);
    else if (event === 'close') this.closeListeners.push(listener);
    return this;
  }

  send(data: Uint8Array, callback?: (error?: Error) => void): void {
    if (this.link.state !== 'open') {
      if (callback) this.env.timers.setTimer(0, () => callback(new Error('WebSocket is not open')));
      return;
    }
    this.bufferedAmount += data.byteLength;
    this.links.sendToClient(this.link, { kind: 'message', bytes: data.slice(), callback });
  }

  close(code: number, reason: string): void {
    if (this.link.state !== 'open') return;
    this.links.sendToClient(this.link, { kind: 'close', code, reason });
    // The client's answer to the close handshake comes back a round trip later.
    this.env.timers.setTimer(2 * this.links.delay(), () => this.closed());
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    // Like ws, what waited is read after the current turn, never inside resume().
    if (this.unread.length > 0) this.env.timers.setTimer(0, () => this.readUnread());
  }

  /** A frame from the client, read in order behind any that wait. */
  receive(frame: ToServer): void {
    if (this.closeHeard) return;
    this.unread.push(frame);
    this.readUnread();
  }

  private readUnread(): void {
    while (!this.isPaused && !this.closeHeard && this.unread.length > 0) {
      const frame = this.unread.shift()!;
      if (frame.kind === 'ping') this.links.sendToClient(this.link, { kind: 'pong' });
      else for (const l of this.messageListeners) l(frame.bytes, true);
    }
  }

  /** A frame reached the client: it leaves the send buffer, and its send callback runs on the node. */
  delivered(bytes: number, callback: ((error?: Error) => void) | undefined): void {
    this.bufferedAmount -= bytes;
    if (callback) this.env.timers.setTimer(0, () => callback());
  }

  closed(): void {
    if (this.closeHeard) return;
    this.closeHeard = true;
    for (const l of this.closeListeners) l();
  }
}

/**
 * Which WebSocket the SDK dials with. The connection code uses only the WHATWG WebSocket API
 * (constructor, `binaryType`, `readyState`, `send`, `close`, the open/message/error/close events),
 * which browsers, Deno, Bun and Node >= 22 have built in and which the `ws` package implements
 * too; so one code path runs everywhere. `ws` adds protocol-level ping/pong and `terminate()`,
 * used when present (see `pingable`).
 *
 * The implementation is picked when the SDK loads: the Node entry (index.ts) registers `ws` (Node
 * 20 has no built-in WebSocket, and `ws` gives keepalive pings); the platform entry (platform.ts,
 * the `browser`/`deno`/`bun` export conditions) registers nothing, so the platform's own
 * `globalThis.WebSocket` is used and `ws` is never loaded. The `webSocket` option overrides both.
 */

/** The WHATWG WebSocket API subset the SDK uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (event: { message?: string; error?: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
}

/**
 * A WebSocket class: `globalThis.WebSocket`, `ws`'s, or another with the same constructor. The
 * third argument carries `ws`'s options; WHATWG implementations ignore it.
 */
export type WebSocketConstructor = new (url: string, protocols?: string[], options?: Record<string, unknown>) => WebSocketLike;

/** `readyState` values, fixed by the WHATWG spec (implementations' static constants may be absent). */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 3;

/** `ws`'s extras beyond the WHATWG API. */
export interface PingableWebSocket extends WebSocketLike {
  ping(): void;
  terminate(): void;
  on(event: 'pong', listener: () => void): void;
}

/** Whether the socket can send protocol-level pings (`ws` can; the WHATWG API cannot). */
export function pingable(socket: WebSocketLike): socket is PingableWebSocket {
  const s = socket as Partial<PingableWebSocket>;
  return typeof s.ping === 'function' && typeof s.terminate === 'function' && typeof s.on === 'function';
}

/** Drops the connection at once: `ws`'s terminate, else close (which also aborts a handshake). */
export function terminate(socket: WebSocketLike): void {
  if (pingable(socket)) socket.terminate();
  else socket.close();
}

/** The received message as bytes: a Buffer from `ws`, an ArrayBuffer from WHATWG sockets. */
export function messageBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null; // a text frame: not part of the protocol
}

let registered: WebSocketConstructor | null = null;

/** Called once by the entry module that knows the platform (index.ts registers `ws`). */
export function registerDefaultWebSocket(implementation: WebSocketConstructor): void {
  registered = implementation;
}

/** The implementation a client uses unless its `webSocket` option names one. */
export function defaultWebSocket(): WebSocketConstructor {
  if (registered !== null) return registered;
  const platform = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof platform === 'function') return platform as WebSocketConstructor;
  throw new TypeError('connect(): this runtime has no WebSocket; pass one as the `webSocket` option (for example the `ws` package\'s WebSocket)');
}

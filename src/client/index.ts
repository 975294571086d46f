/**
 * The Shoal client SDK, Node.js entry (the `default` export condition): dials with the `ws`
 * package, since Node 20 has no WebSocket of its own. platform.ts is the entry for runtimes that
 * have one.
 *
 * `ws` is CommonJS, loaded with require: an ESM import of it goes through its ESM wrapper and
 * Node's CommonJS export scanner, which took about twice as long (measured for bench/cli: every
 * `shoal` command that talks to a node pays it at start-up).
 */
import { createRequire } from 'node:module';
import { registerDefaultWebSocket, type WebSocketConstructor } from './websocket.ts';

registerDefaultWebSocket(createRequire(import.meta.url)('ws') as WebSocketConstructor);

export * from './api.ts';

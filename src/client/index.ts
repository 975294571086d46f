/**
 * The Shoal client SDK, Node.js entry (the `default` export condition): dials with the `ws`
 * package, since Node 20 has no WebSocket of its own. platform.ts is the entry for runtimes that
 * have one.
 */
import WebSocket from 'ws';
import { registerDefaultWebSocket, type WebSocketConstructor } from './websocket.ts';

registerDefaultWebSocket(WebSocket as unknown as WebSocketConstructor);

export * from './api.ts';

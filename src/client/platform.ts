/**
 * The Shoal client SDK for runtimes with a built-in WebSocket: browsers, Deno, Bun, workers (the
 * `browser`, `deno` and `bun` export conditions). It never loads `ws`: the platform's
 * `globalThis.WebSocket` is the default (websocket.ts).
 */
export * from './api.ts';

/** The SDK's public API, the same from every entry (index.ts for Node.js, platform.ts elsewhere). */
export { connect, ShoalClient, type CallOptions, type ClientEvents, type ClientStatus, type GetDetail, type GetOptions, type Key, type MgetOptions, type RmwCallOptions, type RmwCopyOptions, type RmwSetOptions, type SetOptions, type HotKeyAlert } from './client.ts';
export * from './errors.ts';
export * from './options.ts';
export * from './value-codec.ts';
export type { WebSocketConstructor, WebSocketLike } from './websocket.ts';
export type { ClientTimers } from './timers.ts';
export type { MissReason, WireTopology as Topology, WireLimits } from '../protocol/index.ts';
export type { Consistency } from '../replication/api.ts';
export type { ConnectionState } from './connection.ts';

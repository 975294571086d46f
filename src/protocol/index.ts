/** The wire protocol shared by nodes, the client-facing server and the client SDK. */
export * from './limits.ts';
export * from './error-codes.ts';
export type * from './frames.ts';
export * from './codec.ts';
export * from './datagram.ts';
export * from './node-frames.ts';
export * from './msgpack-scan.ts';
export * from './analytics.ts';
export * from './health-status.ts';
export * from './tls-failure.ts';

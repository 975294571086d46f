/** The client-facing server of a node, and an in-memory KvService for tests and single-node mode. */
export * from './client-server.ts';
export * from './memory-kv.ts';
export * from './topology-watch.ts';
export {
  CloseCode,
  DEFAULT_UNREAD_REPLIES_LIMIT_BYTES,
  DEFAULT_UNREAD_REPLIES_STALL_MS,
  UNREAD_CLOSE_REASON,
  HOT_KEYS_ACCESS,
  MAX_HOT_KEYS,
  type ClientServerStats,
  type HotKeysSource,
} from './session.ts';
export * from './health.ts';

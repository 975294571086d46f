/**
 * Protocol versions, endpoints and size limits: the numbers both sides of the client wire agree on.
 * A server announces its limits in `welcome`, so a client never has to guess them.
 */

/** The protocol version this code speaks best. Bump it when a frame changes incompatibly. */
export const PROTOCOL_VERSION = 1;

/** The oldest protocol version this code still speaks. */
export const MIN_PROTOCOL_VERSION = 1;

/** WebSocket path of the client endpoint (the port clients connect to). */
export const CLIENT_ENDPOINT_PATH = '/shoal';

/**
 * WebSocket path of the node-to-node endpoint. Node traffic also listens on its own port, so a
 * firewall can keep it private; the distinct path makes a client that dials the wrong port fail
 * fast with an HTTP 400 instead of speaking the wrong protocol.
 */
export const NODE_ENDPOINT_PATH = '/shoal-node';

/**
 * Largest WebSocket message a server accepts (8 MiB). Big enough for a full batch of typical
 * values, small enough that one connection cannot make a node buffer unbounded memory.
 */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** Largest value (1 MiB), as in memcached: a cache of huge values is better served by a blob store. */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

/** Largest key (1 KiB): keys are hashed, compared and kept in memory for every entry. */
export const DEFAULT_MAX_KEY_BYTES = 1024;

/** Most requests in one `requests` frame; larger batches are split by the client. */
export const DEFAULT_MAX_BATCH_REQUESTS = 4096;

/** Limits a server enforces and announces to clients in `welcome`. */
export interface WireLimits {
  readonly maxFrameBytes: number;
  readonly maxValueBytes: number;
  readonly maxKeyBytes: number;
  readonly maxBatchRequests: number;
}

export const DEFAULT_WIRE_LIMITS: WireLimits = Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxValueBytes: DEFAULT_MAX_VALUE_BYTES,
  maxKeyBytes: DEFAULT_MAX_KEY_BYTES,
  maxBatchRequests: DEFAULT_MAX_BATCH_REQUESTS,
});

/**
 * The protocol version two parties will speak: the highest version inside both ranges, or null
 * when the ranges do not overlap.
 */
export function negotiateVersion(
  theirMin: number,
  theirMax: number,
  ourMin = MIN_PROTOCOL_VERSION,
  ourMax = PROTOCOL_VERSION,
): number | null {
  const version = Math.min(theirMax, ourMax);
  return version >= Math.max(theirMin, ourMin) ? version : null;
}

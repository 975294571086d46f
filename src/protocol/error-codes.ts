/**
 * Typed error codes of the client wire. Each has a fixed number on the wire and a name in code.
 * The first block mirrors `KvErrorCode` (src/replication/api.ts); the second is the protocol's own.
 * Numbers are part of the wire contract: never renumber, only add.
 */

export const ERROR_CODE_NUMBERS = {
  // KvService errors (per request).
  unavailable: 1,
  timeout: 2,
  'too-large': 3,
  overloaded: 4,
  'bad-request': 5,
  // Protocol errors. Per request unless marked "connection": a connection error arrives in an
  // `error` frame and the server closes the connection right after it.
  /** connection: not msgpack, or not a frame this version knows. */
  'malformed-frame': 16,
  /** connection: the WebSocket message was larger than `maxFrameBytes`. */
  'frame-too-large': 17,
  'key-too-large': 18,
  'value-too-large': 19,
  /** connection: hello's version range has nothing in common with the server's. */
  'unsupported-version': 20,
  /** The op number is not one this server knows (a newer client); the rest of the batch is served. */
  'unknown-op': 21,
  /** The node does not own the key and was asked to serve owners only; refresh the ring and resend. */
  'not-owner': 22,
  /** connection: a frame other than hello arrived first, or hello arrived twice. */
  'hello-required': 23,
  /** connection: no hello arrived within the server's hello timeout. */
  'hello-timeout': 24,
  /** connection: more requests in one frame than `maxBatchRequests`. */
  'batch-too-large': 25,
  /** connection: the credentials in hello were refused (or are required and missing). */
  unauthenticated: 26,
  /** The node is shutting down; send the request to another node. */
  'shutting-down': 27,
  /** A bug on the server; the message says what happened. */
  internal: 28,
  /**
   * The node is still joining its cluster (a restarted node, during a rolling restart) and applied
   * nothing; send the request to another node. Clients older than this code see it as `internal`.
   */
  'not-ready': 29,
  /**
   * The connection's user may not run this operation or touch this key (its ACL, docs/SECURITY.md);
   * the message is Redis's NOPERM text. Clients older than this code see it as `internal`.
   */
  forbidden: 30,
  /**
   * Replicas refused the write: their store is full under `--eviction-policy noeviction` (Redis's
   * OOM), or the value is larger than their whole budget. Clients older than this code see it as `internal`.
   */
  'out-of-memory': 31,
} as const;

export type ErrorCode = keyof typeof ERROR_CODE_NUMBERS;

const NAMES_BY_NUMBER = new Map<number, ErrorCode>(
  Object.entries(ERROR_CODE_NUMBERS).map(([name, number]) => [number, name as ErrorCode]),
);

export function errorCodeNumber(code: ErrorCode): number {
  return ERROR_CODE_NUMBERS[code];
}

/** The code for a wire number, or undefined for a number this version does not know. */
export function errorCodeFromNumber(n: number): ErrorCode | undefined {
  return NAMES_BY_NUMBER.get(n);
}


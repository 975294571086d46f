/**
 * The errors the SDK rejects with. Every one is a `ShoalError` with a `name`, a `code` (the wire
 * error code when a server sent it), a message that says what to do, and the underlying `cause`.
 * Catch by class (`err instanceof TimeoutError`) or by `code`.
 */
import type { ErrorCode, ReplyError } from '../protocol/index.ts';

export type ShoalErrorCode =
  | ErrorCode
  | 'aborted'
  | 'connection'
  | 'closed'
  | 'offline-queue-full'
  // Why a read-modify-write (incr, append, setNx, getSet) wrote nothing; see RmwErrorCode.
  | 'not-integer'
  | 'overflow'
  | 'not-float'
  | 'nan-or-infinity'
  | 'no-such-key'
  | 'unsupported'
  // The SDK's own: a result it cannot hand back as asked.
  | 'unsafe-integer'
  | 'listener'
  | 'value-encode'
  | 'value-decode';

export class ShoalError extends Error {
  override name = 'ShoalError';
  constructor(
    message: string,
    readonly code: ShoalErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The call did not complete within its timeout. A write may or may not have been applied. */
export class TimeoutError extends ShoalError {
  override name = 'TimeoutError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'timeout', options);
  }
}

/** The caller's AbortSignal fired; `cause` is the signal's reason. */
export class AbortError extends ShoalError {
  override name = 'AbortError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'aborted', options);
  }
}

/**
 * The connection carrying the call was lost, or none could be made. `sent` tells whether the
 * request had left the client: if it had, a write may have been applied.
 */
export class ConnectionError extends ShoalError {
  override name = 'ConnectionError';
  constructor(
    message: string,
    readonly sent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, 'connection', options);
  }
}

/** Not enough replicas answered for the requested consistency, or no node could take the call. */
export class UnavailableError extends ShoalError {
  override name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'unavailable', options);
  }
}

/** The node is overloaded; back off and retry. */
export class OverloadedError extends ShoalError {
  override name = 'OverloadedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'overloaded', options);
  }
}

/** A key, value or frame over the server's limits (`code` says which). */
export class TooLargeError extends ShoalError {
  override name = 'TooLargeError';
}

/** The request was invalid (for example a negative TTL). */
export class BadRequestError extends ShoalError {
  override name = 'BadRequestError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'bad-request', options);
  }
}

/**
 * The client's user may not do this (an ACL refusal, wire code `forbidden`): the command, or one
 * of the keys, is outside its permissions. The message is the node's (Redis's NOPERM texts).
 * Nothing was applied; repeating it as the same user fails the same way.
 */
export class ForbiddenError extends ShoalError {
  override name = 'ForbiddenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'forbidden', options);
  }
}

/** Client and server disagree about the protocol (a bug, or incompatible versions). */
export class ProtocolError extends ShoalError {
  override name = 'ProtocolError';
}

/**
 * A node refused the client's credentials (the `unauthenticated` wire code): a wrong password, an
 * unknown or disabled user, a bad or revoked token, none given where the node requires them, or
 * too many failed attempts from this address. `reason` is the node's own words and `node` the
 * node. The connection is not redialed: the same credentials would be refused again.
 */
export class AuthenticationError extends ShoalError {
  override name = 'AuthenticationError';
  constructor(
    message: string,
    readonly node: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'unauthenticated', options);
  }
}

/** `close()` or `drain()` was called; the client takes no more calls. */
export class ClientClosedError extends ShoalError {
  override name = 'ClientClosedError';
  constructor(message = 'the client is closed; create a new one with connect()', options?: { cause?: unknown }) {
    super(message, 'closed', options);
  }
}

/** No connection was ready and the offline queue was full (see `maxOfflineQueue`). */
export class OfflineQueueFullError extends ShoalError {
  override name = 'OfflineQueueFullError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'offline-queue-full', options);
  }
}

/** The error a server's reply maps to. */
export function errorFromReply(error: ReplyError, node: string): ShoalError {
  const message = `${error.message} (${error.code} from node ${node})`;
  switch (error.code) {
    case 'timeout':
      return new TimeoutError(message);
    case 'unavailable':
    case 'shutting-down':
    case 'not-ready':
    case 'not-owner':
      return new UnavailableError(message);
    case 'overloaded':
      return new OverloadedError(message);
    case 'bad-request':
      return new BadRequestError(message);
    case 'forbidden':
      return new ForbiddenError(message);
    case 'too-large':
    case 'key-too-large':
    case 'value-too-large':
    case 'frame-too-large':
    case 'batch-too-large':
      return new TooLargeError(message, error.code);
    default:
      return new ProtocolError(message, error.code);
  }
}

/**
 * incr/decr found a value that is not a decimal 64-bit integer (as Redis: "value is not an integer
 * or out of range"). Counters are stored as decimal text: write them with incr, or with set through
 * `stringCodec` (`'42'`); a value written through `msgpackCodec` is not decimal text. Nothing was written.
 */
export class NotIntegerError extends ShoalError {
  override name = 'NotIntegerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'not-integer', options);
  }
}

/** incr/decr would take the counter past the 64-bit signed range (as Redis). Nothing was written. */
export class OverflowError extends ShoalError {
  override name = 'OverflowError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'overflow', options);
  }
}

/**
 * The node does not serve read-modify-write operations, or this one (a node older than it, or a
 * server whose service lacks them). Nothing was applied.
 */
export class UnsupportedError extends ShoalError {
  override name = 'UnsupportedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'unsupported', options);
  }
}

/**
 * A number result is beyond what a JavaScript number holds exactly (2^53 - 1); `value` is the
 * exact result. From incr/decr/incrBy/decrBy (or append): the change WAS applied; pass a bigint
 * (`incrBy(key, 1n)`) to get bigints. From getInt: a read, nothing was written.
 */
export class UnsafeIntegerError extends ShoalError {
  override name = 'UnsafeIntegerError';
  constructor(
    message: string,
    readonly value: bigint,
  ) {
    super(message, 'unsafe-integer');
  }
}

/**
 * The client's codec could not decode a stored value (`bytes`, as stored). Typically a counter
 * written by incr (decimal text such as `42`) read through `msgpackCodec`: read counters with
 * `getInt`, or use `stringCodec`. `cause` is the codec's error.
 */
export class ValueDecodeError extends ShoalError {
  override name = 'ValueDecodeError';
  constructor(
    message: string,
    readonly bytes: Uint8Array,
    options?: { cause?: unknown },
  ) {
    super(message, 'value-decode', options);
  }
}

/**
 * The client's codec could not encode a value (through `msgpackCodec`: a function, a symbol, a
 * BigInt, a circular object; a value of the wrong type through `stringCodec` or `bytesCodec`), or
 * gave something other than a Uint8Array. Nothing was sent. `cause` is the codec's error.
 */
export class ValueEncodeError extends ShoalError {
  override name = 'ValueEncodeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'value-encode', options);
  }
}

/**
 * A listener the application added (`client.on(event, ...)`) threw; delivered as an `error`
 * event, never thrown into the client. `event` is the listener's event, `cause` what it threw.
 */
export class ListenerError extends ShoalError {
  override name = 'ListenerError';
  constructor(
    readonly event: string,
    options: { cause: unknown },
  ) {
    super(`a '${event}' listener threw: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, 'listener', options);
  }
}

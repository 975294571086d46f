/** Errors the gossip layer raises. Wire problems are never thrown at peers: they are counted and dropped. */

export class GossipConfigError extends Error {
  override readonly name = 'GossipConfigError';
}

/** A message that is not a well-formed Shoal gossip message (truncated, malformed, oversized, wrong version). */
export class WireDecodeError extends Error {
  override readonly name = 'WireDecodeError';
  constructor(
    readonly reason: 'malformed' | 'oversized' | 'version',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

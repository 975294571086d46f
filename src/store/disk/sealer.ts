/**
 * Sealing of the disk tier's blocks, injected so this core folder stays free of node:crypto: the
 * daemon passes AES-256-GCM (src/security/block-sealer.ts, keys as for every file at rest), tests
 * and the simulator may pass the same or a checksum-only sealer. Whatever the sealer, a block
 * that was changed, cut, moved to another place or written under another generation does not
 * open: `open` returns null and the tier treats it as a miss.
 */
export interface BlockSealer {
  /** Bytes a sealed block adds to its plain text (nonce and tag). */
  readonly overhead: number;
  /** Seals `plain`, binding it to `aad` (where the block lives and its generation). */
  seal(aad: Uint8Array, plain: Uint8Array): Uint8Array;
  /** The plain text of a sealed block, or null if it fails authentication against `aad`. */
  open(aad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
  /**
   * For a sealer with keys: which key sealed a block (its id, or null when it names none), the id
   * of the key it seals with and the ids of those it opens. Recovery reports regions by key with
   * it, so an operator learns that a rotation still needs the old key, or that regions were
   * dropped for a key the node lacks, rather than of "corrupt" regions.
   */
  readonly keys?: { readonly primary: string; readonly all: readonly string[]; sealedWith(sealed: Uint8Array): string | null };
}

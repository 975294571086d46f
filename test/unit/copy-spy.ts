// Counts copies of one value made by Shoal's code. Every copy there is a typed array's `set` or
// `slice`; both are spied on while a piece of code runs, and each call whose source (or result)
// holds the value counts, with the line it came from. Copies inside Node itself (Buffer.concat,
// the socket's) use internal primordials and are not seen.

/** Bytes no other buffer can contain by chance (xorshift32 from `seed`). */
export function distinctBytes(length: number, seed = 0x2545f491): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Runs `run` with typed-array copies spied on; returns the call site of each copy of `value` (at
 * least 64 bytes, so that no other buffer holds its start by chance).
 */
export function valueCopies(value: Uint8Array, run: () => void): string[] {
  const head = Buffer.from(value.buffer, value.byteOffset, 64);
  const holdsValue = (bytes: unknown): boolean =>
    bytes instanceof Uint8Array && bytes.byteLength >= value.byteLength && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(head) >= 0;
  const sites: string[] = [];
  // Line 0 is the message, 1 this function, 2 the spy, 3 the code that copied.
  const site = (): string => new Error().stack!.split('\n')[3]!.trim().replace(/\(.*\/(src|test)\//, '($1/');
  const proto = Uint8Array.prototype as unknown as { set: (source: ArrayLike<number>, offset?: number) => void; slice: (start?: number, end?: number) => Uint8Array };
  const { set, slice } = proto;
  // Own properties of Uint8Array.prototype shadow %TypedArray%.prototype's (Buffers included);
  // deleting them restores the originals.
  Object.defineProperty(proto, 'set', {
    configurable: true,
    writable: true,
    value(this: Uint8Array, source: ArrayLike<number>, offset?: number) {
      if (holdsValue(source)) sites.push(site());
      return set.call(this, source, offset);
    },
  });
  Object.defineProperty(proto, 'slice', {
    configurable: true,
    writable: true,
    value(this: Uint8Array, start?: number, end?: number) {
      const out = slice.call(this, start, end);
      if (holdsValue(out)) sites.push(site());
      return out;
    },
  });
  try {
    run();
  } finally {
    delete (proto as Partial<typeof proto>).set;
    delete (proto as Partial<typeof proto>).slice;
  }
  return sites;
}

/**
 * Byte mutation of valid messages: the fuzzer's second source of inputs besides fast-check's
 * generated structures. Every mutation is driven by a seeded random source, so a run replays.
 */

/** A small seeded random source (mulberry32): the fuzzer must replay a run from its seed. */
export class FuzzRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A uint32. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** Values a length field is set to by the `length-extreme` mutation, per width in bytes. */
const EXTREMES: Record<1 | 2 | 4 | 8, readonly bigint[]> = {
  1: [0n, 1n, 0x7fn, 0x80n, 0xffn],
  2: [0n, 0x7fffn, 0x8000n, 0xffffn],
  4: [0n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x01000000n],
  8: [0n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 0x0020000000000000n],
};

/**
 * msgpack headers with the largest lengths they can claim: a container or string that says it
 * holds 4 billion of something, followed by only the bytes the input happens to have.
 */
const MSGPACK_CLAIMS: readonly number[][] = [
  [0xdd, 0xff, 0xff, 0xff, 0xff], // array32
  [0xdf, 0xff, 0xff, 0xff, 0xff], // map32
  [0xdb, 0xff, 0xff, 0xff, 0xff], // str32
  [0xc6, 0xff, 0xff, 0xff, 0xff], // bin32
  [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], // ext32
  [0xdd, 0x01, 0xc9, 0xc3, 0x80], // array32 of 29 million: large but under engines' lazy-array threshold
  [0xdc, 0xff, 0xff], // array16
  [0xde, 0xff, 0xff], // map16
  [0xda, 0xff, 0xff], // str16
];

/** RESP length lines with extreme counts. */
const RESP_CLAIMS: readonly string[] = [
  '*2147483647\r\n',
  '*1048577\r\n',
  '*-1\r\n',
  '$536870912\r\n',
  '$536870913\r\n',
  '$2147483647\r\n',
  '$-1\r\n',
  '*99999999999999999999\r\n',
  '$99999999999999999999\r\n',
  '*1\r\n$1048576\r\n',
];

export type MutationKind = 'flip' | 'set' | 'insert' | 'delete' | 'splice' | 'duplicate' | 'truncate' | 'length-extreme' | 'claim';
export const MUTATION_KINDS: readonly MutationKind[] = ['flip', 'set', 'insert', 'delete', 'splice', 'duplicate', 'truncate', 'length-extreme', 'claim'];

function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const RESP_CLAIM_BYTES = RESP_CLAIMS.map(latin1);

/**
 * One mutation of `input` (never changed; a new array is returned). `other` is a second corpus
 * entry for `splice`; `text` selects RESP's textual length claims instead of msgpack's.
 */
export function mutateOnce(input: Uint8Array, kind: MutationKind, random: FuzzRandom, other: Uint8Array, text: boolean): Uint8Array {
  const n = input.length;
  const at = random.below(n + 1);
  switch (kind) {
    case 'flip': {
      if (n === 0) return Uint8Array.of(1 << random.below(8));
      const out = input.slice();
      out[random.below(n)]! ^= 1 << random.below(8);
      return out;
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(random.below(256));
      const out = input.slice();
      out[random.below(n)] = random.pick([0x00, 0xff, 0x7f, 0x80, 0xc1, 0x0d, 0x0a, 0x24, 0x2a, random.below(256)]);
      return out;
    }
    case 'insert': {
      const extra = new Uint8Array(1 + random.below(8)).map(() => random.below(256));
      return concat(input.subarray(0, at), extra, input.subarray(at));
    }
    case 'delete': {
      const end = Math.min(n, at + 1 + random.below(16));
      return concat(input.subarray(0, at), input.subarray(end));
    }
    case 'splice':
      return concat(input.subarray(0, at), other.subarray(random.below(other.length + 1)));
    case 'duplicate': {
      const end = Math.min(n, at + 1 + random.below(64));
      return concat(input.subarray(0, end), input.subarray(at, end), input.subarray(end));
    }
    case 'truncate':
      return input.slice(0, random.below(n + 1));
    case 'length-extreme': {
      const width = random.pick([1, 2, 4, 8] as const);
      if (n < width) return input.slice();
      const out = input.slice();
      const offset = random.below(n - width + 1);
      const value = random.pick(EXTREMES[width]);
      for (let i = 0; i < width; i++) out[offset + i] = Number((value >> BigInt(8 * (width - 1 - i))) & 0xffn);
      return out;
    }
    case 'claim': {
      const claim = text ? random.pick(RESP_CLAIM_BYTES) : Uint8Array.from(random.pick(MSGPACK_CLAIMS));
      // Overwrite a header in place or insert one, so the claim sits where a length is read.
      return random.below(2) === 0
        ? concat(input.subarray(0, at), claim, input.subarray(Math.min(n, at + claim.length)))
        : concat(input.subarray(0, at), claim, input.subarray(at));
    }
  }
}

/** One to four stacked mutations of `input`, capped at `maxBytes`. */
export function mutate(input: Uint8Array, random: FuzzRandom, corpus: readonly Uint8Array[], text: boolean, maxBytes: number): Uint8Array {
  let out = input;
  const rounds = 1 + random.below(4);
  for (let i = 0; i < rounds; i++) out = mutateOnce(out, random.pick(MUTATION_KINDS), random, random.pick(corpus), text);
  return out.length > maxBytes ? out.subarray(0, maxBytes) : out;
}

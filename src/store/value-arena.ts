/**
 * Value bytes for the store, packed into slab pages by size class (memcached's slab allocator, in
 * miniature).
 *
 * One `Uint8Array` per value costs V8 roughly 100 bytes of object headers and backing-store
 * bookkeeping on top of the bytes themselves, which would double the footprint of a cache of small
 * values. Instead values live in 256 KiB pages; each page serves one size class (chunks rounded up
 * to 8 bytes below 512 bytes, then in steps of about 1/8), freed chunks go on their class's free
 * list and are reused first. A value is addressed by a 32-bit handle. Values larger than the
 * biggest class get a dedicated array (the per-array overhead is noise at that size).
 *
 * Known limit, shared with memcached: a page once given to a class stays with it, so a workload
 * whose value sizes shift can hold free chunks of the old size. `pageBytes` vs `usedBytes` shows it.
 */

/** Bytes per slab page. */
const PAGE_BYTES = 256 * 1024;
/** Chunk granularity: every chunk offset is a multiple of this, which keeps handles to 32 bits. */
const GRANULE = 8;
const GRANULE_SHIFT = 3;
/** Below this, classes step by one granule (waste at most 7 bytes); above it, by about 12.5%. */
const FINE_CLASS_LIMIT = 512;
/** Values above this size get their own array instead of a slab chunk. */
const MAX_CHUNK_BYTES = 64 * 1024;
/** Handle bit marking a dedicated (large) value; slab handles stay below it. */
const LARGE_FLAG = 0x80000000;
/** Bits of a slab handle that hold the offset within the page, in granules. */
const OFFSET_BITS = 15;
const OFFSET_MASK = (1 << OFFSET_BITS) - 1;
/** Slab handles must stay below LARGE_FLAG, which caps the slab at 2^16 pages (16 GiB). */
const MAX_PAGES = LARGE_FLAG >>> OFFSET_BITS;

export class ArenaFullError extends Error {
  override readonly name = 'ArenaFullError';
}

function buildClassSizes(): number[] {
  const sizes: number[] = [];
  for (let s = GRANULE; s <= FINE_CLASS_LIMIT; s += GRANULE) sizes.push(s);
  let s = FINE_CLASS_LIMIT;
  while (s < MAX_CHUNK_BYTES) {
    s = Math.min(MAX_CHUNK_BYTES, Math.ceil((s * 1.125) / 64) * 64);
    sizes.push(s);
  }
  return sizes;
}

const CLASS_SIZES = buildClassSizes();

/** The class index for a value length in (FINE_CLASS_LIMIT, MAX_CHUNK_BYTES]. */
function coarseClassOf(len: number): number {
  let lo = FINE_CLASS_LIMIT / GRANULE;
  let hi = CLASS_SIZES.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (CLASS_SIZES[mid]! >= len) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function classOf(len: number): number {
  return len <= FINE_CLASS_LIMIT ? ((len + GRANULE - 1) >>> GRANULE_SHIFT) - 1 : coarseClassOf(len);
}

/** Bytes a value of this length occupies in the arena (its chunk size, or its own length if large). */
export function chunkBytes(len: number): number {
  if (len === 0) return 0;
  if (len > MAX_CHUNK_BYTES) return len;
  return CLASS_SIZES[classOf(len)]!;
}

/** Shared by every empty value: a zero-length array has no bytes anyone could change. */
const EMPTY = new Uint8Array(0);

/**
 * Bytes per copy pool. A fresh ArrayBuffer per copy costs V8 a trip into its C++ allocator and
 * external-memory accounting, about as much as the rest of a cache hit; carving small copies out
 * of a shared pool (what Node's Buffer.allocUnsafe does with its 8 KiB pool) halves a get's time.
 * The price, the same as Buffer's: a copy kept alive keeps its pool's 16 KiB alive, and
 * `copy.buffer` is the shared pool (use `byteOffset`/`length`, as with any view).
 */
const COPY_POOL_BYTES = 16 * 1024;
/** Copies longer than this get their own ArrayBuffer, so one pool holds at least eight copies. */
const MAX_POOLED_COPY_BYTES = COPY_POOL_BYTES / 8;
/**
 * Copies up to this long are moved 8 bytes at a time by a loop instead of `set(page.subarray())`:
 * the subarray is a second typed array per get, and creating it costs more than the loop for
 * small values (at 2 KiB the builtin's memmove wins). The loop goes through BigInt64Arrays, which
 * optimised code copies as raw 64-bit words without making a BigInt (no allocation, bit for bit;
 * a Float64Array could change a NaN's bits): 13 moves for a 100-byte value instead of 26 with
 * 32-bit words, whose loop was ~22 ns of a 1,000-entry get-hit under perf.
 */
const WORD_COPY_MAX_BYTES = 256;

class SizeClass {
  /** Free handles, used as a stack. */
  free = new Int32Array(16);
  freeCount = 0;
  /** The page being carved (-1 before the first) and the next unused byte offset in it. */
  page = -1;
  cursor = PAGE_BYTES;
  constructor(readonly chunk: number) {}

  pushFree(handle: number): void {
    if (this.freeCount === this.free.length) {
      const grown = new Int32Array(this.free.length * 2);
      grown.set(this.free);
      this.free = grown;
    }
    this.free[this.freeCount++] = handle;
  }
}

export class ValueArena {
  /** For tests: the module's limits stay private bindings, which hot paths read as constants (see charCodeAt in key-index.ts). */
  static readonly MAX_CHUNK_BYTES = MAX_CHUNK_BYTES;
  static readonly MAX_POOLED_COPY_BYTES = MAX_POOLED_COPY_BYTES;
  private readonly pages: Uint8Array[] = [];
  /** The same pages as 64-bit words (chunks are 8-byte aligned), for copying small values. */
  private readonly pageWords: BigInt64Array[] = [];
  private readonly classes: SizeClass[] = CLASS_SIZES.map((size) => new SizeClass(size));
  private readonly large: (Uint8Array | undefined)[] = [];
  private readonly largeFree: number[] = [];
  private used = 0;
  private largeBytes = 0;
  private copyPool = new ArrayBuffer(COPY_POOL_BYTES);
  /** A byte view of copyPool (kept, so a copy does not pay for a fresh view or a `.buffer` lookup). */
  private copyPoolBytes = new Uint8Array(this.copyPool);
  private copyPoolWords = new BigInt64Array(this.copyPool);
  private copyPoolUsed = 0;
  /** Where `touch` puts the byte it loads (a field store, so the load is not optimised away). */
  private touched = 0;

  /** Bytes of chunks currently holding values (rounded up to their class). */
  get usedBytes(): number {
    return this.used;
  }

  /** Bytes reserved: all slab pages plus dedicated large values. */
  get reservedBytes(): number {
    return this.pages.length * PAGE_BYTES + this.largeBytes;
  }

  /** Stores a copy of `bytes` and returns its handle. Empty values need no storage (handle 0). */
  store(bytes: Uint8Array): number {
    const len = bytes.length;
    if (len === 0) return 0;
    if (len > MAX_CHUNK_BYTES) return this.storeLarge(bytes);
    const cls = this.classes[classOf(len)]!;
    let handle: number;
    if (cls.freeCount > 0) {
      handle = cls.free[--cls.freeCount]!;
    } else {
      if (cls.cursor + cls.chunk > PAGE_BYTES) {
        if (this.pages.length >= MAX_PAGES) throw new ArenaFullError(`value arena is full (${MAX_PAGES} pages of ${PAGE_BYTES} bytes)`);
        const page = new Uint8Array(PAGE_BYTES);
        this.pages.push(page);
        this.pageWords.push(new BigInt64Array(page.buffer));
        cls.page = this.pages.length - 1;
        cls.cursor = 0;
      }
      handle = (cls.page << OFFSET_BITS) | (cls.cursor >>> GRANULE_SHIFT);
      cls.cursor += cls.chunk;
    }
    this.pages[handle >>> OFFSET_BITS]!.set(bytes, (handle & OFFSET_MASK) << GRANULE_SHIFT);
    this.used += cls.chunk;
    return handle;
  }

  /** Returns a value's chunk to its class. `len` must be the length it was stored with. */
  release(handle: number, len: number): void {
    if (len === 0) return;
    if (len > MAX_CHUNK_BYTES) {
      const id = handle - LARGE_FLAG;
      this.large[id] = undefined;
      this.largeFree.push(id);
      this.largeBytes -= len;
      this.used -= len;
      return;
    }
    const cls = this.classes[classOf(len)]!;
    cls.pushFree(handle);
    this.used -= cls.chunk;
  }

  /**
   * A copy of a stored value: safe to keep and to modify, whatever the store does next (the store
   * never writes to it again). Small copies share a pool buffer; see COPY_POOL_BYTES.
   */
  copy(handle: number, len: number): Uint8Array {
    if (len === 0) return EMPTY;
    if (len > MAX_CHUNK_BYTES) return this.large[handle - LARGE_FLAG]!.slice();
    const offset = (handle & OFFSET_MASK) << GRANULE_SHIFT;
    const page = this.pages[handle >>> OFFSET_BITS]!;
    if (len > MAX_POOLED_COPY_BYTES) return page.slice(offset, offset + len);
    let at = this.copyPoolUsed;
    // A new pool when this one is full, or when a caller transferred (detached) its buffer: a
    // view's length reads 0 then, and is a field load where ArrayBuffer's byteLength is a builtin call.
    if (at + len > COPY_POOL_BYTES || this.copyPoolBytes.length === 0) {
      this.copyPool = new ArrayBuffer(COPY_POOL_BYTES);
      this.copyPoolBytes = new Uint8Array(this.copyPool);
      this.copyPoolWords = new BigInt64Array(this.copyPool);
      at = 0;
    }
    // Keep copies 8-byte aligned, as Buffer's pool does, so callers may lay wider views over them.
    this.copyPoolUsed = (at + len + GRANULE - 1) & ~(GRANULE - 1);
    if (len <= WORD_COPY_MAX_BYTES) {
      // Whole words: the last may read the chunk's padding and write the copy's (both rounded up to 8).
      const from = this.pageWords[handle >>> OFFSET_BITS]!;
      const to = this.copyPoolWords;
      let src = offset >>> 3;
      let dst = at >>> 3;
      const end = dst + ((len + 7) >>> 3);
      while (dst < end) to[dst++] = from[src++]!;
      // The padding got the chunk's: stale bytes of an older value; `copy.buffer` must not show them.
      for (let pad = at + len; (pad & 7) !== 0; pad++) this.copyPoolBytes[pad] = 0;
    } else {
      this.copyPoolBytes.set(page.subarray(offset, offset + len), at);
    }
    return new Uint8Array(this.copyPool, at, len);
  }

  /**
   * Loads a stored value's first byte and keeps it in a field nobody reads: a prefetch, which
   * JavaScript lacks. A get calls it as soon as it has the value's handle, before the policy's
   * bookkeeping: on a large store the value's cache line is a miss, and issued early it overlaps
   * that work's own misses instead of stalling the copy that follows (the copy loop's first load
   * held ~70% of `copy`'s samples under perf; bench/store/ab.ts get-hit 0.86-0.98x at 100k entries,
   * neutral at 1,000; docs/research/store-speed.md, eighth pass).
   */
  touch(handle: number, len: number): void {
    if (len !== 0 && len <= MAX_CHUNK_BYTES) this.touched = this.pages[handle >>> OFFSET_BITS]![(handle & OFFSET_MASK) << GRANULE_SHIFT]!;
  }

  /** A zero-copy view of a stored value, valid only until the store's next mutation. */
  view(handle: number, len: number): Uint8Array {
    if (len === 0) return EMPTY;
    if (len > MAX_CHUNK_BYTES) return this.large[handle - LARGE_FLAG]!;
    return new Uint8Array(this.pages[handle >>> OFFSET_BITS]!.buffer, (handle & OFFSET_MASK) << GRANULE_SHIFT, len);
  }

  private storeLarge(bytes: Uint8Array): number {
    const id = this.largeFree.length > 0 ? this.largeFree.pop()! : this.large.length;
    this.large[id] = bytes.slice();
    this.largeBytes += bytes.length;
    this.used += bytes.length;
    return LARGE_FLAG + id;
  }
}

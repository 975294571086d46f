/**
 * Walking the cluster's keyspace from a RESP command: the SCAN cursor (its encoding and Redis's
 * parsing of it), promise wrappers over ScanService, and the partition-window walks that SCAN,
 * KEYS, DBSIZE, RANDOMKEY and FLUSHALL share.
 *
 * The SCAN cursor is one unsigned decimal integer: partition * 2^32 + scan-hash position
 * (replication/scan.ts). Scan-hash positions mean the same on every replica of a partition and the
 * partition count is fixed for the life of a cluster, so a cursor survives ring changes: a key
 * that exists for the whole iteration is returned at least once. `0` starts an iteration and ends
 * one. A cursor naming a partition past the last one (Redis accepts any unsigned 64-bit number)
 * ends the iteration at once.
 */
import type { KeyspaceService, KvError, ScanPage } from '../replication/api.ts';

/** Bits of the scan-hash position in a cursor. */
const POSITION_BITS = 32n;
const POSITION_MASK = (1n << POSITION_BITS) - 1n;
const ULONG_MAX = (1n << 64n) - 1n;

/** Partitions asked at once by a walk (each one request to one replica). */
export const WALK_WINDOW = 16;

/** A keyspace call failed; carries the service's error. */
export class KeyspaceFailure extends Error {
  override readonly name = 'KeyspaceFailure';
  constructor(readonly error: KvError) {
    super(error.message);
  }
}

/** Where a SCAN cursor points. */
export interface CursorPosition {
  partition: number;
  position: number;
}

/**
 * Redis's parseScanCursorOrReply: C `strtoul(s, &end, 10)` that must consume the whole argument,
 * with no leading space, within an unsigned long. So `''` is 0, a leading `+` is accepted and
 * `-n` wraps to 2^64 - n, as in Redis. Null: `ERR invalid cursor`. The argument ends at its
 * first NUL byte, as the C string does.
 */
export function parseCursor(bytes: Uint8Array): bigint | null {
  const nul = bytes.indexOf(0);
  const text = bytes.subarray(0, nul === -1 ? bytes.length : nul);
  if (text.length === 0) return 0n;
  const first = text[0]!;
  // isspace: space, \t, \n, \v, \f, \r.
  if (first === 0x20 || (first >= 0x09 && first <= 0x0d)) return null;
  let i = 0;
  let negative = false;
  if (first === 0x2b || first === 0x2d) {
    negative = first === 0x2d;
    i = 1;
  }
  if (i === text.length) return null;
  let value = 0n;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c < 0x30 || c > 0x39) return null;
    value = value * 10n + BigInt(c - 0x30);
    if (value > ULONG_MAX) return null;
  }
  return negative && value !== 0n ? ULONG_MAX + 1n - value : value;
}

/** The partition and position a parsed cursor names, or null when it is past the last partition. */
export function cursorPosition(cursor: bigint, partitions: number): CursorPosition | null {
  const partition = cursor >> POSITION_BITS;
  if (partition >= BigInt(partitions)) return null;
  return { partition: Number(partition), position: Number(cursor & POSITION_MASK) };
}

/** The cursor text for a position; '0' once every partition is done (`partition === partitions`). */
export function encodeCursor(partition: number, position: number, partitions: number): string {
  if (partition >= partitions) return '0';
  return ((BigInt(partition) << POSITION_BITS) | BigInt(position)).toString();
}

export function scanPage(keyspace: KeyspaceService, partition: number, after: number, count: number, match: Uint8Array | undefined, everyLiveOwner = false): Promise<ScanPage> {
  const options = { count, ...(match === undefined ? {} : { match }), ...(everyLiveOwner ? { everyLiveOwner } : {}) };
  return new Promise((resolve, reject) => {
    keyspace.scanPartition(partition, after, options, (error, page) => {
      if (error) reject(new KeyspaceFailure(error));
      else resolve(page!);
    });
  });
}

export function countKeys(keyspace: KeyspaceService, partition: number): Promise<number> {
  return new Promise((resolve, reject) => {
    keyspace.countPartition(partition, (error, n) => {
      if (error) reject(new KeyspaceFailure(error));
      else resolve(n!);
    });
  });
}

/** Keys per page when a walk reads whole partitions. */
const WHOLE_PARTITION_PAGE = 1024;

/** Every live key of a partition matching `match`, page by page (from every live owner: ScanOptions.everyLiveOwner). */
export async function partitionKeys(keyspace: KeyspaceService, partition: number, match: Uint8Array | undefined, everyLiveOwner = false): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  let after = 0;
  for (;;) {
    const page = await scanPage(keyspace, partition, after, WHOLE_PARTITION_PAGE, match, everyLiveOwner);
    for (const key of page.keys) keys.push(key);
    if (page.next === null) return keys;
    after = page.next;
  }
}

/** Runs `fn` over `items` with at most `width` running at once; results in item order. */
export async function mapLimited<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

/** 0 .. n-1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The error line for a keyspace failure: a bad request is the caller's `ERR`; anything else is transient, retry. */
export function keyspaceErrorText(error: KvError): string {
  return error.code === 'bad-request' ? `ERR ${error.message}` : `TRYAGAIN ${error.message}`;
}

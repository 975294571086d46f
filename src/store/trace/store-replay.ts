/**
 * Replays a trace through the real `Store` with its default policy, sized by bytes as a node sizes
 * it (`maxMemory`) or by entries as replay.ts sizes every policy (`maxEntries`). Every request is a
 * get, and a miss is followed by a set of the key, as in replay.ts.
 *
 * Why both: sized by entries C, W-TinyLFU builds its sketch and window tuner for C. A node has only
 * a byte budget and guesses its entries from it (`expectedEntriesFor`: one per 256 bytes, at most
 * 65,536), then rebuilds the tuner at its first eviction and grows the sketch as it fills. Each
 * value here is padded so that its entry costs exactly the guessed 256 bytes: a budget of C
 * entries' bytes then holds exactly C entries, and the two sizings build different policies only
 * where the guess is capped (`sizingsDiffer`). Keys are String(id) as replay.ts's, so a store sized
 * by entries makes replay's `wtinylfu` decisions (test/unit/store-reference-policies.test.ts).
 */
import { GUESSED_ENTRY_BYTES, Store, entryCost, expectedEntriesFor } from '../store.ts';
import type { Trace } from './parse.ts';

export type StoreSizing = 'entries' | 'bytes';

export interface StoreReplayResult {
  size: number;
  requests: number;
  hits: number;
  /** Hits as a percentage of requests. */
  hitRatio: number;
}

/** True when a store sized by bytes for `entries` guessed-size entries builds another policy than one sized by entries. */
export function sizingsDiffer(entries: number): boolean {
  return expectedEntriesFor(entries * GUESSED_ENTRY_BYTES) !== entries;
}

/** The default policy through the real Store holding `size` entries of GUESSED_ENTRY_BYTES each, sized as `sizing` says. */
export function storeReplay(trace: Trace, size: number, sizing: StoreSizing): StoreReplayResult {
  const clock = { wallMs: () => 0, monoMs: () => 0 };
  const bound = sizing === 'bytes' ? { maxMemory: size * GUESSED_ENTRY_BYTES } : { maxEntries: size };
  const store = new Store({ ...bound, clock, hotKeys: false, analytics: false });
  const keys = Array.from({ length: trace.uniqueKeys }, (_, id) => String(id));
  const values = new Map<number, Uint8Array>();
  const requests = trace.ids.length;
  let hits = 0;
  for (let i = 0; i < requests; i++) {
    const key = keys[trace.ids[i]!]!;
    if (store.getView(key, 0) !== undefined) {
      hits++;
      continue;
    }
    let value = values.get(key.length);
    if (value === undefined) {
      value = paddedValue(key);
      values.set(key.length, value);
    }
    store.set(key, value, { partition: 0 });
  }
  return { size, requests, hits, hitRatio: requests === 0 ? 0 : (100 * hits) / requests };
}

/** A value whose entry under `key` (or any key of its length) costs exactly GUESSED_ENTRY_BYTES. */
function paddedValue(key: string): Uint8Array {
  for (let length = 0; length <= GUESSED_ENTRY_BYTES; length++) {
    if (entryCost(key, length) === GUESSED_ENTRY_BYTES) return new Uint8Array(length);
  }
  throw new Error(`no value length makes an entry of key "${key}" cost ${GUESSED_ENTRY_BYTES} bytes`);
}

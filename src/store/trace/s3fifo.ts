/**
 * S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023, Algorithm 1,
 * with the parameters of the authors' libCacheSim: small queue 10% of the cache, ghost queue as
 * many keys as the main queue, promotion after one hit), a reference policy for the trace tool only.
 *
 * New keys enter the small FIFO S unless the ghost FIFO G remembers them, in which case they go to
 * the main FIFO M. Each entry has a 2-bit hit counter. Evicting from S moves a hit entry to M and
 * sends an unhit one to G (key only); evicting from M reinserts an entry with hits, decrementing
 * its counter (a 2-bit CLOCK), and removes one without.
 */
import { SlotLists } from '../slot-lists.ts';

const SMALL = 0;
const MAIN = 1;
const GHOST = 2;
const SMALL_FRACTION = 0.1;
const MAX_FREQUENCY = 3;

export function s3fifoHits(ids: Int32Array, capacity: number, uniqueKeys: number): number {
  const lists = new SlotLists(3, uniqueKeys);
  /** Queue of each key, plus one (0: none). */
  const where = new Uint8Array(uniqueKeys);
  const freq = new Uint8Array(uniqueKeys);
  const smallMax = Math.max(1, Math.floor(capacity * SMALL_FRACTION));
  const ghostMax = Math.max(1, capacity - smallMax);
  let small = 0;
  let main = 0;
  let ghost = 0;
  let hits = 0;
  const put = (list: number, id: number): void => {
    if (where[id] !== 0) lists.remove(id);
    lists.pushBack(list, id);
    where[id] = list + 1;
  };
  const forget = (id: number): void => {
    lists.remove(id);
    where[id] = 0;
  };
  const evictMain = (): void => {
    for (;;) {
      const t = lists.first(MAIN);
      if (freq[t]! > 0) {
        freq[t]!--;
        lists.moveToBack(MAIN, t);
      } else {
        forget(t);
        main--;
        return;
      }
    }
  };
  const evictSmall = (): void => {
    while (small > 0) {
      const t = lists.first(SMALL);
      small--;
      if (freq[t]! >= 1) {
        put(MAIN, t);
        main++;
        if (main > capacity - smallMax) {
          evictMain();
          return;
        }
      } else {
        put(GHOST, t);
        ghost++;
        if (ghost > ghostMax) {
          forget(lists.first(GHOST));
          ghost--;
        }
        return;
      }
    }
  };
  for (let i = 0; i < ids.length; i++) {
    const x = ids[i]!;
    const queue = where[x]! - 1;
    if (queue === SMALL || queue === MAIN) {
      hits++;
      if (freq[x]! < MAX_FREQUENCY) freq[x]!++;
      continue;
    }
    while (small + main >= capacity) {
      if (small >= smallMax || main === 0) evictSmall();
      else evictMain();
    }
    freq[x] = 0;
    if (queue === GHOST) {
      ghost--;
      put(MAIN, x);
      main++;
    } else {
      put(SMALL, x);
      small++;
    }
  }
  return hits;
}

/**
 * SIEVE (Zhang et al., "SIEVE is Simpler than LRU: an Efficient Turn-Key Eviction Algorithm for
 * Web Caches", NSDI 2024, Figure 2), as a reference policy for the trace tool only.
 *
 * One FIFO queue and a visited bit per entry. A hit only sets the bit. To evict, a hand walks from
 * where it last stopped (initially the oldest entry) towards newer ones, clearing set bits, and
 * evicts the first entry whose bit is clear; past the newest entry it wraps to the oldest. New
 * entries go to the new end and never move, so survivors stay put and the hand keeps its place.
 */
import { SlotLists } from '../slot-lists.ts';

const QUEUE = 0;

export function sieveHits(ids: Int32Array, capacity: number, uniqueKeys: number): number {
  // Front of the list = oldest (the paper's tail), back = newest (the paper's head).
  const lists = new SlotLists(1, uniqueKeys);
  const visited = new Uint8Array(uniqueKeys);
  let size = 0;
  let hand = -1;
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    const x = ids[i]!;
    if (lists.isLinked(x)) {
      hits++;
      visited[x] = 1;
      continue;
    }
    if (size >= capacity) {
      let victim = hand === -1 ? lists.first(QUEUE) : hand;
      while (visited[victim] === 1) {
        visited[victim] = 0;
        victim = lists.after(victim);
        if (victim === -1) victim = lists.first(QUEUE);
      }
      hand = lists.after(victim);
      lists.remove(victim);
      size--;
    }
    lists.pushBack(QUEUE, x);
    visited[x] = 0;
    size++;
  }
  return hits;
}

/**
 * ARC, the Adaptive Replacement Cache (Megiddo and Modha, "ARC: A Self-Tuning, Low Overhead
 * Replacement Cache", FAST 2003, Figure 4), as a reference policy for the trace tool only.
 *
 * T1 holds keys seen once recently, T2 keys seen at least twice; B1 and B2 remember the keys last
 * evicted from each (ghosts, no values). A ghost hit in B1 says T1 was too small, so the target
 * size `p` of T1 grows; one in B2 shrinks it. |T1| + |T2| <= c and the four lists together <= 2c.
 * Works on dense key ids (trace/parse.ts) and returns the hit count.
 */
import { SlotLists } from '../slot-lists.ts';

const NONE = 0;
const T1 = 0;
const T2 = 1;
const B1 = 2;
const B2 = 3;

export function arcHits(ids: Int32Array, capacity: number, uniqueKeys: number): number {
  const c = capacity;
  const lists = new SlotLists(4, uniqueKeys);
  /** Which list a key is on, plus one (0: none). */
  const where = new Uint8Array(uniqueKeys);
  const size = [0, 0, 0, 0];
  let p = 0;
  let hits = 0;
  const move = (id: number, to: number): void => {
    const from = where[id]! - 1;
    if (from >= 0) {
      lists.remove(id);
      size[from]!--;
    }
    lists.pushBack(to, id);
    where[id] = to + 1;
    size[to]!++;
  };
  const drop = (list: number): void => {
    const id = lists.first(list);
    lists.remove(id);
    size[list]!--;
    where[id] = NONE;
  };
  /** REPLACE(x, p): demote T1's or T2's LRU page to its ghost list. */
  const replace = (inB2: boolean): void => {
    if (size[T1]! > 0 && (size[T1]! > p || (inB2 && size[T1] === p))) move(lists.first(T1), B1);
    else move(lists.first(T2), B2);
  };
  for (let i = 0; i < ids.length; i++) {
    const x = ids[i]!;
    const list = where[x]! - 1;
    if (list === T1 || list === T2) {
      hits++;
      move(x, T2);
    } else if (list === B1) {
      p = Math.min(c, p + Math.max(size[B2]! / size[B1]!, 1));
      replace(false);
      move(x, T2);
    } else if (list === B2) {
      p = Math.max(0, p - Math.max(size[B1]! / size[B2]!, 1));
      replace(true);
      move(x, T2);
    } else {
      const l1 = size[T1]! + size[B1]!;
      const total = l1 + size[T2]! + size[B2]!;
      if (l1 === c) {
        if (size[T1]! < c) {
          drop(B1);
          replace(false);
        } else {
          drop(T1);
        }
      } else if (l1 < c && total >= c) {
        if (total === 2 * c) drop(B2);
        replace(false);
      }
      move(x, T1);
    }
  }
  return hits;
}

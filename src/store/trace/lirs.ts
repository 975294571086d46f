/**
 * LIRS (Jiang and Zhang, "LIRS: An Efficient Low Inter-reference Recency Set Replacement Policy
 * to Improve Buffer Cache Performance", SIGMETRICS 2002, section 3), a reference policy for the
 * trace tool only.
 *
 * Keys with a small inter-reference recency (IRR) are LIR and always resident; the rest are HIR,
 * of which only a few (1% of the cache) are resident, in the FIFO queue Q. The recency stack S
 * holds LIR keys and recently seen HIR keys (resident or not) and is pruned so its bottom is always
 * LIR. An HIR key hit while still in S has a smaller IRR than the bottom LIR key, so they swap.
 * Non-resident HIR keys in S are capped at 2x the cache (as in Caffeine's simulator), oldest out
 * first through their own FIFO, so the stack cannot grow without bound on a scan.
 */
import { SlotLists } from '../slot-lists.ts';

/** Stack S (front = bottom, back = top) and queue Q (front = next to evict) are separate list families. */
const S = 0;
const Q = 0;
const LIR = 1;
const HIR_RESIDENT = 2;
const HIR_GHOST = 3;
/** Share of the cache for resident HIR keys (the paper's 1%). */
const HIR_FRACTION = 0.01;
/** Non-resident HIR keys kept in S, as a multiple of the cache size. */
const GHOST_FACTOR = 2;

export function lirsHits(ids: Int32Array, capacity: number, uniqueKeys: number): number {
  const stack = new SlotLists(1, uniqueKeys);
  const queue = new SlotLists(1, uniqueKeys);
  /** Non-resident HIR keys in S, oldest first. */
  const ghostQueue = new SlotLists(1, uniqueKeys);
  /** Each key's state: 0 unknown, LIR, HIR_RESIDENT or HIR_GHOST (only while in S). */
  const state = new Uint8Array(uniqueKeys);
  const hirMax = Math.max(1, Math.floor(capacity * HIR_FRACTION));
  const lirMax = Math.max(1, capacity - hirMax);
  let lirCount = 0;
  let residentHir = 0;
  let ghosts = 0;
  let hits = 0;
  const forgetGhost = (id: number): void => {
    ghostQueue.remove(id);
    state[id] = 0;
    ghosts--;
  };
  /** Removes HIR keys from the bottom of S until a LIR key is there. */
  const prune = (): void => {
    for (;;) {
      const bottom = stack.first(S);
      if (bottom === -1 || state[bottom] === LIR) return;
      stack.remove(bottom);
      if (state[bottom] === HIR_GHOST) forgetGhost(bottom);
    }
  };
  /** The bottom LIR key becomes a resident HIR key at the end of Q. */
  const demoteBottom = (): void => {
    const bottom = stack.first(S);
    stack.remove(bottom);
    state[bottom] = HIR_RESIDENT;
    queue.pushBack(Q, bottom);
    lirCount--;
    residentHir++;
    prune();
  };
  const toTop = (id: number): void => {
    if (stack.isLinked(id)) stack.moveToBack(S, id);
    else stack.pushBack(S, id);
  };
  for (let i = 0; i < ids.length; i++) {
    const x = ids[i]!;
    const st = state[x]!;
    if (st === LIR) {
      hits++;
      const wasBottom = stack.first(S) === x;
      stack.moveToBack(S, x);
      if (wasBottom) prune();
      continue;
    }
    if (st === HIR_RESIDENT) {
      hits++;
      if (stack.isLinked(x)) {
        stack.moveToBack(S, x);
        queue.remove(x);
        residentHir--;
        state[x] = LIR;
        lirCount++;
        demoteBottom();
      } else {
        stack.pushBack(S, x);
        queue.moveToBack(Q, x);
      }
      continue;
    }
    // A miss: make room, then place x.
    if (lirCount + residentHir >= capacity) {
      const victim = queue.first(Q);
      queue.remove(victim);
      residentHir--;
      if (stack.isLinked(victim)) {
        state[victim] = HIR_GHOST;
        ghostQueue.pushBack(Q, victim);
        ghosts++;
      } else {
        state[victim] = 0;
      }
    }
    if (st === HIR_GHOST) {
      ghostQueue.remove(x);
      ghosts--;
    }
    if (lirCount < lirMax) {
      state[x] = LIR;
      lirCount++;
      toTop(x);
    } else if (st === HIR_GHOST) {
      state[x] = LIR;
      lirCount++;
      stack.moveToBack(S, x);
      demoteBottom();
    } else {
      state[x] = HIR_RESIDENT;
      residentHir++;
      stack.pushBack(S, x);
      queue.pushBack(Q, x);
    }
    if (ghosts > GHOST_FACTOR * capacity) {
      const oldest = ghostQueue.first(Q);
      stack.remove(oldest);
      forgetGhost(oldest);
    }
  }
  return hits;
}

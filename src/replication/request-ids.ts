/**
 * Where a process starts numbering the requests it sends other nodes (writes, reads, hints,
 * read-modify-writes, flushes, scans, value hunts). Answers come back by request id to the node's
 * address, and a restarted process has its predecessor's address: had both counted from 1, an
 * answer to the predecessor's request, arriving late, would be taken for the answer to the new
 * process's request of the same id. (Simulator seed 100588 of kv-restart-skew: a read of k2
 * through a restarted node answered with k5's record; a late hint ack would drop a hint never
 * delivered.) So each incarnation numbers from its own block of ids. Ids travel as float64 (binary
 * messages) or msgpack numbers, exact up to 2^53: 2^20 blocks of 2^32 ids each.
 */
import type { Env } from '../runtime/env.ts';

/** Ids in one incarnation's block: more requests than a process sends in its life. */
const IDS_PER_INCARNATION = 2 ** 32;
/** Blocks: 2^20 x 2^32 = 2^52, within the integers a float64 holds exactly. */
const INCARNATION_BLOCKS = 2 ** 20;

/** The first request id of this process (see the file comment). */
export function firstRequestId(env: Pick<Env, 'incarnation'>): number {
  return ((env.incarnation ?? 0) % INCARNATION_BLOCKS) * IDS_PER_INCARNATION + 1;
}

/**
 * A keyspace that stands in for a node's coordinator by the one property admission is about: a
 * call's deadline runs from the moment it starts, so a call that starts behind too many others is
 * answered too late and fails, as a quorum write does (`unavailable`: "only 1 of the 2 replicas
 * needed acknowledged the write in time"; RESP's CLUSTERDOWN). Counted in calls, not time: it
 * answers CALLS_PER_TURN calls per event-loop turn, oldest first, and fails a call that had
 * DEADLINE_CALLS or more calls ahead of it when it started. Used by resp-admission.test.ts and
 * sdk-admission.test.ts.
 */
import type { KeyspaceService, KvError } from '../../src/replication/api.ts';
import { MemoryKv } from '../../src/server/memory-kv.ts';

/** Calls one turn answers (a node's rate, in calls per turn). */
const CALLS_PER_TURN = 64;
/** A call started behind this many others misses its deadline (the rate times the replica timeout). */
const DEADLINE_CALLS = 2_000;

/** A MemoryKv whose get/set/delete answer in later turns, oldest first, failing those started too far back. */
export function deadlineKeyspace(): { keyspace: KeyspaceService; peak: () => number; late: () => number } {
  const kv = new MemoryKv();
  const queue: { ahead: number; run: () => void; fail: () => void }[] = [];
  let peak = 0;
  let late = 0;
  let armed = false;
  const drain = (): void => {
    armed = false;
    for (const call of queue.splice(0, CALLS_PER_TURN)) {
      if (call.ahead >= DEADLINE_CALLS) {
        late++;
        call.fail();
      } else call.run();
    }
    if (queue.length > 0) arm();
  };
  const arm = (): void => {
    if (armed) return;
    armed = true;
    setImmediate(drain);
  };
  const unavailable: KvError = { code: 'unavailable', message: 'only 1 of the 2 replicas needed acknowledged the write in time' };
  const later =
    <A extends unknown[]>(method: (...args: [...A, (error: KvError | null, result?: unknown) => void]) => void) =>
    (...args: [...A, (error: KvError | null, result?: unknown) => void]): void => {
      const done = args[args.length - 1] as (error: KvError | null, result?: unknown) => void;
      queue.push({ ahead: queue.length, run: () => method(...args), fail: () => done(unavailable) });
      peak = Math.max(peak, queue.length);
      arm();
    };
  const keyspace = Object.assign(Object.create(kv) as MemoryKv, {
    get: later(kv.get.bind(kv)),
    set: later(kv.set.bind(kv)),
    delete: later(kv.delete.bind(kv)),
  });
  return { keyspace: keyspace as unknown as KeyspaceService, peak: () => peak, late: () => late };
}

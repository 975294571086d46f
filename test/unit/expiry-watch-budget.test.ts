// The expiry watch's budget (src/replication/expiry-watch.ts): its rounds walk whole partitions,
// so with expiries due in every partition all the time they would walk every held entry ten
// times a second (about a quarter of a core at 1M entries). A round starts only once the last
// one's walks are paid for at `entriesPerSecond`; expired values are announced later, none lost.
// A real Store, manual time and timers, partition actors that run their jobs at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpiryWatch } from '../../src/replication/expiry-watch.ts';
import type { PartitionActor } from '../../src/replication/partition-actor.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import type { TimerId } from '../../src/runtime/env.ts';
import { Store } from '../../src/store/index.ts';

const PARTITIONS = 16;
const ENTRIES = 20_000;
const RATE = 50_000;
/** The store keeps a record this long past its expiry (the tombstone grace), as a node's does. */
const GRACE_MS = 60_000;

test('sweeps walk no more entries a second than the budget, and still announce every expired value', () => {
  let now = 1_000_000;
  const clock = { wallMs: () => now, monoMs: () => now };
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const store = new Store({ maxMemory: 256 * 1024 * 1024, clock, seed: 1 });
  // Every partition has a value expiring every 5 ms of the next 10 s.
  for (let i = 0; i < ENTRIES; i++) {
    const expiresAtMs = now + 1 + Math.floor((i * 10_000) / ENTRIES);
    store.set(`k${i}`, makeRecord({ wallMs: now, logical: 0, node: 1 }, new Uint8Array(8), expiresAtMs), { partition: i % PARTITIONS, expiresAtMs: expiresAtMs + GRACE_MS });
  }
  const announced = new Set<string>();
  const actors = Array.from({ length: PARTITIONS }, (_, partition) => {
    const actor = {
      partition,
      tell: (job: (a: PartitionActor) => void) => (job(actor as unknown as PartitionActor), true),
      expired: (key: string) => void announced.add(key),
    };
    return actor as unknown as PartitionActor;
  });
  const watch = new ExpiryWatch({
    timers: {
      setTimer: (delayMs: number, fn: () => void) => (timers.push({ at: now + delayMs, fn, id: nextId }), nextId++ as unknown as TimerId),
      cancelTimer: (id: TimerId) => void timers.splice(timers.findIndex((t) => t.id === (id as unknown as number)) >>> 0, 1),
    },
    clock,
    partitions: PARTITIONS,
    store,
    graceMs: GRACE_MS,
    wants: () => true,
    actor: (p) => actors[p],
    entriesPerSecond: RATE,
  });
  for (let p = 0; p < PARTITIONS; p++) watch.interested(p);
  const start = now;
  const walkedBy: number[] = [];
  for (let steps = 0; timers.length > 0 && steps < 10_000 && now < start + 30_000; steps++) {
    timers.sort((a, b) => a.at - b.at);
    const timer = timers.shift()!;
    now = Math.max(now, timer.at);
    timer.fn();
    walkedBy.push(watch.stats.walked);
  }
  const seconds = (now - start) / 1000;
  // At most the budget, plus the one round that may start before its walks are paid for.
  assert.ok(watch.stats.walked <= RATE * seconds + ENTRIES, `walked ${watch.stats.walked} entries in ${seconds} s (budget ${RATE}/s)`);
  assert.ok(watch.stats.deferred > 0, 'the budget held rounds back');
  assert.equal(announced.size, ENTRIES, 'every value was announced once it expired');
  watch.stop();
});

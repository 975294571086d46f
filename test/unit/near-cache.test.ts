// The invalidation streams (src/replication/invalidation.ts) and the near cache (src/store/near-cache.ts)
// on a hand-driven clock: batching per turn, subscriptions by partition and prefix, heartbeats,
// epochs, room limits, and the near cache's drops and fill-race guard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InvalidationBatch } from '../../src/protocol/index.ts';
import { InvalidationHub } from '../../src/replication/invalidation.ts';
import type { TimerId, Timers } from '../../src/runtime/env.ts';
import { NearCache } from '../../src/store/near-cache.ts';

class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.next++;
    this.due.set(id, { at: this.now + delayMs, fn });
    return id as unknown as TimerId;
  }
  cancelTimer(id: TimerId): void {
    this.due.delete(id as unknown as number);
  }
  /** Runs every timer due up to `ms` from now, in time order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (let i = 0; i < 10_000; i++) {
      const [id, t] = [...this.due].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || t!.at > until) break;
      this.due.delete(id);
      this.now = t!.at;
      t!.fn();
    }
    this.now = until;
  }
}

const v = (wallMs: number) => ({ wallMs, logical: 0, node: 1 });
const bits = (...partitions: number[]) => {
  const out = new Uint8Array(2);
  for (const p of partitions) out[p >> 3]! |= 1 << (p & 7);
  return out;
};

test('the hub batches a turn of changes per subscriber, only for subscribed partitions and prefixes, and heartbeats every second', () => {
  const timers = new ManualTimers();
  const hub = new InvalidationHub({ timers, partitions: 16 });
  for (const p of [1, 2, 3]) hub.setHead(p, 5, 0);
  const got: InvalidationBatch[] = [];
  const sub = hub.subscribe((b) => got.push(b));
  sub.update(bits(1, 2), ['user:']);
  hub.changed(1, 1, 'user:a', v(10));
  hub.changed(1, 2, 'order:b', v(11));
  hub.changed(2, 1, 'user:c', v(12));
  hub.changed(3, 1, 'user:d', v(13));
  assert.equal(got.length, 0, 'nothing before the turn ends');
  timers.advance(0);
  assert.deepEqual(got, [
    {
      heartbeat: false,
      partitions: [
        { partition: 1, epoch: 5, seq: 2, count: 2, keys: [{ key: 'user:a', version: v(10) }] },
        { partition: 2, epoch: 5, seq: 1, count: 1, keys: [{ key: 'user:c', version: v(12) }] },
      ],
    },
  ]);
  timers.advance(1000);
  assert.deepEqual(got[1], { heartbeat: true, partitions: [{ partition: 1, epoch: 5, seq: 2, count: 0, keys: [] }, { partition: 2, epoch: 5, seq: 1, count: 0, keys: [] }] });
  // The target: at most 128 bytes plus one bit per partition, plus the prefix table.
  assert.ok(sub.memoryBytes <= 128 + 16 / 8 + 'user:'.length, `${sub.memoryBytes} bytes`);
  hub.setHead(2, 6, 1);
  timers.advance(0);
  assert.deepEqual(got[2], { heartbeat: false, partitions: [{ partition: 2, epoch: 6, seq: 1, count: 0, keys: [] }] }, 'an epoch change goes out at once');
  sub.close();
  hub.changed(1, 3, 'user:e', v(14));
  timers.advance(2000);
  assert.equal(got.length, 3, 'nothing after close');
  hub.stop();
});

test('the hub cuts a subscriber that has too many changes waiting and sends the partition as a gap', () => {
  const timers = new ManualTimers();
  const hub = new InvalidationHub({ timers, partitions: 8, maxPending: 2 });
  hub.setHead(0, 1, 0);
  const got: InvalidationBatch[] = [];
  const sub = hub.subscribe((b) => got.push(b));
  sub.update(bits(0), []);
  for (let seq = 1; seq <= 3; seq++) hub.changed(0, seq, `k${seq}`, v(seq));
  timers.advance(0);
  assert.deepEqual(got[0]!.partitions, [{ partition: 0, epoch: 1, seq: 3, count: 0, keys: [] }]);
  assert.equal(sub.dropped, 3);
  hub.stop();
});

function nearCache(now: { ms: number }, options: { minStreams?: number } = {}): NearCache {
  return new NearCache({ clock: { wallMs: () => now.ms, monoMs: () => now.ms }, partitions: 8, maxEntries: 100, ttlMs: 60_000, ...options });
}

const heartbeat = (...streams: [number, number, number][]): InvalidationBatch => ({ heartbeat: true, partitions: streams.map(([partition, epoch, seq]) => ({ partition, epoch, seq, count: 0, keys: [] })) });

test('near cache: installs once enough sources stream the partition, drops on invalidation, gap, epoch change, a partition no longer held, and silence', () => {
  const now = { ms: 0 };
  const cache = nearCache(now, { minStreams: 2 });
  const fill = (key: string, version: number) => cache.completeFill(cache.beginFill(key, 0), Uint8Array.of(version), v(version), null);
  cache.receive('a', heartbeat([0, 1, 10]));
  assert.equal(fill('x', 1), false, 'one stream is not enough');
  cache.receive('b', heartbeat([0, 1, 20]));
  assert.equal(fill('x', 1), true);
  assert.deepEqual(cache.get('x', 0)?.value, Uint8Array.of(1));
  // A late invalidation of an older version leaves it; a newer one drops it.
  cache.receive('a', { heartbeat: false, partitions: [{ partition: 0, epoch: 1, seq: 11, count: 1, keys: [{ key: 'x', version: v(0) }] }] });
  assert.ok(cache.get('x', 0));
  cache.receive('a', { heartbeat: false, partitions: [{ partition: 0, epoch: 1, seq: 12, count: 1, keys: [{ key: 'x', version: v(2) }] }] });
  assert.equal(cache.get('x', 0), undefined);
  const dropped: string[] = [];
  cache.onEvent = (e) => {
    if (e.kind === 'stale-dropped') dropped.push(e.reason);
  };
  fill('x', 2);
  cache.receive('a', { heartbeat: false, partitions: [{ partition: 0, epoch: 1, seq: 14, count: 1, keys: [] }] });
  assert.equal(cache.get('x', 0), undefined, 'seq 13 was never seen: a gap');
  fill('x', 2);
  cache.receive('a', { heartbeat: false, partitions: [{ partition: 0, epoch: 1, seq: 12, count: 1, keys: [] }] });
  assert.ok(cache.get('x', 0), 'a duplicate changes nothing');
  cache.receive('b', heartbeat([0, 2, 0]));
  assert.equal(cache.get('x', 0), undefined, 'epoch change');
  fill('x', 2);
  cache.receive('b', heartbeat([0, 2, 0]));
  cache.receive('a', heartbeat());
  assert.equal(cache.get('x', 0), undefined, 'a no longer holds partition 0');
  cache.receive('a', heartbeat([0, 1, 14]));
  fill('x', 2);
  now.ms += 1501;
  assert.equal(cache.get('x', 0), undefined, 'both sources silent for longer than 1.5 s');
  assert.deepEqual(dropped, ['gap', 'epoch', 'not-held', 'source-lost', 'source-lost']);
  assert.equal(cache.stats.gaps, 1);
});

test('near cache: a read begun before a write through this client is not installed, and only an unraced read in a streamed partition may answer another get', () => {
  const now = { ms: 0 };
  const cache = new NearCache({ clock: { wallMs: () => now.ms, monoMs: () => now.ms }, partitions: 8, maxEntries: 100, ttlMs: 60_000 });
  const unstreamed = cache.beginFill('u', 0);
  assert.equal(cache.clean(unstreamed), false, 'its partition is not streamed yet');
  cache.abandonFill(unstreamed);
  cache.receive('a', heartbeat([0, 1, 0]));
  // A read in flight when the client writes the key may have read the value before the write:
  // before, it was installed and served until the write's own invalidation arrived.
  const before = cache.beginFill('x', 0);
  assert.equal(cache.clean(before), true);
  cache.forget('x');
  assert.equal(cache.clean(before), false, 'superseded by the write');
  assert.equal(cache.completeFill(before, Uint8Array.of(1), null, null), false, 'not installed');
  assert.equal(cache.get('x', 0), undefined);
  const invalidated = cache.beginFill('y', 0);
  cache.receive('a', { heartbeat: false, partitions: [{ partition: 0, epoch: 1, seq: 1, count: 1, keys: [{ key: 'y', version: v(1) }] }] });
  assert.equal(cache.clean(invalidated), false, 'an invalidation raced it');
  const dropped = cache.beginFill('z', 0);
  cache.sourceLost('a');
  assert.equal(cache.clean(dropped), false, 'its partition was dropped');
  const done = cache.beginFill('w', 1);
  cache.abandonFill(done);
  assert.equal(cache.clean(done), false, 'no longer in flight');
});

test('near cache: the fill race is closed (an invalidation or partition drop during the read refuses the fill), and the test-only switch re-opens it', () => {
  for (const noFillGuard of [false, true]) {
    const now = { ms: 0 };
    const cache = new NearCache({ clock: { wallMs: () => now.ms, monoMs: () => now.ms }, partitions: 8, maxEntries: 100, ttlMs: 60_000, bugs: { noFillGuard } });
    cache.receive('a', heartbeat([0, 1, 0]));
    const token = cache.beginFill('x', 0);
    cache.receive('a', { heartbeat: false, partitions: [{ partition: 0, epoch: 1, seq: 1, count: 1, keys: [{ key: 'x', version: v(5) }] }] });
    assert.equal(cache.completeFill(token, Uint8Array.of(4), v(4), null), noFillGuard, 'the older value read before the invalidation arrived');
    // Without a version (the SDK's reads), any invalidation during the read refuses it.
    const unversioned = cache.beginFill('y', 0);
    cache.receive('a', { heartbeat: false, partitions: [{ partition: 0, epoch: 1, seq: 2, count: 1, keys: [{ key: 'y', version: v(1) }] }] });
    assert.equal(cache.completeFill(unversioned, Uint8Array.of(1), null, null), noFillGuard);
    const raced = cache.beginFill('z', 0);
    cache.receive('a', { heartbeat: false, partitions: [{ partition: 0, epoch: 1, seq: 9, count: 1, keys: [] }] });
    assert.equal(cache.completeFill(raced, Uint8Array.of(1), v(1), null), noFillGuard, 'a gap during the read');
  }
});

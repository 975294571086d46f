/**
 * The client's life around close(): what ready() does on a closed client, the timers it leaves
 * behind, and listeners that throw. In-process against a MemoryKv node; the client's timers are
 * the platform's behind a recorder, so a test can see which timers the client set and cancelled
 * without depending on how long anything takes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientClosedError, ConnectionError, ShoalClient, connect, type ClientTimers } from '../../src/index.ts';
import { NEAR_REFETCH_DELAY_MS } from '../../src/client/client.ts';
import { PlatformTimers } from '../../src/client/timers.ts';
import type { TimerId } from '../../src/runtime/env.ts';
import { startNode, waitFor } from './client-helpers.ts';

/** The platform's timers, recording each timer set (its delay) until it fires or is cancelled. */
class RecordingTimers implements ClientTimers {
  private readonly inner = new PlatformTimers();
  readonly pending = new Map<TimerId, number>();
  setCount = 0;

  setTimer(delayMs: number, fn: () => void): TimerId {
    this.setCount++;
    const id = this.inner.setTimer(delayMs, () => {
      this.pending.delete(id);
      fn();
    });
    this.pending.set(id, delayMs);
    return id;
  }

  cancelTimer(id: TimerId): void {
    this.pending.delete(id);
    this.inner.cancelTimer(id);
  }

  unref(id: TimerId): void {
    this.inner.unref(id);
  }
}

test('ready() on a closed client rejects at once with ClientClosedError, setting no timer', async () => {
  const node = await startNode();
  const timers = new RecordingTimers();
  const client = await connect({ seeds: [node.address], timers });
  try {
    await client.close();
    const before = timers.setCount;
    const error = await client.ready(1).then(() => null, (e: unknown) => e);
    assert.ok(error instanceof ClientClosedError, String(error));
    await assert.rejects(client.ready(), ClientClosedError);
    assert.equal(timers.setCount, before, 'no timer was set: nothing to wait for');

    // A client that closed itself (reconnecting off, its node gone) says why, as the cause.
    const lone = await connect({ seeds: [node.address], reconnect: false, timers });
    const closed = waitFor<string>((f) => lone.on('status', f), (s) => s === 'closed');
    await node.server.close({ graceMs: 0 });
    await closed;
    const why = await lone.ready(1).then(() => null, (e: unknown) => e);
    assert.ok(why instanceof ClientClosedError && why.cause instanceof ConnectionError, String(why));
  } finally {
    await client.close();
    await node.server.close({ graceMs: 0 });
  }
});

test("the near cache's refetch after a reconnect runs on the client's timers, and close() cancels it", async () => {
  const node = await startNode();
  const timers = new RecordingTimers();
  const client = new ShoalClient({ seeds: [node.address], timers, nearCache: { maxEntries: 100 } });
  try {
    // A connection that becomes ready while a lost connection's flush left hot keys to read again
    // schedules the refetch (client.ts onReady). Making a real loss leave such keys needs two
    // nodes streaming invalidations (test/unit/client-near-refetch.test.ts drives that part by
    // hand); here the near cache says so from the start, so the first connection schedules it.
    const near = (client as unknown as { near: object }).near;
    Object.defineProperty(near, 'refetchPending', { get: () => true });
    await client.ready();
    assert.ok([...timers.pending.values()].includes(NEAR_REFETCH_DELAY_MS), `the refetch is on the client's timers: ${[...timers.pending.values()].join(', ')}`);
    await client.close();
    assert.deepEqual([...timers.pending.values()], [], 'close() leaves no timer behind (none keeps the process alive)');
  } finally {
    await client.close();
    await node.server.close({ graceMs: 0 });
  }
});

/**
 * The client's life around close(): what ready() does on a closed client, the timers it leaves
 * behind, and listeners that throw. In-process against a MemoryKv node; the client's timers are
 * the platform's behind a recorder, so a test can see which timers the client set and cancelled
 * without depending on how long anything takes.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientClosedError, ConnectionError, ListenerError, ShoalClient, connect, type ClientTimers, type ShoalError } from '../../src/index.ts';
import { NEAR_REFETCH_DELAY_MS } from '../../src/client/client.ts';
import { PlatformTimers } from '../../src/client/timers.ts';
import type { TimerId } from '../../src/runtime/env.ts';
import { startNode, until, waitFor } from './client-helpers.ts';

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

test('a listener that throws is reported as an error event (ListenerError); the client and close() go on', async () => {
  const node = await startNode();
  const client = new ShoalClient({ seeds: [node.address] });
  try {
    const errors: ShoalError[] = [];
    client.on('error', (error) => errors.push(error));
    const boom = new Error('listener bug');
    client.on('ring-changed', () => {
      throw boom;
    });
    client.on('status', (status) => {
      throw new Error(`status listener bug (${status})`);
    });
    const seen: string[] = [];
    client.on('status', (status) => seen.push(status));
    // Both throw while the client handles a node's frames (welcome, then the ring it asked for).
    const ringChanged = waitFor<ShoalError>((f) => client.on('error', f), (e) => e instanceof ListenerError && e.event === 'ring-changed');
    await client.ready();
    await ringChanged;
    await client.set('k', 'v');
    assert.equal(await client.get('k'), 'v', 'the client works');
    assert.deepEqual(seen, ['ready'], 'the other status listener still ran');
    // close() emits 'closed' to the throwing listener too, and still resolves.
    const closedReported = waitFor<ShoalError>((f) => client.on('error', f), (e) => e instanceof ListenerError && /\(closed\)/.test(e.message));
    await client.close();
    await closedReported;
    assert.deepEqual(seen, ['ready', 'closed']);
    const ring = errors.find((e) => e instanceof ListenerError && e.event === 'ring-changed')!;
    assert.equal(ring.code, 'listener');
    assert.equal(ring.cause, boom);
    assert.equal(ring.message, "a 'ring-changed' listener threw: listener bug");
    assert.deepEqual(errors.map((e) => (e as ListenerError).event).sort(), ['ring-changed', 'status', 'status']);
  } finally {
    await client.close();
    await node.server.close({ graceMs: 0 });
  }
});

test('with no error listener (or when it throws too), a listener error is logged with console.error', async (t) => {
  const logged: unknown[][] = [];
  const log = mock.method(console, 'error', (...args: unknown[]) => void logged.push(args));
  t.after(() => log.mock.restore());
  const node = await startNode();
  const client = new ShoalClient({ seeds: [node.address] });
  try {
    const boom = new Error('status listener bug');
    client.on('status', () => {
      throw boom;
    });
    await client.ready();
    await client.set('k', 1);
    assert.equal(await client.get('k'), 1);
    assert.deepEqual(logged, [["a 'status' listener threw:", boom]]);

    const errorBug = new Error('error listener bug');
    client.on('error', () => {
      throw errorBug;
    });
    await client.close();
    // The status listener's throw went to the error listener, whose own throw is logged.
    await until(() => logged.length === 2, 'the second log line');
    assert.deepEqual(logged[1], ["a 'error' listener threw:", errorBug]);
  } finally {
    await client.close();
    await node.server.close({ graceMs: 0 });
  }
});

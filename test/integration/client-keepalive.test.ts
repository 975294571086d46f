import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, connect } from '../../src/index.ts';
import { PlatformTimers } from '../../src/client/timers.ts';
import type { TimerId } from '../../src/runtime/env.ts';
import { FakeNode, until } from './client-helpers.ts';

const fastReconnect = { initialDelayMs: 5, maxDelayMs: 20 };
/** Generous bound for tests that wait for something to happen; they assert counts, never timings. */
const LIVENESS = { timeout: 20_000 };

test('a node that stops answering pings is cut off: its sent write fails and the client redials', LIVENESS, async () => {
  const silent = await FakeNode.start({ autoPong: false });
  // No command timeout: only the keepalive can end the write.
  const client = await connect({ seeds: silent.address, routing: false, commandTimeoutMs: 0, keepaliveIntervalMs: 20, keepaliveTimeoutMs: 50, reconnect: fastReconnect });
  try {
    const error = await client.set('k', 'v').catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.sent, true);
    assert.match((error.cause as Error).message, /did not answer a keepalive ping/);
    assert.ok(silent.pings >= 1);
    await until(() => silent.dials >= 2, 'a redial');
  } finally {
    await client.close();
    await silent.close();
  }
});

/**
 * The platform's timers, except those of one delay (the keepalive timeout below), which never fire:
 * they are counted, armed and cancelled. No other timer of the client uses that delay.
 */
class HeldTimeouts extends PlatformTimers {
  armed = 0;
  cancelled = 0;
  private readonly held = new Set<TimerId>();

  constructor(private readonly heldDelayMs: number) {
    super();
  }

  override setTimer(delayMs: number, fn: () => void): TimerId {
    if (delayMs !== this.heldDelayMs) return super.setTimer(delayMs, fn);
    // Negative ids: apart from the platform timers' 1, 2, 3...
    const id = -++this.armed;
    this.held.add(id);
    return id;
  }

  override cancelTimer(id: TimerId): void {
    if (this.held.delete(id)) this.cancelled++;
    else super.cancelTimer(id);
  }
}

test('a node that answers pings keeps its connection while idle: each pong ends its ping\'s timeout', LIVENESS, async () => {
  const quiet = await FakeNode.start();
  // The pong timeouts never fire on their own (a stalled machine cannot trip one): each must be
  // cancelled by its pong, or no further ping is sent and the wait below gives up.
  const pongTimeoutMs = 4321;
  const timers = new HeldTimeouts(pongTimeoutMs);
  const client = await connect({ seeds: quiet.address, routing: false, keepaliveIntervalMs: 5, keepaliveTimeoutMs: pongTimeoutMs, reconnect: fastReconnect, timers });
  try {
    await until(() => quiet.pings >= 3, 'three pings');
    assert.ok(timers.cancelled >= 2 && timers.cancelled >= timers.armed - 1, `${timers.armed} pong timeouts armed, ${timers.cancelled} cancelled`);
    assert.equal(quiet.dials, 1);
    assert.equal(client.status, 'ready');
  } finally {
    await client.close();
    await quiet.close();
  }
});

test('a connection holding a sent call is pinged after a second of silence, not after the keepalive interval: unanswered, its write fails', LIVENESS, async () => {
  const silent = await FakeNode.start({ autoPong: false });
  // The idle keepalive is an hour off and the call has no timeout: only the busy ping can end it.
  const client = await connect({ seeds: silent.address, routing: false, commandTimeoutMs: 0, keepaliveIntervalMs: 3_600_000, keepaliveTimeoutMs: 50, reconnect: fastReconnect });
  try {
    const error = await client.set('k', 'v').catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.sent, true);
    assert.match((error.cause as Error).message, /sent nothing for 1000 ms while 1 call waited, and did not answer a ping within 50 ms/);
    assert.equal(silent.pings, 1);
  } finally {
    await client.close();
    await silent.close();
  }
});

test('a connection holding a call whose node answers pings is kept: each pong ends its ping\'s timeout and the watch goes on', LIVENESS, async () => {
  const slow = await FakeNode.start();
  // As above, the ping timeouts never fire on their own: each must be cancelled by its pong.
  const pingTimeoutMs = 1234;
  const timers = new HeldTimeouts(pingTimeoutMs);
  const client = await connect({ seeds: slow.address, routing: false, commandTimeoutMs: 0, keepaliveIntervalMs: 3_600_000, keepaliveTimeoutMs: pingTimeoutMs, reconnect: fastReconnect, timers });
  const aborted = new AbortController();
  try {
    const call = client.set('k', 'v', { signal: aborted.signal }).catch((e: unknown) => e);
    await until(() => slow.pings >= 2, 'two pings while the call waits');
    assert.ok(timers.cancelled >= 1 && timers.cancelled >= timers.armed - 1, `${timers.armed} ping timeouts armed, ${timers.cancelled} cancelled`);
    assert.equal(slow.dials, 1);
    aborted.abort();
    assert.equal((await call as Error).name, 'AbortError');
  } finally {
    await client.close();
    await slow.close();
  }
});

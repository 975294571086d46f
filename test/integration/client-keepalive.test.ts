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

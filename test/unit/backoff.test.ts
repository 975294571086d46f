/**
 * The one backoff helper gives the delays its three predecessors gave: the client's reconnect and
 * read-retry delays (known answers recorded from the old client code), and the stateful doubling
 * gossip used for seed joins.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RECONNECT, READ_RETRY_BACKOFF } from '../../src/client/options.ts';
import { LAN_PROFILE } from '../../src/gossip/config.ts';
import { backoffDelay, cappedBackoff } from '../../src/protocol/backoff.ts';

const DRAWS = [0, 0.25, 0.5, 0.999];

test('client reconnect and read-retry delays keep their known answers', () => {
  assert.deepEqual([0, 1, 2, 5, 10, 40].flatMap((n) => DRAWS.map((r) => backoffDelay(n, DEFAULT_RECONNECT, () => r))), [100, 87.5, 75, 50.05, 200, 175, 150, 100.1, 400, 350, 300, 200.2, 3200, 2800, 2400, 1601.6, 5000, 4375, 3750, 2502.4999999999995, 5000, 4375, 3750, 2502.4999999999995]);
  assert.deepEqual([0, 1, 2, 5, 10].flatMap((n) => DRAWS.map((r) => backoffDelay(n, READ_RETRY_BACKOFF, () => r))), [50, 43.75, 37.5, 25.025, 100, 87.5, 75, 50.05, 200, 175, 150, 100.1, 1000, 875, 750, 500.49999999999994, 1000, 875, 750, 500.49999999999994]);
});

test('the capped delay equals the doubling gossip kept for seed joins', () => {
  for (const [initial, max] of [[LAN_PROFILE.joinRetryInitialMs, LAN_PROFILE.joinRetryMaxMs], [200, 2000], [500, 30_000], [300, 300], [7, 10_000]] as const) {
    let doubling = initial;
    for (let attempt = 0; attempt < 1100; attempt++) {
      assert.equal(cappedBackoff(attempt, { initialDelayMs: initial, maxDelayMs: max, factor: 2 }), doubling, `${initial}/${max} attempt ${attempt}`);
      doubling = Math.min(max, doubling * 2);
    }
  }
});

/**
 * The request rate limits of src/security/limits.ts: per connection, per user over all of its
 * connections (--max-user-request-rate), and the refusal naming the limit it hit. Virtual time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rateLimitMessage, rateLimits } from '../../src/security/limits.ts';

test('a user shares one bucket over all its connections; other users and unauthenticated connections do not', () => {
  const policy = rateLimits(0, 10);
  const a = policy.limiterFor({ address: '10.0.0.1' }, 0)!;
  const b = policy.limiterFor({ address: '10.0.0.2' }, 0)!;
  const c = policy.limiterFor({ address: '10.0.0.3' }, 0)!;
  // A burst of one second's worth, split across two connections of alice.
  for (let i = 0; i < 5; i++) assert.ok(a.allow(0, 1, 'alice'));
  for (let i = 0; i < 5; i++) assert.ok(b.allow(0, 1, 'alice'));
  assert.equal(b.allow(0, 1, 'alice'), false);
  assert.equal(a.allow(0, 1, 'alice'), false);
  assert.equal(rateLimitMessage(a), 'rate limit exceeded: at most 10 requests per second per user (--max-user-request-rate)');
  // bob has his own bucket; a connection before AUTH (no user) is not counted against anyone.
  assert.ok(c.allow(0, 1, 'bob'));
  assert.ok(c.allow(0, 1));
  // Refilled with time: 100 ms is one request at 10/s.
  assert.ok(a.allow(100, 1, 'alice'));
  assert.equal(b.allow(100, 1, 'alice'), false);
});

test('with both limits a request must pass both, and the refusal names the one it hit', () => {
  const policy = rateLimits(2, 100);
  const a = policy.limiterFor({ address: '10.0.0.1' }, 0)!;
  assert.ok(a.allow(0, 1, 'alice'));
  assert.ok(a.allow(0, 1, 'alice'));
  assert.equal(a.allow(0, 1, 'alice'), false);
  assert.equal(rateLimitMessage(a), 'rate limit exceeded: at most 2 requests per second per connection (--max-request-rate)');
  // Another connection of alice still has its own per-connection budget.
  const b = policy.limiterFor({ address: '10.0.0.1' }, 0)!;
  assert.ok(b.allow(0, 1, 'alice'));
});

test('0 turns the per-user limit off: the per-connection policy alone, or none', () => {
  assert.equal(rateLimits(0, 0).limiterFor({ address: 'x' }, 0), null);
  const only = rateLimits(1, 0).limiterFor({ address: 'x' }, 0)!;
  assert.ok(only.allow(0, 1, 'alice'));
  assert.equal(only.allow(0, 1, 'alice'), false);
  assert.equal(rateLimitMessage(only), 'rate limit exceeded: at most 1 requests per second per connection (--max-request-rate)');
});

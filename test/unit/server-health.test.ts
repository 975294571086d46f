import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readinessOf } from '../../src/server/health.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';

/** A joined, caught-up node's status; tests override what they look at. */
function status(overrides: Partial<NodeStatus> = {}): NodeStatus {
  return {
    node: 'n1', cluster: 'shoal', zone: 'a', version: '0.1.0', uptimeMs: 1000,
    joined: true, joining: null, ringVersion: 'r7', partitions: 1024, replicas: 3, readQuorum: 2, writeQuorum: 2,
    held: 768, catchingUp: 0, toHandOff: 0, clientConnections: 0, members: [],
    ...overrides,
  };
}

test('readiness: a joined node with every replica caught up is ready, and says what it holds', () => {
  const r = readinessOf(status(), false);
  assert.equal(r.ready, true);
  assert.match(r.reason, /768 partition replicas, ring r7/);
});

test('readiness: a node still joining is not ready, and says what it waits for', () => {
  const r = readinessOf(status({ joined: false, joining: { waitingFor: 'seed 10.0.0.1:7401 (connection refused)' } }), false);
  assert.equal(r.ready, false);
  assert.equal(r.reason, 'joining: waiting for seed 10.0.0.1:7401 (connection refused)');
});

test('readiness: a joined node whose replicas still catch up is not ready', () => {
  const r = readinessOf(status({ catchingUp: 1 }), false);
  assert.equal(r.ready, false);
  assert.match(r.reason, /catching up: 1 partition replica still/);
});

test('readiness: a draining node is not ready whatever its status says', () => {
  assert.equal(readinessOf(status(), true).ready, false);
  assert.match(readinessOf(null, true).reason, /^stopping/);
});

test('readiness: a node holding no partition still coordinates, so it is ready', () => {
  assert.equal(readinessOf(status({ held: 0 }), false).ready, true);
});

test('readiness: without a status source the server is ready while listening', () => {
  assert.deepEqual(readinessOf(null, false), { ready: true, reason: 'serving' });
});

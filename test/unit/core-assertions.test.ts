// The core's assertions (src/runtime/probes.ts), each violated on purpose: in the simulator a
// failure fails the run with its name and seed; in production it is logged and counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Env } from '../../src/runtime/env.ts';
import { assertionFailures, invariant, MAX_REMOTE_CLOCK_AHEAD_MS, type AssertionName, type Probes } from '../../src/runtime/probes.ts';
import { HybridLogicalClock } from '../../src/replication/hlc.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { RmwPrimary } from '../../src/replication/rmw-primary.ts';
import { checkEpochsAdvance } from '../../src/node/ring-lifecycle.ts';
import { checkAccounting } from '../../src/node/accounting.ts';
import type { Placement } from '../../src/replication/context.ts';
import { Store } from '../../src/store/index.ts';
import { runOnce } from '../../src/sim/driver.ts';
import { Simulation } from '../../src/sim/simulation.ts';
import type { Scenario } from '../../src/sim/scenario.ts';
import { context, fakeEnv } from './replication-fakes.ts';

/** A fake Env with probes that keep the assertions that failed. */
function probedEnv() {
  const { env, flush } = fakeEnv();
  const failed: { name: AssertionName; detail: string }[] = [];
  const probes: Probes = { cover() {}, buggify: () => false, assertionFailed: (name, detail) => void failed.push({ name, detail }) };
  return { env: { ...env, probes } as Env, failed, flush };
}

test('the HLC reports a remote clock too far ahead, and a clock that went back', () => {
  const { env, failed } = probedEnv();
  const hlc = new HybridLogicalClock(env.clock, 1, env);
  const wall = env.clock.wallMs();
  hlc.observe({ wallMs: wall + MAX_REMOTE_CLOCK_AHEAD_MS, logical: 0, node: 2 });
  hlc.now();
  assert.equal(failed.length, 0, 'a remote clock just within the bound and a local stamp are fine');
  hlc.observe({ wallMs: wall + 3 * MAX_REMOTE_CLOCK_AHEAD_MS, logical: 0, node: 2 });
  assert.deepEqual(failed.map((f) => f.name), ['hlc-remote-bounded']);
  // Plant a bug in the counter: it steps back instead of forward.
  Object.assign(hlc, { tick(this: { logical: number }) { this.logical--; } });
  hlc.now();
  assert.deepEqual(failed.map((f) => f.name), ['hlc-remote-bounded', 'hlc-monotone']);
});

test('ring epochs must advance where owners changed and never go back', () => {
  const { env, failed } = probedEnv();
  const ring = (owners: string[]): Placement => ({ version: owners.join(), partitions: 2, width: 1, members: [], owners: () => owners, ranking: () => owners, partitionOfKey: () => 0 });
  checkEpochsAdvance(env, ring(['a']), ring(['b']), Uint32Array.of(1, 1), Uint32Array.of(2, 2));
  checkEpochsAdvance(env, ring(['a']), ring(['a']), Uint32Array.of(1, 1), Uint32Array.of(1, 1));
  assert.equal(failed.length, 0);
  checkEpochsAdvance(env, ring(['a']), ring(['b']), Uint32Array.of(1, 1), Uint32Array.of(2, 1));
  checkEpochsAdvance(env, ring(['a']), ring(['a']), Uint32Array.of(3, 1), Uint32Array.of(2, 1));
  assert.deepEqual(failed.map((f) => f.name), ['ring-epochs-monotone', 'ring-epochs-monotone']);
  assert.match(failed[0]!.detail, /partition 1: epoch 1 -> 1 .* though its owners changed/);
});

test('a replica reports one fencing epoch claimed by two primaries', () => {
  const { env, failed, flush } = probedEnv();
  const ctx = context(env, []);
  const hlc = new HybridLogicalClock(env.clock, 1, env);
  const host = new ReplicaHost(ctx, new Store({ maxEntries: 100, clock: env.clock, random: env.random }), new HintStore(10, 1 << 20, 60_000), hlc, 64);
  const primary = new RmwPrimary(ctx, hlc, host);
  const epoch = 5 * 2 ** 21 + 7;
  primary.onMessage('n2', { t: 'xc', id: 1, p: 0, e: epoch, k: [] });
  primary.onMessage('n2', { t: 'xc', id: 2, p: 0, e: epoch, k: [] }); // the same primary again: fine
  flush();
  assert.equal(failed.length, 0);
  primary.onMessage('n3', { t: 'xc', id: 3, p: 0, e: epoch, k: [] }); // another primary, the same epoch
  flush();
  assert.deepEqual(failed.map((f) => f.name), ['one-primary-per-epoch']);
  assert.match(failed[0]!.detail, /claimed by n2 and by n3/);
});

test('hint and store byte counts must equal their contents recounted', () => {
  const { env, failed } = probedEnv();
  const store = new Store({ maxEntries: 100, clock: env.clock, random: env.random });
  store.set('k', new Uint8Array(100), { partition: 0 });
  const hints = new HintStore(10, 1 << 20, 60_000);
  hints.add('n2', 0, 'k', new Uint8Array(40), 0);
  checkAccounting(env, store, hints);
  assert.equal(failed.length, 0);
  // Corrupt each running count, as a missed decrement would.
  Object.assign(hints, { bytesHeld: hints.bytes + 1 });
  Object.assign(store, { bytes: store.usedBytes - 8 });
  checkAccounting(env, store, hints);
  assert.deepEqual(failed.map((f) => f.name), ['hint-bytes-exact', 'store-bytes-exact']);
});

test('in production a failed assertion is logged once and counted, and the node carries on', () => {
  const logged: object[] = [];
  const env = { log: { debug() {}, info() {}, warn() {}, error: (obj: object) => void logged.push(obj) } };
  const before = assertionFailures.get('hint-bytes-exact') ?? 0;
  for (let i = 0; i < 3; i++) invariant(env, false, 'hint-bytes-exact', () => 'planted');
  assert.equal(assertionFailures.get('hint-bytes-exact'), before + 3);
  assert.equal(logged.length, before === 0 ? 1 : 0);
});

test('in the simulator a failed assertion fails the run with its name, node and seed', () => {
  const scenario: Scenario = {
    name: 'planted-assertion',
    summary: 'one node fails an assertion at 1 s',
    defaults: { nodes: 2, durationMs: 2_000, faults: 'none' },
    run(options, trace) {
      const sim = new Simulation({ seed: options.seed, nodes: options.nodes, trace, factory: (env, info) => {
        if (info.index === 1) env.timers.setTimer(1_000, () => invariant(env, false, 'ring-epochs-monotone', () => 'planted'));
        return {};
      } });
      sim.runUntil(options.durationMs);
      return { violations: [], simMs: sim.now, derived: {}, figures: {} };
    },
  };
  const result = runOnce(scenario, { seed: 42, ...scenario.defaults });
  assert.deepEqual(result.violations, [{ checker: 'assertion/ring-epochs-monotone', atMs: 1_000, message: 'n2: planted' }]);
});

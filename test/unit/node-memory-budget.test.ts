/**
 * MemoryBudget (src/node/memory-budget.ts): CONFIG SET maxmemory's resize of a node's store. A
 * shrink reaches its target in steps of at most SHRINK_STEP_BYTES, each a timer turn apart, so no
 * single turn evicts a large store at once; a larger budget, and any budget under noeviction,
 * takes effect at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimerId, Timers } from '../../src/runtime/env.ts';
import { MemoryBudget, SHRINK_STEP_BYTES } from '../../src/node/memory-budget.ts';
import { Store, entryCost } from '../../src/store/store.ts';
import type { PolicyName } from '../../src/store/policy.ts';

/** Timers that fire only when the test says so, in order. */
class StepTimers implements Timers {
  private readonly due = new Map<number, () => void>();
  private next = 1;
  setTimer(_delayMs: number, fn: () => void): TimerId {
    this.due.set(this.next, fn);
    return this.next++ as TimerId;
  }
  cancelTimer(id: TimerId): void {
    this.due.delete(id as number);
  }
  get pending(): number {
    return this.due.size;
  }
  fireOne(): void {
    const [id, fn] = this.due.entries().next().value!;
    this.due.delete(id);
    fn();
  }
}

const clock = { wallMs: () => 0, monoMs: () => 0 };
const MIB = 1024 * 1024;
const VALUE = new Uint8Array(1000);
const COST = entryCost('key:000000', VALUE.length);

function filledStore(policy: PolicyName, bytes: number): Store {
  const store = new Store({ maxMemory: 64 * MIB, policy, clock, hotKeys: false, analytics: false });
  for (let i = 0; i * COST < bytes; i++) store.set(`key:${String(i).padStart(6, '0')}`, VALUE, { partition: 0 });
  return store;
}

test('a shrink steps down by at most SHRINK_STEP_BYTES of evictions a timer turn, to the target', () => {
  const store = filledStore('wtinylfu', 20 * MIB);
  const timers = new StepTimers();
  const budget = new MemoryBudget(store, timers, MIB);
  assert.equal(budget.current(), 64 * MIB);
  budget.set(2 * MIB);
  assert.equal(budget.current(), 2 * MIB, 'CONFIG GET reports the target at once');
  let steps = 1;
  const evicted = store.stats().evictions.size;
  assert.ok(evicted * COST <= SHRINK_STEP_BYTES + COST, `the first turn evicted ${evicted} entries`);
  while (timers.pending > 0) {
    assert.ok(budget.shrinking);
    const before = store.stats().evictions.size;
    timers.fireOne();
    steps++;
    const now = store.stats().evictions.size;
    assert.ok((now - before) * COST <= SHRINK_STEP_BYTES + COST, `step ${steps} evicted ${now - before} entries`);
  }
  assert.equal(steps, Math.ceil((20 * MIB - 2 * MIB) / SHRINK_STEP_BYTES));
  assert.equal(budget.shrinking, false);
  assert.equal(store.maxMemory, 2 * MIB);
  assert.ok(store.usedBytes <= 2 * MIB);
});

test('a larger budget given during a shrink stops it and takes effect at once', () => {
  const store = filledStore('lru', 20 * MIB);
  const timers = new StepTimers();
  const budget = new MemoryBudget(store, timers, MIB);
  budget.set(2 * MIB);
  assert.equal(timers.pending, 1);
  budget.set(100 * MIB);
  assert.equal(timers.pending, 0);
  assert.equal(store.maxMemory, 100 * MIB);
  assert.equal(budget.current(), 100 * MIB);
});

test('under noeviction a shrink is one step: nothing is evicted, so there is nothing to pace', () => {
  const store = filledStore('noeviction', 20 * MIB);
  const timers = new StepTimers();
  const budget = new MemoryBudget(store, timers, MIB);
  budget.set(2 * MIB);
  assert.equal(timers.pending, 0);
  assert.equal(store.maxMemory, 2 * MIB);
  assert.equal(store.stats().evictions.size, 0);
});

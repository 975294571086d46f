/**
 * Model-based test (fast-check commands): random sequences of set/get/delete/advance-time/tick
 * and budget changes (setMaxMemory, CONFIG SET maxmemory) against a plain Map model, for every
 * policy, checking after each step that
 * - the accounted bytes never exceed the budget in force, and per-partition totals add up;
 * - an expired entry is never returned;
 * - a get returns the value last set, unless the entry was evicted, and
 * - every entry that disappeared without a delete or expiry was counted as a size eviction.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Clock } from '../../src/runtime/env.ts';
import { Store } from '../../src/store/store.ts';
import type { PolicyName } from '../../src/store/policy.ts';

/** The starting budget; ResizeCommand moves it among BUDGETS. */
const BUDGET = 2000;
const BUDGETS = [900, 1500, BUDGET, 3000];
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];

class FakeClock implements Clock {
  now = 1_000_000;
  wallMs(): number {
    return this.now;
  }
  monoMs(): number {
    return this.now;
  }
}

interface ModelEntry {
  value: Uint8Array;
  expiresAtMs: number | undefined;
}

interface Model {
  entries: Map<string, ModelEntry>;
  /** Keys that vanished from the store with no delete or expiry: must be counted as size evictions. */
  vanished: number;
  /** Keys the model dropped as expired; the store may still evict those for size before reclaiming. */
  expiredDrops: number;
}

interface Real {
  store: Store;
  clock: FakeClock;
}

function dropExpired(m: Model, now: number): void {
  for (const [key, e] of m.entries) {
    if (e.expiresAtMs !== undefined && e.expiresAtMs <= now) {
      m.entries.delete(key);
      m.expiredDrops++;
    }
  }
}

function checkInvariants(m: Model, r: Real): void {
  const { store } = r;
  assert.ok(store.usedBytes <= store.maxMemory, `over budget: ${store.usedBytes} > ${store.maxMemory}`);
  const stats = store.stats();
  assert.equal(stats.entries, store.size);
  let entries = 0;
  let bytes = 0;
  for (const p of store.allPartitionStats().values()) {
    entries += p.entries;
    bytes += p.bytes;
  }
  assert.equal(entries, store.size);
  assert.equal(bytes, store.usedBytes);
  for (const key of [...m.entries.keys()]) {
    if (!store.has(key)) {
      m.entries.delete(key);
      m.vanished++;
    }
  }
  assert.ok(stats.evictions.size >= m.vanished, `uncounted evictions: ${m.vanished} vanished, ${stats.evictions.size} counted`);
  assert.ok(stats.evictions.size <= m.vanished + m.expiredDrops, 'more size evictions than entries that could have been evicted');
}

class SetCommand implements fc.Command<Model, Real> {
  constructor(
    readonly key: string,
    readonly value: Uint8Array,
    readonly partition: number,
    readonly ttlMs: number | undefined,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const expiresAtMs = this.ttlMs === undefined ? undefined : r.clock.now + this.ttlMs;
    const stored = r.store.set(this.key, this.value, { partition: this.partition, ...(expiresAtMs === undefined ? {} : { expiresAtMs }) });
    const tooLarge = r.store.entryCost(this.key, this.value.length) > r.store.maxMemory;
    if (tooLarge) assert.equal(stored, false, 'too-large entry refused');
    if (stored) m.entries.set(this.key, { value: this.value.slice(), expiresAtMs });
    else {
      assert.equal(r.store.has(this.key), false, 'a refused set leaves nothing behind');
      m.entries.delete(this.key);
      // An entry that fits the budget alone but was turned away at once (the policy kept the
      // others: LFU's counts, W-TinyLFU's admission) was written, then evicted for size.
      if (!tooLarge) m.vanished++;
    }
    checkInvariants(m, r);
  }
  toString(): string {
    return `set(${this.key}, ${this.value.length}B, p${this.partition}, ttl=${this.ttlMs})`;
  }
}

class GetCommand implements fc.Command<Model, Real> {
  constructor(readonly key: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const got = r.store.get(this.key);
    const expected = m.entries.get(this.key);
    const live = expected !== undefined && (expected.expiresAtMs === undefined || expected.expiresAtMs > r.clock.now);
    if (!live) assert.equal(got, undefined, `returned ${this.key} although it is absent or expired`);
    else if (got === undefined) {
      m.entries.delete(this.key);
      m.vanished++;
    } else assert.deepEqual(got, expected.value);
    checkInvariants(m, r);
  }
  toString(): string {
    return `get(${this.key})`;
  }
}

class DeleteCommand implements fc.Command<Model, Real> {
  constructor(readonly key: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.store.delete(this.key);
    m.entries.delete(this.key);
    checkInvariants(m, r);
  }
  toString(): string {
    return `delete(${this.key})`;
  }
}

class AdvanceCommand implements fc.Command<Model, Real> {
  constructor(
    readonly ms: number,
    readonly tick: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.clock.now += this.ms;
    dropExpired(m, r.clock.now);
    if (this.tick) r.store.tick();
    checkInvariants(m, r);
  }
  toString(): string {
    return `advance(${this.ms}${this.tick ? ', tick' : ''})`;
  }
}

class ResizeCommand implements fc.Command<Model, Real> {
  constructor(readonly budget: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.store.setMaxMemory(this.budget);
    assert.equal(r.store.maxMemory, this.budget);
    checkInvariants(m, r);
  }
  toString(): string {
    return `setMaxMemory(${this.budget})`;
  }
}

const key = fc.constantFrom(...KEYS);
const commands = [
  fc
    .record({
      key,
      len: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(2500)),
      fill: fc.integer({ min: 0, max: 255 }),
      partition: fc.integer({ min: 0, max: 3 }),
      ttl: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
    })
    .map(({ key: k, len, fill, partition, ttl }) => new SetCommand(k, new Uint8Array(len).fill(fill), partition, ttl)),
  key.map((k) => new GetCommand(k)),
  key.map((k) => new GetCommand(k)),
  key.map((k) => new DeleteCommand(k)),
  fc.record({ ms: fc.integer({ min: 1, max: 3000 }), tick: fc.boolean() }).map(({ ms, tick }) => new AdvanceCommand(ms, tick)),
  fc.constantFrom(...BUDGETS).map((budget) => new ResizeCommand(budget)),
];

for (const policy of ['wtinylfu', 'lru', 'lfu'] as PolicyName[]) {
  test(`store matches the model under random operations (${policy})`, () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 300, size: 'max' }), (cmds) => {
        const clock = new FakeClock();
        const real: Real = { clock, store: new Store({ maxMemory: BUDGET, policy, clock, hotKeys: false, seed: 7 }) };
        const model: Model = { entries: new Map(), vanished: 0, expiredDrops: 0 };
        fc.modelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
}

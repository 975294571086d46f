// The clock ceiling (src/replication/clock-ceiling.ts): a hand-driven store and wall clock, so each
// save's landing or failure is an explicit step. Nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClockCeilingStore, Env, Logger } from '../../src/runtime/env.ts';
import { Simulation } from '../../src/sim/simulation.ts';
import { CLOCK_CEILING_WINDOW_MS, ClockCeiling } from '../../src/replication/clock-ceiling.ts';
import { compareVersions, HybridLogicalClock } from '../../src/replication/hlc.ts';

/** A store whose saves wait until the test lands or fails them; what it holds survives "restarts". */
class HeldStore implements ClockCeilingStore {
  persisted: number | null = null;
  pending: { ceilingMs: number; done: (error: string | null) => void }[] = [];
  load(): number | null {
    return this.persisted;
  }
  save(ceilingMs: number, done: (error: string | null) => void): void {
    this.pending.push({ ceilingMs, done });
  }
  land(): void {
    const save = this.pending.shift()!;
    this.persisted = save.ceilingMs;
    save.done(null);
  }
  fail(): void {
    this.pending.shift()!.done('ENOSPC');
  }
}

function world(wallMs: number) {
  const time = { wall: wallMs, mono: 0 };
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (_o, msg) => void warnings.push(msg ?? ''), error() {} };
  const clock = { wallMs: () => time.wall, monoMs: () => time.mono };
  const process = (store: ClockCeilingStore) => {
    const hlc = new HybridLogicalClock(clock, 7);
    const ceiling = new ClockCeiling(store, { clock, log }, hlc);
    return { hlc, ceiling };
  };
  return { time, warnings, process };
}

test('a new process starts its clock above the ceiling its predecessor persisted, though its wall clock stepped back', () => {
  const store = new HeldStore();
  const w = world(1_000_000);
  const first = w.process(store);
  assert.equal(store.pending[0]!.ceilingMs, 1_000_000 + CLOCK_CEILING_WINDOW_MS, 'the first save at start: a window ahead of the wall clock');
  store.land();
  const stamped = [first.hlc.now(), first.hlc.now()];
  w.time.wall -= 5_000; // NTP steps the clock back; the process crashes and a new one starts
  const second = w.process(store);
  assert.equal(second.ceiling.startedAtMs, 1_000_000 + CLOCK_CEILING_WINDOW_MS);
  const next = second.hlc.now();
  for (const v of stamped) assert.ok(compareVersions(next, v) > 0, 'above every version the predecessor stamped');
  assert.equal(next.wallMs, 1_000_000 + CLOCK_CEILING_WINDOW_MS, 'logical ticks at the ceiling until the wall clock catches up');
  assert.ok(w.warnings.some((m) => /ahead of the wall clock/.test(m)), 'the start far ahead of the wall clock is said');
});

test('the ceiling is extended as the clock comes within half a window of it, one save at a time', () => {
  const store = new HeldStore();
  const w = world(1_000_000);
  const { hlc, ceiling } = w.process(store);
  store.land();
  w.time.wall += CLOCK_CEILING_WINDOW_MS / 2 - 1;
  hlc.now();
  assert.equal(store.pending.length, 0, 'still more than half a window below');
  w.time.wall += 1;
  hlc.now();
  hlc.now();
  assert.equal(store.pending.length, 1, 'one save in flight');
  store.land();
  assert.equal(ceiling.durableMs, w.time.wall + CLOCK_CEILING_WINDOW_MS);
  assert.deepEqual(ceiling.stats, { saves: 2, saveFailures: 0, overruns: 0 });
});

test('a version stamped past a ceiling whose extension has not landed is an overrun, counted each time and logged once', () => {
  const store = new HeldStore();
  const w = world(1_000_000);
  const { hlc, ceiling } = w.process(store);
  store.land();
  w.time.wall += CLOCK_CEILING_WINDOW_MS; // the save of the next ceiling is asked for here and stays in flight
  hlc.now();
  hlc.now();
  assert.equal(ceiling.stats.overruns, 2);
  assert.equal(w.warnings.filter((m) => /stamped at or above the persisted clock ceiling/.test(m)).length, 1);
  store.land();
  hlc.now();
  assert.equal(ceiling.stats.overruns, 2, 'covered once the save landed');
});

test('a failed save is counted, logged once, and tried again a second later at the earliest', () => {
  const store = new HeldStore();
  const w = world(1_000_000);
  const { hlc, ceiling } = w.process(store);
  store.fail();
  assert.equal(ceiling.stats.saveFailures, 1);
  hlc.now();
  assert.equal(store.pending.length, 0, 'not again at once');
  w.time.mono += 1_000;
  hlc.now();
  assert.equal(store.pending.length, 1);
  store.fail();
  assert.equal(ceiling.stats.saveFailures, 2);
  assert.equal(w.warnings.filter((m) => /cannot persist the clock ceiling/.test(m)).length, 1);
});

test('no ceiling persisted: the clock starts from the wall clock, as without the store', () => {
  const w = world(1_000_000);
  const { hlc, ceiling } = w.process(new HeldStore());
  assert.equal(ceiling.startedAtMs, null);
  assert.equal(hlc.now().wallMs, 1_000_000);
});

// The simulator's store (src/sim/simulation.ts): kept with the node across its restarts, a save in
// flight at a crash lost, and gone after wipeData (a replaced disk).
test('the simulator keeps a node\'s ceiling across its restarts, loses a save a crash cut short, and forgets it on wipeData', () => {
  const seen: (number | null)[] = [];
  const sim = new Simulation<{ env: Env }>({ seed: 1, nodes: 1, factory: (env) => ({ env }) });
  const save = (ceilingMs: number) => sim.process(0)!.env.clockCeiling!.save(ceilingMs, () => {});
  const restart = () => {
    sim.restart(0);
    seen.push(sim.process(0)!.env.clockCeiling!.load());
  };
  save(5_000);
  sim.runUntil(sim.now + 10);
  restart();
  save(9_000);
  restart(); // before the save landed
  sim.wipeData(0);
  restart();
  assert.deepEqual(seen, [5_000, 5_000, null]);
});

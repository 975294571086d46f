// The window tuner's minis model a cache of the size the store expects. A store with a memory
// budget can only guess its entry count (an entry per 256 bytes, at most 65,536) until it is full;
// at the first eviction the policy builds the tuner again for the entries held, when the guess was
// more than a quarter off (WTinyLfuPolicy.sizeTunerToFullStore).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/store/store.ts';

const clock = { wallMs: () => 0, monoMs: () => 0 };
const VALUE = new Uint8Array(8);

/** Sets k0, k1, ... to `value` until the store first evicts; returns the entries it held just before. */
function fillUntilFull(store: Store, value = VALUE): number {
  for (let i = 0; ; i++) {
    const before = store.size;
    store.set(`k${i}`, value, { partition: 0 });
    if (store.size <= before) return before;
  }
}

const tunerEntries = (store: Store): number | undefined => store.stats().policyDetails['windowTunerEntries'];

test('a store sized by bytes that holds far more entries than it guessed sizes its tuner for the entries held once full', () => {
  const store = new Store({ maxMemory: 8 * 1024 * 1024, clock, hotKeys: false, analytics: false });
  assert.equal(tunerEntries(store), 8 * 1024 * 1024 / 256, 'before it is full: the guess, an entry per 256 bytes');
  const held = fillUntilFull(store);
  assert.ok(held > 1.25 * 32_768, `small entries: ${held} held, well over the guess`);
  assert.ok(Math.abs(tunerEntries(store)! - held) <= 1, `tuner sized for ${tunerEntries(store)} entries, the store held ${held}`);
});

test('the guess capped at 65,536 entries is replaced by the count held', () => {
  const store = new Store({ maxMemory: 64 * 1024 * 1024, clock, hotKeys: false, analytics: false });
  assert.equal(tunerEntries(store), 65_536);
  const held = fillUntilFull(store);
  assert.ok(Math.abs(tunerEntries(store)! - held) <= 1, `tuner sized for ${tunerEntries(store)} entries, the store held ${held}`);
});

test('a store sized by entries, or whose guess was near, keeps the tuner it was built with', () => {
  const byEntries = new Store({ maxEntries: 5_000, clock, hotKeys: false, analytics: false });
  fillUntilFull(byEntries);
  assert.equal(tunerEntries(byEntries), 5_000);
  // 72-byte values make entries of about 256 bytes (the store's overhead is the rest): the guess is right.
  const nearGuess = new Store({ maxMemory: 4 * 1024 * 1024, clock, hotKeys: false, analytics: false });
  const held = fillUntilFull(nearGuess, new Uint8Array(72));
  assert.equal(tunerEntries(nearGuess), 4 * 1024 * 1024 / 256);
  assert.ok(Math.abs(held - 16_384) < 16_384 / 4, `${held} held: near the guess`);
});

test('the tuner rebuilt at the first eviction has seen the keys held then: reading them again ends the cold fill', () => {
  const store = new Store({ maxMemory: 8 * 1024 * 1024, clock, hotKeys: false, analytics: false });
  const held = fillUntilFull(store);
  assert.ok(tunerEntries(store)! > 1.25 * 32_768, 'rebuilt at the first eviction');
  // The fill wrote k0, k1, ...; the store kept the newest `held` of them. Each is read once: a re-read.
  const written = held + 1;
  for (let i = written - held; i < written; i++) assert.ok(store.getView(`k${i}`, 0) !== undefined);
  for (let i = written; i < written + 1_000; i++) store.set(`k${i}`, VALUE, { partition: 0 });
  // Still in the cold fill, every newcomer would be admitted over the keys just read.
  assert.ok(store.stats().policyDetails['admissionRejections']! > 0, 'newcomers duel the re-read keys');
});

// Reads under memory pressure: a replica that evicted a key answers the version it evicted, and the
// coordinator never answers (or read-repairs with) anything older (src/replication/eviction-shadow.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GetOptions, GetResult, KvError } from '../../src/replication/api.ts';
import { Coordinator } from '../../src/replication/coordinator.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock, type Version } from '../../src/replication/hlc.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { Store } from '../../src/store/index.ts';
import { context, fakeEnv } from './replication-fakes.ts';

const older: Version = { wallMs: 500, logical: 0, node: 2 };
const evicted: Version = { wallMs: 900, logical: 0, node: 3 };

function readWith(answers: (id: number) => [string, KvMessage][], owners?: string[], options: GetOptions = {}): { result: GetResult | null; error: KvError | null; sent: [string, KvMessage][] } {
  const { env, flush } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const placement = owners === undefined ? {} : { placement: () => ({ version: 'v', partitions: 4, width: owners.length, members: owners.map((name) => ({ name, zone: '' })), owners: () => owners, ranking: () => owners, partitionOfKey: () => 1 }) };
  const coordinator = new Coordinator(context(env, sent, placement), new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  let result: GetResult | null = null;
  let error: KvError | null = null;
  coordinator.get(new Uint8Array([1]), options, (e, r) => {
    error = e;
    result = r ?? null;
  });
  const id = (sent[0]![1] as { id: number }).id;
  sent.length = 0;
  for (const [from, message] of answers(id)) coordinator.onReply(from, message);
  flush(10_000);
  return { result, error, sent };
}

test('a read that meets an eviction newer than every record it got answers a miss and repairs nobody', () => {
  const { result, error, sent } = readWith((id) => [
    ['n1', { t: 'ra', id, r: null, ready: true, e: evicted }],
    ['n2', { t: 'ra', id, r: makeRecord(older, new TextEncoder().encode('stale'), 0), ready: true }],
    ['n3', { t: 'ra', id, r: null, ready: true }],
  ]);
  assert.equal(error, null);
  assert.equal(result!.value, null, 'the older value must not be answered');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp'), [], 'nobody is repaired with the older record');
});

test('an eviction older than the record returned changes nothing: the record is answered and repaired as usual', () => {
  const newer: Version = { wallMs: 1_000, logical: 0, node: 2 };
  const { result, sent } = readWith((id) => [
    ['n1', { t: 'ra', id, r: null, ready: true, e: evicted }],
    ['n2', { t: 'ra', id, r: makeRecord(newer, new TextEncoder().encode('fresh'), 0), ready: true }],
    ['n3', { t: 'ra', id, r: null, ready: true }],
  ]);
  assert.equal(new TextDecoder().decode(result!.value!), 'fresh');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp').map(([to]) => to).sort(), ['n1', 'n3']);
});

test('an inexact eviction (ei) newer than the copy: answered when two owners hold nothing newer, with no repair', () => {
  const { result, sent } = readWith((id) => [
    ['n1', { t: 'ra', id, r: null, ready: true, e: evicted, ei: true }],
    ['n2', { t: 'ra', id, r: makeRecord(older, new TextEncoder().encode('copy'), 0), ready: true }],
    ['n3', { t: 'ra', id, r: makeRecord(older, new TextEncoder().encode('copy'), 0), ready: true }],
  ]);
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp'), [], 'nobody is repaired over an eviction');
});

test('an inexact eviction with one copy and the third owner silent: a miss at the deadline, not unavailable', () => {
  const { result, error } = readWith((id) => [
    ['n1', { t: 'ra', id, r: null, ready: true, e: evicted, ei: true }],
    ['n2', { t: 'ra', id, r: makeRecord(older, new TextEncoder().encode('copy'), 0), ready: true }],
  ]);
  assert.equal(error, null);
  assert.deepEqual([result!.value, result!.miss], [null, 'evicted']);
});

test('the same eviction without the bit (a replica that predates it, or an exact one): a miss, as before', () => {
  const { result } = readWith((id) => [
    ['n1', { t: 'ra', id, r: null, ready: true, e: evicted }],
    ['n2', { t: 'ra', id, r: makeRecord(older, new TextEncoder().encode('copy'), 0), ready: true }],
    ['n3', { t: 'ra', id, r: makeRecord(older, new TextEncoder().encode('copy'), 0), ready: true }],
  ]);
  assert.deepEqual([result!.value, result!.miss], [null, 'evicted']);
});

test('an exact eviction newer than the copy beside an inexact one: a miss, though enough owners hold only the copy (five owners)', () => {
  const copy = (id: number, from: string): [string, KvMessage] => [from, { t: 'ra', id, r: makeRecord(older, new TextEncoder().encode('copy'), 0), ready: true }];
  const { result } = readWith((id) => [
    ['n1', { t: 'ra', id, r: null, ready: true, e: evicted, ei: true }],
    copy(id, 'n3'),
    ['n2', { t: 'ra', id, r: null, ready: true, e: { ...older, wallMs: 700 } }],
    copy(id, 'n4'),
    copy(id, 'n5'),
  ], ['n1', 'n2', 'n3', 'n4', 'n5']);
  // n3, n4 and n5 make the QUORUM of 3 without an eviction newer than the copy; n2 evicted a newer version itself.
  assert.deepEqual([result!.value, result!.miss], [null, 'evicted']);
});

// A ONE read's first answer makes its level: when that is an inexact eviction with no copy (the
// coordinator's own replica forgot the key), the read waits for the owners asked, and answers a copy
// older than the eviction only when a majority answered nothing newer than it.
const copyOf = (id: number, from: string, version = older, value = 'copy'): [string, KvMessage] => [from, { t: 'ra', id, r: makeRecord(version, new TextEncoder().encode(value), 0), ready: true }];

test('ONE, an inexact eviction and no copy first, then two owners with the copy: the copy, with no repair', () => {
  const { result, sent } = readWith((id) => [['n1', { t: 'ra', id, r: null, ready: true, e: evicted, ei: true }], copyOf(id, 'n2'), copyOf(id, 'n3')], undefined, { consistency: 'one' });
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp'), [], 'nobody is repaired over an eviction');
});

test('ONE, an inexact eviction and no copy first, then a copy newer than it: answered and repaired as usual', () => {
  const newer: Version = { wallMs: 1_000, logical: 0, node: 2 };
  const { result, sent } = readWith((id) => [['n1', { t: 'ra', id, r: null, ready: true, e: evicted, ei: true }], ['n3', { t: 'ra', id, r: null, ready: true }], copyOf(id, 'n2', newer, 'fresh')], undefined, { consistency: 'one' });
  assert.equal(new TextDecoder().decode(result!.value!), 'fresh');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp').map(([to]) => to).sort(), ['n1', 'n3']);
});

test('ONE, an inexact eviction and no copy first, one copy and the third owner silent: a miss at the deadline, not unavailable', () => {
  const { result, error } = readWith((id) => [['n1', { t: 'ra', id, r: null, ready: true, e: evicted, ei: true }], copyOf(id, 'n2')], undefined, { consistency: 'one' });
  assert.equal(error, null);
  assert.deepEqual([result!.value, result!.miss], [null, 'evicted'], 'one owner of three answered nothing newer than the copy: fewer than a majority');
});

test('ONE, an exact eviction and no copy first, then copies older than it: a miss, whatever the others hold', () => {
  const { result } = readWith((id) => [['n1', { t: 'ra', id, r: null, ready: true, e: evicted }], copyOf(id, 'n2'), copyOf(id, 'n3')], undefined, { consistency: 'one' });
  assert.deepEqual([result!.value, result!.miss], [null, 'evicted']);
});

// An exact eviction with no copy says a version was written, not that the others lack it: the read
// waits for them too, and answers a copy at that version (it is the one evicted), never an older one.
test('ONE, an exact eviction and no copy first, then the others hold that very version: answered, nobody repaired', () => {
  const { result, sent } = readWith((id) => [['n1', { t: 'ra', id, r: null, ready: true, e: evicted }], copyOf(id, 'n2', evicted), copyOf(id, 'n3', evicted)], undefined, { consistency: 'one' });
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp'), [], 'n1 holds that version as evicted');
});

// A forgetting horizon (`h`): "nothing here, and any version of it this replica forgot is at or
// below h". Weighed as an inexact eviction only in a read made with no copy; otherwise "nothing".
const horizonOf = (id: number, from: string): [string, KvMessage] => [from, { t: 'ra', id, r: null, ready: true, h: evicted }];

test('ONE, a horizon and no copy first, then two owners with a copy older than it: the copy, and the horizon owner is repaired', () => {
  const { result, sent } = readWith((id) => [horizonOf(id, 'n1'), copyOf(id, 'n2'), copyOf(id, 'n3')], undefined, { consistency: 'one' });
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp').map(([to]) => to), ['n1'], 'it answered nothing held, as a cache fills on demand');
});

test('ONE, a horizon and no copy first, then "nothing" and a copy older than it: the copy (two owners hold nothing newer), both others repaired', () => {
  const { result, sent } = readWith((id) => [horizonOf(id, 'n1'), ['n3', { t: 'ra', id, r: null, ready: true }], copyOf(id, 'n2')], undefined, { consistency: 'one' });
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp').map(([to]) => to).sort(), ['n1', 'n3']);
});

test('ONE, a horizon and no copy first, one copy older than it, the third owner silent: a miss at the deadline, nobody repaired', () => {
  const { result, error, sent } = readWith((id) => [horizonOf(id, 'n1'), copyOf(id, 'n2')], undefined, { consistency: 'one' });
  assert.equal(error, null);
  assert.deepEqual([result!.value, result!.miss], [null, 'evicted'], 'n1 may have forgotten a newer version: one owner of three is fewer than a majority');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp'), []);
});

test('ONE, a horizon and no copy first, every other owner "nothing": a miss, absent', () => {
  const { result } = readWith((id) => [horizonOf(id, 'n1'), ['n2', { t: 'ra', id, r: null, ready: true }], ['n3', { t: 'ra', id, r: null, ready: true }]], undefined, { consistency: 'one' });
  assert.deepEqual([result!.value, result!.miss], [null, 'absent']);
});

test('ALL with a horizon newer than the copies: the copy, as before (a copy made the level: the horizon reads as "nothing")', () => {
  const { result, sent } = readWith((id) => [copyOf(id, 'n2'), horizonOf(id, 'n1'), copyOf(id, 'n3')], undefined, { consistency: 'all' });
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp').map(([to]) => to), ['n1']);
});

test('QUORUM of five made with no copy (an inexact eviction, two absent), then two copies: the copy (four owners hold nothing newer)', () => {
  const { result } = readWith((id) => [
    ['n1', { t: 'ra', id, r: null, ready: true, e: evicted, ei: true }],
    ['n2', { t: 'ra', id, r: null, ready: true }],
    ['n3', { t: 'ra', id, r: null, ready: true }],
    copyOf(id, 'n4'),
    copyOf(id, 'n5'),
  ], ['n1', 'n2', 'n3', 'n4', 'n5']);
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
});

test('a replica asked for a key its store evicted answers the evicted version', () => {
  const { env, flush } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const host = new ReplicaHost(context(env, sent), new Store({ maxMemory: 4 * 1024, clock: env.clock, seed: 1 }), new HintStore(10, 10_000, 60_000), new HybridLogicalClock(env.clock, 1), 64);
  const first: Version = { wallMs: 100, logical: 0, node: 2 };
  host.onMessage('n2', { t: 'w', id: 1, p: 1, k: 'first', r: makeRecord(first, new Uint8Array(64), 0) });
  for (let i = 0; i < 200 && host.partitions.get(1)!.peek('first'); i++) {
    host.onMessage('n2', { t: 'w', id: 2 + i, p: 1, k: `filler-${i}`, r: makeRecord({ wallMs: 200 + i, logical: 0, node: 2 }, new Uint8Array(64), 0) });
    flush();
  }
  assert.equal(host.partitions.get(1)!.peek('first'), null, 'the store should have evicted it');
  sent.length = 0;
  host.onMessage('n2', { t: 'r', id: 999, p: 1, k: 'first' });
  flush();
  assert.deepEqual(sent, [['n2', { t: 'ra', id: 999, r: null, ready: true, e: first }]]);
  host.stop();
});

// An owner rebuilt from sources that had forgotten keys answers its copy with their horizon (`vh`):
// it cannot vouch for "nothing newer" (docs/REPLICATION.md, "A replica rebuilt from forgetful sources").
const vouchedCopyOf = (id: number, from: string): [string, KvMessage] => [from, { t: 'ra', id, r: makeRecord(older, new TextEncoder().encode('copy'), 0), ready: true, vh: evicted }];

test('QUORUM, a rebuilt owner\'s copy (vh newer) and a copy first, then an inexact eviction: a miss (the rebuilt owner is not counted)', () => {
  const { result, sent } = readWith((id) => [vouchedCopyOf(id, 'n2'), copyOf(id, 'n3'), ['n1', { t: 'ra', id, r: null, ready: true, e: evicted, ei: true }]]);
  assert.deepEqual([result!.value, result!.miss], [null, 'evicted']);
  assert.deepEqual(sent.filter(([, m]) => m.t === 'rp'), [], 'nobody is repaired over an eviction');
});

test('QUORUM, a rebuilt owner\'s copy (vh newer) and a copy first, then "nothing": the copy, once every owner answered', () => {
  const { result } = readWith((id) => [vouchedCopyOf(id, 'n2'), copyOf(id, 'n3'), ['n1', { t: 'ra', id, r: null, ready: true }]]);
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
});

test('ALL, every owner holds the copy, one rebuilt (vh newer): the copy (an inherited horizon alone says no newer version was written)', () => {
  const { result } = readWith((id) => [vouchedCopyOf(id, 'n1'), copyOf(id, 'n2'), copyOf(id, 'n3')], undefined, { consistency: 'all' });
  assert.equal(new TextDecoder().decode(result!.value!), 'copy');
});

test('QUORUM, a rebuilt owner\'s copy (vh newer) and a copy, then a horizon newer than it from an owner lacking the key: a miss', () => {
  const { result } = readWith((id) => [vouchedCopyOf(id, 'n2'), copyOf(id, 'n3'), horizonOf(id, 'n1')]);
  assert.deepEqual([result!.value, result!.miss], [null, 'evicted']);
});

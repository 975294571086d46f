// Anti-entropy of large partitions (src/replication/sync.ts, docs/REPLICATION.md): when a large
// partition's digests differ, replicas compare bucket digests and list only the differing buckets,
// within the answer budget; with a peer that predates buckets, whole lists as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicationConfig } from '../../src/replication/config.ts';
import type { Version } from '../../src/replication/hlc.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import { bucketOf, SYNC_BUCKETS } from '../../src/replication/partition-replica.ts';
import { listedEntries, PAIR as NAMES, syncPair } from './replication-sync-pair.ts';

const SYNC_INTERVAL_MS = 1_000;
const v = (wallMs: number, node = 2): Version => ({ wallMs, logical: 0, node });
const keyName = (i: number) => `{tag}key:${i}`;

interface Traffic {
  /** Messages sent, by type. */
  count: Map<string, number>;
  bytes: number;
  /** (key, version) entries listed in sync answers (`sr` lists and `sl` bucket lists). */
  entries: number;
  /** The most entries one answer listed. */
  largestList: number;
}

/**
 * The two-replica rig (replication-sync-pair.ts) with its traffic counted. `protocols`: the
 * protocol each node announces. Only n1 runs sync rounds (start), so a round is one exchange n1 -> n2.
 */
function pair(config: Partial<ReplicationConfig> = {}, protocols: Record<string, number> = { n1: 2, n2: 2 }) {
  let traffic: Traffic = { count: new Map(), bytes: 0, entries: 0, largestList: 0 };
  const { nodes, put: putOn, flush, now } = syncPair({
    config: { syncIntervalMs: SYNC_INTERVAL_MS, ...config },
    protocolOf: (peer) => protocols[peer] ?? 0,
    onSend: (m, bytes) => {
      traffic.bytes += bytes;
      traffic.count.set(m.t, (traffic.count.get(m.t) ?? 0) + 1);
      // Counted from the messages, so the test means the same on code that predates `sl`.
      const listed = listedEntries(m);
      traffic.entries += listed;
      traffic.largestList = Math.max(traffic.largestList, listed);
    },
  });
  const put = (name: string, key: string, version: Version, tombstone = false) => {
    putOn(name, key, version, tombstone ? null : new Uint8Array(3));
    flush();
  };
  const versionOf = (name: string, key: string) => {
    let out: Version | undefined;
    nodes.get(name)!.host.run(0, (actor) => void (out = actor.replica.knownVersionOf(key)));
    flush();
    return out;
  };
  const digest = (name: string) => {
    let d = 0;
    nodes.get(name)!.host.run(0, (actor) => void (d = actor.replica.digest));
    flush();
    return d;
  };
  /** Runs n1's sync rounds (started on first call) one at a time, returning each round's traffic. */
  let started = false;
  const round = (): Traffic => {
    if (!started) nodes.get('n1')!.sync.start();
    started = true;
    traffic = { count: new Map(), bytes: 0, entries: 0, largestList: 0 };
    flush(now() + SYNC_INTERVAL_MS);
    // The exchange's messages, 1 ms each way, well before the next round.
    flush(now() + SYNC_INTERVAL_MS / 10);
    return traffic;
  };
  return { nodes, put, versionOf, digest, round, flush, now };
}

/** Both replicas hold `keys` records at the same versions. */
function filled(keys: number, config: Partial<ReplicationConfig> = {}, protocols?: Record<string, number>) {
  const c = pair(config, protocols);
  for (let i = 0; i < keys; i++) for (const name of NAMES) c.put(name, keyName(i), v(1_000 + i));
  return c;
}

test('one differing key of a 20,000-key partition: one round lists one bucket, not the partition', () => {
  const c = filled(20_000);
  c.put('n2', keyName(4321), v(50_000));
  const t = c.round();
  assert.deepEqual(c.versionOf('n1', keyName(4321)), v(50_000), 'n1 got the newer version in one round');
  assert.equal(c.digest('n1'), c.digest('n2'));
  // About 20,000 / 256 = 78 entries in a bucket; before, the answer listed all 20,000 (3.3 MB a
  // round at 100,000 keys: bench/replication/sync-large-partition.ts).
  assert.ok(t.entries <= 2 * (20_000 / SYNC_BUCKETS), `entries listed: ${t.entries}`);
  assert.ok(t.bytes < 12_000, `bytes sent: ${t.bytes}`);
  assert.equal(t.count.get('sb'), 1);
  // Equal digests now: the next round exchanges digests only.
  const quiet = c.round();
  assert.equal(quiet.entries, 0);
  assert.deepEqual([...quiet.count.keys()].sort(), ['sq', 'sr']);
});

test('a missed delete and a missed new key of a large partition are repaired both ways by bucket', () => {
  const c = filled(2_000);
  c.put('n1', keyName(7), v(60_000), true); // deleted on n1 only
  c.put('n2', 'fresh', v(60_001)); // a key only n2 has
  c.put('n1', 'mine', v(60_002)); // a key only n1 has
  c.round();
  assert.deepEqual(c.versionOf('n2', keyName(7)), v(60_000), 'n1 pushed its tombstone');
  assert.deepEqual(c.versionOf('n1', 'fresh'), v(60_001), 'n1 wanted the key it lacked');
  assert.deepEqual(c.versionOf('n2', 'mine'), v(60_002), 'n1 pushed the key n2 lacked');
  assert.equal(c.digest('n1'), c.digest('n2'));
});

test('with bugs.bucketDigestSkipsNewKeys a key one replica lacks is never repaired (the switch the kv-buckets scenario catches)', () => {
  const c = filled(2_000, { bugs: { bucketDigestSkipsNewKeys: true } });
  c.round(); // digests computed: from here writes update them as they go
  c.put('n2', 'fresh', v(60_001));
  for (let i = 0; i < 5; i++) c.round();
  assert.equal(c.versionOf('n1', 'fresh'), undefined, 'the buckets compare equal, so nothing is listed');
  assert.notEqual(c.digest('n1'), c.digest('n2'));
});

test('many differing buckets: each answer lists at most the budget (or one bucket), and rounds resume until equal', () => {
  const syncBatch = 64;
  const c = filled(4_000, { syncBatch });
  // n1 lacks newer versions of 1,000 keys spread over every bucket.
  for (let i = 0; i < 4_000; i += 4) c.put('n2', keyName(i), v(70_000 + i));
  const largestBucket = Math.max(...Array.from({ length: SYNC_BUCKETS }, (_, b) => [...Array(4_000).keys()].filter((i) => bucketOf(keyName(i)) === b).length));
  let rounds = 0;
  while (c.digest('n1') !== c.digest('n2') && rounds < 500) {
    const t = c.round();
    assert.ok(t.largestList <= Math.max(syncBatch, largestBucket), `an answer listed ${t.largestList}`);
    rounds++;
  }
  assert.equal(c.digest('n1'), c.digest('n2'), `equal after ${rounds} rounds`);
  for (let i = 0; i < 4_000; i += 4) assert.deepEqual(c.versionOf('n1', keyName(i)), v(70_000 + i));
});

test('a large partition catching up from a peer is done only once every differing bucket was listed', () => {
  const c = filled(3_000, { syncBatch: 32 });
  for (let i = 0; i < 3_000; i += 3) c.put('n2', keyName(i), v(80_000 + i));
  const n1 = c.nodes.get('n1')!;
  // n1 catches up from n2 (as after a ring change), holding most of it already: bucket path.
  n1.host.partitions.get(0)!.catchUpFrom(['n2']);
  const t = c.round();
  assert.ok((t.count.get('sl') ?? 0) > 0, 'compared by bucket');
  assert.equal(n1.sync.progress().partitionsCatchingUp, 1, 'one answer covers a few buckets: not caught up yet');
  let rounds = 1;
  while (n1.sync.progress().partitionsCatchingUp > 0 && rounds < 500) {
    c.round();
    rounds++;
  }
  assert.equal(n1.sync.progress().partitionsCatchingUp, 0);
  for (let i = 0; i < 3_000; i += 3) assert.deepEqual(c.versionOf('n1', keyName(i)), v(80_000 + i), `after ${rounds} rounds`);
});

for (const [older, newer] of [['n1', 'n2'], ['n2', 'n1']]) {
  test(`mixed versions: ${older} on protocol 1 and ${newer} on 2 sync by whole lists, never by bucket`, () => {
    const c = filled(2_000, {}, { [older!]: 1, [newer!]: 2 });
    c.put('n2', keyName(3), v(90_000));
    c.put('n1', 'mine', v(90_001));
    const t = c.round();
    assert.equal(t.count.get('sb') ?? 0, 0);
    assert.equal(t.count.get('sl') ?? 0, 0);
    assert.equal(t.entries, 2_000, 'n2\'s whole list, as before buckets');
    assert.deepEqual(c.versionOf('n1', keyName(3)), v(90_000));
    assert.deepEqual(c.versionOf('n2', 'mine'), v(90_001));
    assert.equal(c.digest('n1'), c.digest('n2'));
  });
}

test('a sync request from a node that predates buckets (no `b`) gets whole lists', () => {
  // What a node of an older build sends: the same `sq` without the field.
  const c = filled(1_000);
  c.put('n1', 'mine', v(95_000));
  let answer: KvMessage | undefined;
  const n2 = c.nodes.get('n2')!;
  const digest = c.digest('n1');
  const original = n2.sync.onMessage.bind(n2.sync);
  void original;
  // n2 answers to n1; catch the answer on its way.
  const n1 = c.nodes.get('n1')!;
  const onMessage = n1.sync.onMessage.bind(n1.sync);
  n1.sync.onMessage = (from, m) => {
    if (m.t === 'sr') answer = m;
    return onMessage(from, m);
  };
  n2.sync.onMessage('n1', { t: 'sq', d: [0, digest] });
  c.flush(c.now() + 10);
  assert.ok(answer !== undefined && answer.t === 'sr');
  assert.equal(answer.bd, undefined);
  assert.equal(answer.df[0]![1].length, 1_000);
});

// The node's story lines (src/node/story-log.ts): hint backlog and eviction pressure cross their
// thresholds once (with hysteresis), are rate-limited, and say when they are over; ring changes
// name the partitions moved in and out of this node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeStoryLog, PRESSURE_LOG_INTERVAL_MS, RING_LOG_INTERVAL_MS } from '../../src/node/story-log.ts';
import type { Placement } from '../../src/replication/context.ts';
import type { Logger } from '../../src/runtime/env.ts';
import type { StoreStats } from '../../src/store/index.ts';

function capture(): { log: Logger; lines: { level: string; fields: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (fields: object, msg?: string) => lines.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function placement(version: string, owners: string[][]): Placement {
  const names = [...new Set(owners.flat())].sort();
  return {
    version,
    partitions: owners.length,
    width: owners[0]!.length,
    members: names.map((name) => ({ name, zone: '' })),
    owners: (p) => owners[p]!,
    ranking: (p) => owners[p]!,
    partitionOfKey: () => 0,
  };
}

function stats(evicted: number, entries = 10_000, refused = 0): StoreStats {
  return { hits: 0, misses: 0, evictions: { size: evicted, expired: 0, explicit: 0, handoff: 0 }, expirations: 0, activeExpirations: 0, refusedTooLarge: refused, entries, bytes: 900, maxMemory: 1000, arenaReservedBytes: 0, policy: 'wtinylfu', policyDetails: {} };
}

test('hint backlog: high past half the bound, normal again under a quarter, nothing in between', () => {
  const { log, lines } = capture();
  let now = 0;
  const story = new NodeStoryLog(log, 'n1', () => now);
  for (const count of [10, 49, 50, 70, 40, 30, 24, 60]) {
    story.checkHints(count, 0, 100, 1_000_000);
    now += PRESSURE_LOG_INTERVAL_MS;
  }
  assert.deepEqual(lines.map((l) => `${l.level} ${String(l.fields.event)} ${String(l.fields.hints)}`), ['warn hint-backlog-high 50', 'info hint-backlog-normal 24', 'warn hint-backlog-high 60']);
  story.checkHints(0, 600_000, 100, 1_000_000);
  assert.equal(lines.length, 3, 'already high: bytes over the bound log nothing more');
});

test('eviction pressure: logged when the store evicts fast, at most once per interval, and when it ends', () => {
  const { log, lines } = capture();
  let now = 0;
  const story = new NodeStoryLog(log, 'n1', () => now);
  let evicted = 0;
  const tick = (perSecond: number) => {
    now += 1_000;
    evicted += perSecond;
    story.checkEviction(stats(evicted));
  };
  tick(0);
  tick(10); // slow: nothing
  for (let i = 0; i < 10; i++) tick(5_000);
  tick(0);
  const events = lines.map((l) => l.fields.event);
  assert.deepEqual(events, ['eviction-pressure', 'eviction-pressure-end']);
  assert.equal(lines[0]!.fields.evictedPerSecond, 5_000);
  assert.equal(lines[0]!.level, 'warn');
  now += PRESSURE_LOG_INTERVAL_MS;
  tick(5_000);
  tick(5_000);
  assert.equal(lines.filter((l) => l.fields.event === 'eviction-pressure').length, 2, 'once more after the interval');
});

test('ring changes name the partitions moved in and out of this node, and a burst is counted, not flooded', () => {
  const { log, lines } = capture();
  let now = 0;
  const story = new NodeStoryLog(log, 'n1', () => now);
  const first = placement('v1', [['n1', 'n2'], ['n2', 'n3'], ['n1', 'n3']]);
  const second = placement('v2', [['n2', 'n3'], ['n1', 'n2'], ['n1', 'n4']]);
  story.ringChanged(null, first);
  now += RING_LOG_INTERVAL_MS;
  story.ringChanged(first, second);
  const [a, b] = lines.map((l) => l.fields);
  assert.deepEqual([a!.oldVersion, a!.version, a!.partitionsIn, a!.partitionsOwned], [null, 'v1', 2, 2]);
  assert.deepEqual([b!.oldVersion, b!.version, b!.partitionsInList, b!.partitionsOutList, b!.membersAdded, b!.members], ['v1', 'v2', [1], [0], ['n4'], 4]);
  for (let i = 0; i < 5; i++) story.ringChanged(second, first);
  now += RING_LOG_INTERVAL_MS;
  story.ringChanged(first, second);
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.fields.suppressed, 5);
});

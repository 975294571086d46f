// The node's story lines (src/node/story-log.ts): hint backlog and eviction pressure cross their
// thresholds once (with hysteresis), are rate-limited, and say when they are over; ring changes
// name the partitions moved in and out of this node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NodeStoryLog, PRESSURE_LOG_INTERVAL_MS, RING_LOG_INTERVAL_MS } from '../../src/node/story-log.ts';
import type { Placement } from '../../src/replication/context.ts';
import type { Logger, Timers } from '../../src/runtime/env.ts';
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

/** Timers on a hand-cranked clock: `advance` runs what falls due. */
function fakeTimers(clock: { now: number }): Timers & { advance(ms: number): void; pending(): number } {
  let next = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimer: (delayMs, fn) => {
      due.set(next, { at: clock.now + delayMs, fn });
      return next++;
    },
    cancelTimer: (id) => void due.delete(id),
    advance(ms) {
      const end = clock.now + ms;
      for (;;) {
        const first = [...due.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (first === undefined) break;
        due.delete(first[0]);
        clock.now = first[1].at;
        first[1].fn();
      }
      clock.now = end;
    },
    pending: () => due.size,
  };
}

test('ring changes held back by the limiter end in a trailing line: the log ends on the ring in force', () => {
  // F7: n1 started, n2 and n3 joined within a second; the log said 2 members for good while the
  // node routed by the 3-member ring, since the held-back line waited for a change that never came.
  const { log, lines } = capture();
  const clock = { now: 0 };
  const timers = fakeTimers(clock);
  const story = new NodeStoryLog(log, 'n1', () => clock.now, timers);
  const one = placement('v1', [['n1'], ['n1'], ['n1']]);
  const two = placement('v2', [['n1', 'n2'], ['n2', 'n1'], ['n1', 'n2']]);
  const three = placement('v3', [['n1', 'n2'], ['n2', 'n3'], ['n3', 'n1']]);
  story.ringChanged(null, one);
  clock.now += 300;
  story.ringChanged(one, two); // held back
  clock.now += 300;
  story.ringChanged(two, three); // held back
  assert.deepEqual(lines.map((l) => l.fields.version), ['v1']);
  timers.advance(RING_LOG_INTERVAL_MS);
  assert.deepEqual(lines.map((l) => l.fields.version), ['v1', 'v3'], 'a trailing line once the interval passed');
  const trailing = lines[1]!.fields;
  assert.deepEqual([trailing.oldVersion, trailing.members, trailing.suppressed, trailing.membersAdded], ['v1', 3, 1, ['n2', 'n3']], 'from the last ring logged; the change in between counted');
  assert.match(lines[1]!.msg, /^ring changed from v1 to v3: 3 members/);
  timers.advance(10 * RING_LOG_INTERVAL_MS);
  assert.equal(lines.length, 2, 'one trailing line, no more');
  assert.equal(timers.pending(), 0);

  // A change that passes the limiter itself needs no trailing line; a stop cancels a pending one.
  clock.now += RING_LOG_INTERVAL_MS;
  story.ringChanged(three, two);
  story.ringChanged(two, one);
  story.stop();
  timers.advance(10 * RING_LOG_INTERVAL_MS);
  assert.deepEqual(lines.map((l) => l.fields.version), ['v1', 'v3', 'v2']);
});

test("docs/OPERATIONS.md's ring-changed row gives both forms of the line: a node's first ring and a change", () => {
  // The row said only `ring changed from V1 to V2: ...`; a node's first ring logs `ring to V: ...` (opts39).
  const { log, lines } = capture();
  let now = 0;
  const story = new NodeStoryLog(log, 'n1', () => now);
  const first = placement('V', [['n1', 'n2'], ['n2', 'n1']]);
  story.ringChanged(null, first);
  now += RING_LOG_INTERVAL_MS;
  story.ringChanged(placement('V1', [['n1', 'n2'], ['n2', 'n1']]), placement('V2', [['n2', 'n3'], ['n3', 'n1']]));
  assert.equal(lines.length, 2);
  // The figures, in order, as the row names them: members, partitions owned, in, out.
  const asDocumented = (msg: string): string => {
    const names = ['M', 'P', 'I', 'O'];
    return msg.replace(/\b\d+\b/g, () => names.shift()!);
  };
  const row = readFileSync(new URL('../../docs/OPERATIONS.md', import.meta.url), 'utf8').split('\n').find((line) => line.startsWith('| `ring-changed` |'));
  assert.ok(row, 'docs/OPERATIONS.md has a ring-changed row');
  for (const line of lines) assert.ok(row.includes(`\`${asDocumented(line.msg)}\``), `the row gives \`${asDocumented(line.msg)}\` (printed: ${line.msg})`);
});

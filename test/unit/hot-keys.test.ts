// Hot keys: the tracker's rates, the alert rules (hysteresis, one alert per crossing, re-alert
// spacing, display of binary keys), the wire round trip of the hotkeys op and push, and the merge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotKeyTracker } from '../../src/store/hot-keys.ts';
import { HotKeyAlerts, HOT_KEY_REALERT_MS, displayKey, type HotKeyAlert } from '../../src/node/hot-key-alerts.ts';
import { decodeClientFrame, decodeServerFrame, encodeClientFrame, encodeServerFrame, type WireHotKeys } from '../../src/protocol/index.ts';
import { clusterHotKeys, mergeHotKeys } from '../../src/daemon/cluster-hot-keys.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { formatHotKeys } from '../../src/cli/hotkeys.ts';

test('the tracker reports each key\'s rate over the last tick interval', () => {
  const tracker = new HotKeyTracker({ sampleInterval: 1 });
  tracker.tick(0);
  for (let i = 0; i < 300; i++) tracker.record('a');
  for (let i = 0; i < 30; i++) tracker.record('b');
  tracker.tick(1000);
  assert.deepEqual(tracker.top(2).map((h) => [h.key, h.rate]), [['a', 300], ['b', 30]]);
  for (let i = 0; i < 100; i++) tracker.record('a');
  tracker.tick(3000); // two seconds: 100 / 2
  assert.equal(tracker.top(1)[0]!.rate, 50);
  tracker.tick(4000);
  assert.equal(tracker.top(1)[0]!.rate, 0, 'no traffic, no rate (the decayed count stays)');
  assert.ok(tracker.top(1)[0]!.count > 0);
});

function alertsWith(threshold: number) {
  const lines: { level: string; fields: object; message: string }[] = [];
  const events: HotKeyAlert[] = [];
  const alerts = new HotKeyAlerts({
    node: 'n1',
    threshold,
    log: { warn: (fields, message) => lines.push({ level: 'warn', fields, message }), info: (fields, message) => lines.push({ level: 'info', fields, message }) },
  });
  alerts.subscribe((a) => events.push(a));
  const hot = (key: string, rate: number) => ({ key, rate, count: rate, error: 0, share: 1 });
  return { alerts, lines, events, hot };
}

test('an alert fires once per crossing, holds above 75% of the threshold, clears below, and a key re-alerts at most every 10 s', () => {
  const { alerts, lines, events, hot } = alertsWith(1000);
  alerts.check([hot('k', 999)], 0);
  assert.equal(events.length, 0);
  alerts.check([hot('k', 1200)], 1000);
  alerts.check([hot('k', 1500)], 2000);
  alerts.check([hot('k', 800)], 3000); // above 750: still in force
  assert.deepEqual(events.map((e) => [e.key, e.cleared, e.rate]), [['k', false, 1200]]);
  assert.equal(alerts.active()[0]!.rate, 1500, 'the active alert shows the highest rate seen');
  assert.equal(alerts.fired, 1);
  alerts.check([hot('k', 700)], 4000);
  assert.deepEqual(events.map((e) => [e.cleared, e.atMs, e.sinceMs]), [[false, 1000, 1000], [true, 4000, 1000]]);
  assert.equal(alerts.active().length, 0);
  alerts.check([hot('k', 5000)], 5000); // within 10 s of the last alert: held back
  assert.equal(alerts.fired, 1);
  alerts.check([hot('k', 5000)], 1000 + HOT_KEY_REALERT_MS);
  assert.equal(alerts.fired, 2);
  alerts.check([], 12_000); // left the tracker: cleared
  assert.deepEqual(events.map((e) => e.cleared), [false, true, false, true]);
  assert.deepEqual(lines.map((l) => l.level), ['warn', 'info', 'warn', 'info']);
  assert.match(lines[0]!.message, /hot key "k": 1200 ops\/s/);
  assert.deepEqual(lines[0]!.fields, { event: 'hot-key-alert', key: 'k', rate: 1200, threshold: 1000 });
  assert.equal((lines[1]!.fields as { event?: string }).event, 'hot-key-cleared');
});

test('alert rates are rounded alike in the alert, while it holds, and in the log', () => {
  // F12: a line read 28903 ops/s and another 5932.6, and /hotkeys showed an unrounded peak
  // (6455.346859293552) that changed while atMs did not.
  const { alerts, lines, hot } = alertsWith(1000);
  alerts.check([hot('k', 5932.64)], 1000);
  alerts.check([hot('k', 6455.346859293552)], 2000);
  assert.equal(alerts.active()[0]!.rate, 6455.3);
  assert.match(lines[0]!.message, /: 5933 ops\/s on this node/);
  assert.equal((lines[0]!.fields as { rate: number }).rate, 5932.6);
  alerts.check([hot('k', 10.04)], 3000);
  assert.match(lines[1]!.message, /cooled down: 10 ops\/s/);
});

test('threshold 0 turns alerts off; store keys (latin1 bytes) are shown as UTF-8', () => {
  const { alerts, events, hot } = alertsWith(0);
  alerts.check([hot('k', 1e9)], 0);
  assert.equal(events.length, 0);
  const bytes = new TextEncoder().encode('clé');
  assert.equal(displayKey(String.fromCharCode(...bytes)), 'clé');
});

test('the hotkeys request, its reply and the hotkey push survive the wire', () => {
  const request = decodeClientFrame(encodeClientFrame({ type: 'requests', requests: [{ op: 'hotkeys', id: 3, count: 5, subscribe: true }] }));
  assert.deepEqual(request, { type: 'requests', requests: [{ op: 'hotkeys', id: 3, count: 5, subscribe: true }] });
  const alert = { key: 'k', node: 'n1', rate: 1234.5, threshold: 1000, sinceMs: 10, atMs: 20, cleared: false };
  const hotkeys: WireHotKeys = { node: 'n1', atMs: 5, alertRate: 1000, keys: [{ key: 'k', rate: 1234.5, count: 9000, error: 3 }], alerts: [alert] };
  const reply = decodeServerFrame(encodeServerFrame({ type: 'replies', replies: [{ id: 3, ok: true, result: { kind: 'hotkeys', hotkeys } }] }));
  assert.deepEqual(reply, { type: 'replies', replies: [{ id: 3, ok: true, result: { kind: 'hotkeys', hotkeys } }] });
  assert.deepEqual(decodeServerFrame(encodeServerFrame({ type: 'push', push: { kind: 'hotkey', alert } })), { type: 'push', push: { kind: 'hotkey', alert } });
  const bad = decodeClientFrame(encodeClientFrame({ type: 'requests', requests: [{ op: 'hotkeys', id: 4, count: 5, subscribe: 'yes' as unknown as boolean }] }));
  assert.equal((bad as { requests: { op: string }[] }).requests[0]!.op, 'rejected');
});

test('merging takes a key\'s rate at its busiest node and keeps every node\'s', () => {
  const report = (node: string, keys: [string, number][]): WireHotKeys => ({ node, atMs: 0, alertRate: 0, keys: keys.map(([key, rate]) => ({ key, rate, count: rate, error: 0 })), alerts: [] });
  const merged = mergeHotKeys([report('n2', [['a', 100], ['b', 40]]), report('n1', [['a', 90], ['c', 60]])], 2, [{ address: 'x:1', error: 'down' }], 7);
  assert.deepEqual(merged, {
    atMs: 7,
    nodes: ['n1', 'n2'],
    unreachable: [{ address: 'x:1', error: 'down' }],
    keys: [
      { key: 'a', rate: 100, nodes: { n2: 100, n1: 90 } },
      { key: 'c', rate: 60, nodes: { n1: 60 } },
    ],
    alerts: [],
  });
  const text = formatHotKeys(merged);
  assert.match(text, /not answered: x:1: down/);
  assert.match(text, /1\s+"a"\s+100\s+n2=100 n1=90\.0/);
});

test('a member that does not answer is listed once by its address, with what went wrong', async () => {
  const [port] = await freePorts(1); // nothing listens there
  const address = `127.0.0.1:${port}`;
  const result = await clusterHotKeys([address], 10, { timeoutMs: 2000 });
  assert.deepEqual(result.unreachable, [{ address, error: 'connect ECONNREFUSED' }]);
  const text = formatHotKeys(result);
  assert.match(text, new RegExp(`^not answered: ${address.replace(/\./g, '\\.')}: connect ECONNREFUSED$`, 'm'));
  assert.equal(text.split(address).length - 1, 1, 'the address once');
});

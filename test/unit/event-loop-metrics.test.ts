/**
 * The event-loop metrics do not depend on who reads `/metrics` (F15): a second reader (an HA
 * Prometheus, an operator's curl) must not reset what the first one sees. The loop is held busy on
 * purpose; the assertions are lower bounds the busy spell implies, never timings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LagWindows, LAG_WINDOWS } from '../../src/admin/event-loop-stats.ts';
import { createNodeMetrics, type MetricsSnapshot } from '../../src/admin/metrics.ts';

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is exported`);
  return Number(line.slice(series.length + 1));
}

/** Holds the event loop for `ms` of wall time. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose
  }
}

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a second reader does not change what the first one reads of the event loop', async (t) => {
  // Only the process families are scraped here; the node's snapshot is never needed by them.
  const metrics = createNodeMetrics({ snapshot: () => ({}) as MetricsSnapshot });
  t.after(() => metrics.close());
  const scrape = async (): Promise<string> => {
    const names = ['shoal_event_loop_busy_seconds_total', 'shoal_event_loop_lag_seconds'];
    return (await Promise.all(names.map((n) => metrics.registry.getSingleMetricAsString(n)))).join('\n');
  };

  const first = await scrape(); // reader A
  spin(300);
  await tick(60); // lets the lag sampler run once after the spell
  for (let i = 0; i < 5; i++) await scrape(); // reader B, several times
  const second = await scrape(); // reader A again

  const busy = value(second, 'shoal_event_loop_busy_seconds_total') - value(first, 'shoal_event_loop_busy_seconds_total');
  assert.ok(busy >= 0.29, `reader A sees the 300 ms busy spell whatever B read in between (busy grew ${busy} s)`);
  assert.ok(value(second, 'shoal_event_loop_lag_seconds{quantile="1"}') >= 0.2, 'reader A still sees the lag spike B read before it');
  assert.ok(value(second, 'shoal_event_loop_lag_seconds_count') > value(first, 'shoal_event_loop_lag_seconds_count'));
  // Reading again changes nothing of the window.
  const again = await scrape();
  for (const q of ['0.5', '0.99', '1']) {
    const series = `shoal_event_loop_lag_seconds{quantile="${q}"}`;
    assert.ok(value(again, series) >= (q === '1' ? 0.2 : 0), series);
  }
});

test('LagWindows: reads change nothing; the window slides by whole windows', () => {
  const w = new LagWindows(3);
  for (let i = 1; i <= 100; i++) w.record(i); // 1..100 ms
  const a = w.summary();
  const b = w.summary();
  assert.deepEqual(a, b, 'a read does not reset');
  assert.ok(Math.abs(a.quantiles.find((q) => q.quantile === 0.5)!.seconds - 0.05) < 0.001);
  assert.ok(Math.abs(a.quantiles.find((q) => q.quantile === 1)!.seconds - 0.1) < 0.001);
  assert.equal(a.count, 100);
  assert.ok(Math.abs(a.sumSeconds - 5.05) < 1e-9);

  w.rotate();
  w.record(1);
  assert.ok(Math.abs(w.summary().quantiles.find((q) => q.quantile === 1)!.seconds - 0.1) < 0.001, 'the spike stays while its window is kept');
  w.rotate();
  w.rotate(); // the window that held 1..100 ms is now forgotten (3 kept)
  const later = w.summary();
  assert.ok(later.quantiles.find((q) => q.quantile === 1)!.seconds < 0.002, 'then it leaves the summary');
  assert.equal(later.count, 101, '_count and _sum stay cumulative');
  assert.ok(LAG_WINDOWS >= 2);
});

/**
 * deploy/grafana/shoal-dashboard.json: it parses, has the panels issue 15 asks for, every metric
 * its PromQL names is one a node exports (the names registered in src/admin/metrics.ts), and every
 * expression is valid PromQL (Debian's promtool checks them as recording rules).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createNodeMetrics, metricNames } from '../../src/admin/metrics.ts';

const DASHBOARD = new URL('../../deploy/grafana/shoal-dashboard.json', import.meta.url);
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

interface Target {
  expr?: string;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
}
interface Dashboard {
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query?: unknown; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const expressions = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')).filter((e) => e !== '');
const variableQueries = dashboard.templating.list.flatMap((v) => (typeof v.definition === 'string' ? [v.definition] : []));

function exportedNames(): Set<string> {
  const metrics = createNodeMetrics({
    snapshot: () => {
      throw new Error('not scraped');
    },
  });
  try {
    return new Set(metricNames(metrics));
  } finally {
    metrics.close();
  }
}

test('the Grafana dashboard parses and has the panels operators need', () => {
  assert.equal(dashboard.title, 'Shoal');
  const titles = dashboard.panels.map((p) => p.title.toLowerCase());
  for (const wanted of ['operations per second', 'latency', 'hit ratio', 'memory', 'hints', 'handoff', 'members', 'hot-key rate']) {
    assert.ok(titles.some((t) => t.includes(wanted)), `a panel about ${wanted}`);
  }
  assert.ok(dashboard.panels.some((p) => p.type === 'heatmap'), 'a latency heatmap');
  assert.ok(expressions.length >= 20);
});

test('every metric the dashboard queries is one a node exports', () => {
  const exported = exportedNames();
  const used = new Set<string>();
  for (const text of [...expressions, ...variableQueries]) for (const m of text.matchAll(/\bshoal_[a-z0-9_]+/g)) used.add(m[0]);
  assert.ok(used.size >= 15);
  const unknown = [...used].filter((name) => {
    if (exported.has(name)) return false;
    // A histogram's series: name_bucket, name_sum, name_count.
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return base === name || !exported.has(base);
  });
  assert.deepEqual(unknown, [], `the dashboard names metrics no node exports: ${unknown.join(', ')}`);
});

test('every dashboard expression is valid PromQL (promtool check rules)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-grafana-'));
  try {
    // Grafana's variables become what Prometheus would see after substitution.
    const rules = expressions.map((expr, i) => ({ record: `shoal:dashboard_check:${i}`, expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*') }));
    const file = join(dir, 'rules.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] })); // YAML is a superset of JSON
    const result = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(result.error, undefined, `promtool could not run: ${String(result.error)}`);
    assert.equal(result.status, 0, `promtool check rules failed:\n${result.stdout}${result.stderr}`);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${expressions.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/METRICS.md lists every metric a node exports', () => {
  const doc = readFileSync(new URL('../../docs/METRICS.md', import.meta.url), 'utf8');
  const listed = new Set([...doc.matchAll(/^\| `(shoal_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!));
  const exported = exportedNames();
  assert.deepEqual([...exported].filter((n) => !listed.has(n)), [], 'exported but not documented');
  assert.deepEqual([...listed].filter((n) => !exported.has(n)), [], 'documented but not exported');
});

test('panels that mix units put each unit on its own axis, and the import asks for nothing unused', () => {
  // F12: utilisation (0..1) was drawn in seconds on the lag axis, and suspicions/s (about 0.01) on
  // the gossip bytes/s axis (hundreds), flat at 0. `__inputs` declared a data source no panel used.
  const raw = dashboard as unknown as { __inputs?: unknown; panels: (Panel & { fieldConfig?: { defaults?: { unit?: string }; overrides?: { matcher: { options: string }; properties: { id: string; value: unknown }[] }[] } })[] };
  assert.equal(raw.__inputs, undefined);
  const unitOf = (title: string, match: RegExp): string | undefined => {
    const panel = raw.panels.find((p) => p.title === title)!;
    const target = (panel.targets as (Target & { refId: string })[]).find((t) => match.test(t.expr ?? ''))!;
    const override = panel.fieldConfig?.overrides?.find((o) => o.matcher.options === target.refId);
    return (override?.properties.find((p) => p.id === 'unit')?.value as string | undefined) ?? panel.fieldConfig?.defaults?.unit;
  };
  assert.equal(unitOf('Event loop', /busy_seconds/), 'percentunit');
  assert.equal(unitOf('Event loop', /lag_seconds/), 's');
  assert.notEqual(unitOf('Gossip and failure detection', /sent_bytes/), unitOf('Gossip and failure detection', /suspicions/));
});

/**
 * The dashboard page (src/admin/dashboard-app.ts, dashboard-page.ts) in a real browser, Debian's
 * chromium headless, fed one scripted snapshot by a plain HTTP server serving the node's routes
 * (dashboardRoutes) with a collector over scripted sources: what a real cluster cannot show on
 * demand. Five members (one drained, one degraded) must fit their panel; a gap in the sampled
 * history must break the chart's line instead of drawing across it; the page must ask for nothing
 * that answers 404 (the favicon). Waits are on the page's DOM, bounded.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { dashboardRoutes } from '../../src/admin/dashboard.ts';
import type { DashboardNodeView, DashboardSources } from '../../src/admin/dashboard-data.ts';
import { chromiumPath, CHROMIUM_ARGS } from './chromium.ts';

const NAMES = ['alpha-node-1', 'alpha-node-2', 'alpha-node-3', 'alpha-node-4', 'alpha-node-5'];

function view(): DashboardNodeView {
  return {
    name: NAMES[0]!,
    zone: 'zone-a',
    joined: true,
    leaving: false,
    ring: { version: 'v1', partitions: 4, replicas: 3 },
    members: NAMES.map((name, i) => ({ name, zone: `zone-${i}`, state: 'alive', incarnation: 1, clientAddress: `127.0.0.1:${7400 + i}`, leaving: false, draining: name === NAMES[3], inRing: true, partitionsOwned: 600, primaries: 200 })),
    drain: { state: 'serving', partitionsLeft: 0 },
    health: { members: [{ name: NAMES[4]!, state: 'degraded', score: 0.25 }] },
    partitionsHeld: 600,
    handoff: { partitionsCatchingUp: 12, partitionsToHandOff: 34, keysToHandOff: 1000, partitionsHandedOff: 0, keysHandedOff: 123_456 },
    hints: { held: 12_345, heldBytes: 0, stored: 0, delivered: 0, droppedForRoom: 0, expired: 0 },
    store: { entries: 1_234_567, bytes: 60 << 20, maxMemory: 64 << 20, evictions: { size: 0, expired: 0, explicit: 0 } },
    coordinator: { reads: 100, writes: 100, missAbsent: 10, missDeleted: 0, missExpired: 0, missEvicted: 0, readRepairs: 0, unavailable: 0, overloaded: 0 },
  };
}

/** A sample's counts made small: 23 entries, 7 hints held, 2 keys handed off. */
function fewCounts(sample: ReturnType<ReturnType<typeof dashboardRoutes>['sample']>) {
  return { memory: { ...sample.memory, entries: 23 }, hints: { ...sample.hints, held: 7 }, handoff: { ...sample.handoff, keysHandedOff: 2 } };
}

test('the page: five members fit their panel with drained and degraded shown, a gap in the history breaks the chart line, no 404', async (t) => {
  let uptime = 100_000;
  const sources: DashboardSources = {
    version: 't',
    node: view,
    topology: () => ({ version: 'v1', partitions: 4, replicas: 3, nodes: NAMES.map((name) => ({ name, clientAddress: '', zone: '' })), owners: [NAMES.slice(0, 3), NAMES.slice(1, 4), NAMES.slice(2, 5), NAMES.slice(0, 3)] }),
    hotKeys: () => [],
    clientConnections: () => 12_345,
    uptimeMs: () => (uptime += 1000),
    latency: null,
    // Every other member answers with this node's numbers under its own name (and says it is drained when it is).
    // alpha-node-2 holds few entries and hints, as a fresh cluster's members do.
    peerSamples: async () => NAMES.slice(1).map((name) => ({ name, sample: { ...routes.sample(), node: name, drain: { state: name === NAMES[3] ? 'drained' : 'serving', partitionsLeft: 0 }, ...(name === NAMES[1] ? fewCounts(routes.sample()) : {}) }, error: null })),
  };
  const routes = dashboardRoutes(sources);
  t.after(() => routes.close());
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname === '/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      void snapshotWithGap().then((snapshot) => response.write(`data: ${JSON.stringify(snapshot)}\n\n`));
      return;
    }
    const route = routes.find((r) => r.path === url.pathname);
    if (route === undefined) {
      response.writeHead(404).end();
      return;
    }
    void route.handle({ request, response, query: url.searchParams } as never);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections(); // the page's event stream stays open otherwise
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as { port: number }).port;

  async function snapshotWithGap(): Promise<unknown> {
    // The collector's snapshot has real members and events; the history is scripted: points a
    // second apart, then none for two minutes (nobody watched), then more.
    const collector = await (await fetch(`http://127.0.0.1:${port}/dashboard/cluster`)).json();
    const snapshot = collector as { point: { atMs: number }; history: unknown[] };
    const end = snapshot.point.atMs;
    const point = (atMs: number, ops: number) => ({ ...snapshot.point, atMs, ops, nodeOps: {}, hitRatio: 0.5, memoryBytes: 1000 });
    snapshot.history = [...[0, 1, 2, 3].map((i) => point(end - 120_000 + i * 1000, 100)), ...[0, 1, 2, 3].map((i) => point(end - 3000 + i * 1000, 200))];
    return snapshot;
  }

  const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const failed: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
  });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(`document.querySelectorAll('#members tbody tr').length === 5 && Number(document.getElementById('chart-ops').dataset.points) >= 8`, { timeout: 20_000, polling: 'mutation' });

  // F12: the members table stays within its panel (it scrolls inside it when the window is narrow).
  const overflow = (await page.evaluate(`(() => {
    const panel = document.getElementById('members').closest('.panel');
    return { panel: panel.getBoundingClientRect().right, page: document.documentElement.clientWidth, scroll: panel.scrollWidth - panel.clientWidth };
  })()`)) as { panel: number; page: number; scroll: number };
  assert.ok(overflow.scroll <= 0 && overflow.panel <= overflow.page, `the members panel overflows: ${JSON.stringify(overflow)}`);

  // F9: the drained member and the degraded one say so.
  const flags = (await page.evaluate(`[...document.querySelectorAll('#members tbody tr')].map((tr) => tr.dataset.node + ' ' + tr.dataset.drain + ' ' + tr.dataset.degraded + ' ' + tr.children[2].textContent)`)) as string[];
  assert.ok(flags.includes(`${NAMES[3]} drained false alivedrained`), flags.join(' | '));
  assert.ok(flags.includes(`${NAMES[4]} serving true alivedegraded`), flags.join(' | '));

  // Counts are whole numbers: 23 entries, not 23.0; 2 keys handed off, not 2.00.
  const counts = (await page.evaluate(`(() => { const tr = document.querySelector('#members tbody tr[data-node="${NAMES[1]}"]'); const th = [...document.querySelectorAll('#members thead th')].map((h) => h.textContent); return { entries: tr.children[th.indexOf('Entries')].textContent, hints: tr.children[th.indexOf('Hints')].textContent, handoff: tr.children[th.indexOf('Handoff')].textContent }; })()`)) as Record<string, string>;
  assert.deepEqual(counts, { entries: '23', hints: '7', handoff: '12 catching up, 34 to hand off (2 keys handed off)' });

  // F12: a gap in the sampled history is a gap in the line: two segments (two moves), not one.
  const moves = (await page.evaluate(`(document.querySelector('#chart-ops path.series').getAttribute('d').match(/M/g) || []).length`)) as number;
  assert.equal(moves, 2, 'the line breaks at the minute nobody watched');

  assert.deepEqual(failed, [], 'nothing the page asked for failed (the favicon included)');
  assert.deepEqual(errors, [], 'no error in the console');
});

/**
 * The live dashboard (src/admin/dashboard.ts) in a real browser: Debian's chromium, headless,
 * driven by puppeteer-core, loads `/` of one node of a real 3-node cluster and must show the three
 * members alive, the ring's 1024 partitions, and charts with real numbers once traffic runs; a
 * SIGKILLed member must turn suspect or dead on the page. The screenshot goes to
 * test-output/dashboard.png, and with SHOAL_UPDATE_SCREENSHOT=1 to docs/images/dashboard.png
 * (the README's picture).
 *
 * Every wait is on the page's DOM (bounded), never a sleep.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { connect, stringCodec } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { chromiumPath } from './chromium.ts';
import { DaemonProcess } from './daemon-harness.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const OUTPUT_DIR = join(ROOT, 'test-output');
const README_IMAGE = join(ROOT, 'docs', 'images', 'dashboard.png');

/** Waits (bounded) until `predicate` holds in the page; the message says what was awaited. */
async function waitInPage(page: Page, what: string, predicate: string, timeoutMs = 20_000): Promise<void> {
  try {
    await page.waitForFunction(predicate, { timeout: timeoutMs, polling: 'mutation' });
  } catch (error) {
    const seen = await page.evaluate(`document.querySelector('#members tbody')?.textContent ?? '(no members table)'`).catch(() => '(page gone)');
    throw new Error(`the dashboard did not show ${what} within ${timeoutMs} ms (members: ${seen})`, { cause: error });
  }
}

test('the dashboard shows the whole cluster live in a real browser, and a killed member turning suspect or dead', async (t) => {
  const ports = await freePorts(9);
  const seed = `127.0.0.1:${ports[1]!}`;
  const nodes = [0, 1, 2].map(
    (i) => new DaemonProcess({ name: `d${i + 1}`, port: ports[3 * i]!, peerPort: ports[3 * i + 1]!, adminPort: ports[3 * i + 2]!, seeds: i === 0 ? [] : [seed], extra: [] }),
  );
  // One clean-up, in order: the traffic, the client, the browser (always closed), then the nodes (SIGKILL: no leave to wait for).
  let driving = false;
  let traffic: Promise<void> = Promise.resolve();
  let client: Awaited<ReturnType<typeof connect<string>>> | null = null;
  // The browser starts while the nodes do (each takes seconds on a busy machine).
  const launching: Promise<Browser> = puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  launching.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
  t.after(async () => {
    driving = false;
    await traffic;
    await client?.close();
    await launching.then((browser) => browser.close()).catch(() => {});
    await Promise.all(
      nodes.map((n) => {
        const gone = n.exited();
        n.kill('SIGKILL');
        return gone;
      }),
    );
  });
  const started = performance.now();
  const phase = (what: string): void => t.diagnostic(`${what} after ${Math.round(performance.now() - started)} ms`);
  await nodes[0]!.start();
  await Promise.all(nodes.slice(1).map((n) => n.start()));

  phase('nodes started');
  const browser = await launching;
  const page = await browser.newPage();
  await page.setViewport({ width: 1440, height: 1000 });
  const failures: string[] = [];
  page.on('pageerror', (error) => failures.push(String(error)));
  // The page may load nothing from anywhere but the node that serves it.
  const foreign: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(nodes[0]!.adminUrl!)) foreign.push(request.url());
  });
  // Nothing the browser asks for may fail (it asks for /favicon.ico on its own).
  const failed: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(`${nodes[0]!.adminUrl}/`, { waitUntil: 'domcontentloaded' });
  phase('page loaded');

  await waitInPage(page, 'three members alive', `document.querySelectorAll('#members tbody tr[data-state="alive"][data-reachable="true"]').length === 3`);
  await waitInPage(page, "the ring's 1024 partitions owned by the three members", `(() => {
    const cells = document.querySelectorAll('#ring path.cell');
    return cells.length === 1024 && new Set([...cells].map((c) => c.getAttribute('data-owner'))).size === 3;
  })()`);

  // Traffic through the SDK: writes, reads that hit, reads that miss, a few hot keys.
  phase('members and ring shown');
  const sdk = await connect({ seeds: nodes.map((n) => n.clientAddress), codec: stringCodec, commandTimeoutMs: 2000 });
  client = sdk;
  driving = true;
  traffic = (async () => {
    for (let i = 0; driving; i++) {
      const key = i % 4 === 0 ? `hot:${i % 3}` : `user:${i % 500}`;
      await Promise.all([sdk.set(key, `value-${i}`), sdk.get(`user:${(i * 7) % 700}`)]).catch(() => {});
    }
  })();

  await waitInPage(page, 'requests per second above zero', `Number(document.body.dataset.ops) > 0`);
  await waitInPage(page, 'a hit ratio and latency quantiles', `(() => {
    const hit = document.getElementById('tile-hit').textContent;
    const p99 = document.getElementById('tile-p99').textContent;
    return /%$/.test(hit) && /(ms|µs)$/.test(p99);
  })()`);
  await waitInPage(page, 'the charts drawn from several points', `['chart-ops', 'chart-hit', 'chart-latency', 'chart-memory'].every((id) => Number(document.getElementById(id).dataset.points) >= 2)`);
  phase('charts drawn');
  const ops = Number(await page.evaluate('document.body.dataset.ops'));
  assert.ok(ops > 0, `ops/s on the page: ${ops}`);
  const memory = String(await page.evaluate(`document.getElementById('tile-memory').textContent`));
  assert.match(memory, /\d/, 'memory shows numbers');

  // A member dies without a word: the page shows it suspect, then dead.
  const victim = nodes[2]!;
  victim.kill('SIGKILL');
  await victim.exited();
  await waitInPage(page, `${victim.spec.name} suspect or dead`, `(() => {
    const row = document.querySelector('#members tbody tr[data-node="${victim.spec.name}"]');
    return row !== null && (row.dataset.state === 'suspect' || row.dataset.state === 'dead');
  })()`);
  await waitInPage(page, `an event about ${victim.spec.name}`, `[...document.querySelectorAll('#events li')].some((li) => li.textContent.includes('${victim.spec.name}') && /suspect|dead|unreachable/.test(li.dataset.kind))`);
  phase(`${victim.spec.name} shown suspect or dead`);
  const eventTexts = (await page.evaluate(`[...document.querySelectorAll('#events li')].map((li) => li.textContent)`)) as string[];
  assert.ok(!eventTexts.some((e) => e.includes('admin port')), `members are asked over the node-to-node channel, not their admin port: ${eventTexts.join(' | ')}`);
  const updateScreenshot = process.env.SHOAL_UPDATE_SCREENSHOT === '1';
  // For the README's picture, let it reach dead (suspect is enough for the test).
  if (updateScreenshot) {
    await page
      .waitForFunction(`document.querySelector('#members tbody tr[data-node="${victim.spec.name}"]').dataset.state === 'dead'`, { timeout: 8000, polling: 'mutation' })
      .catch(() => {});
  }

  mkdirSync(OUTPUT_DIR, { recursive: true });
  const shot = join(OUTPUT_DIR, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  if (updateScreenshot) {
    mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
    copyFileSync(shot, README_IMAGE);
  }
  assert.deepEqual(failures, [], 'no script errors on the page');
  assert.deepEqual(foreign, [], 'the page loads nothing from elsewhere');
  assert.deepEqual(failed, [], 'no request of the page failed (favicon included)');
});

// A failing run's artifact page (src/sim/artifacts.ts) in a real browser (Debian's chromium,
// headless): kv seed 1100 (keyed draws) with the stand-in-writes fix switched off (issue 7's
// read-your-writes bug; seed 10580 before keys moved to Redis Cluster slots, then seed 211 until
// gossip's fix of kv-rmw seed 106). The page must draw every chart, mark the violation, and run
// without script errors or network requests. With SHOAL_UPDATE_SCREENSHOT=1 the screenshot goes
// to docs/images/sim-artifact.png (docs/SIMULATION.md).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { writeArtifacts } from '../../src/sim/artifacts.ts';
import { runScenario } from '../../src/sim/driver.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { CHROMIUM_ARGS, chromiumPath } from '../integration/chromium.ts';

const DOCS_IMAGE = new URL('../../docs/images/sim-artifact.png', import.meta.url).pathname;

test('the artifact page of kv seed 1100 (keyed draws, stand-in writes forgotten) shows operations, faults, membership, latency and the violation', async (t) => {
  // At the old catch-up pace, as the seed was found (kv-scenarios.test.ts, seed 1100): pressed on, it reads nothing stale.
  const options = { seed: 1100, ...kvScenario.defaults, bugs: { forgetStandInWrites: true, catchUpAtTimerPace: true }, draws: 'keyed' as const };
  const report = runScenario(kvScenario, options);
  assert.equal(report.violations.length, 1);
  const timeline = kvScenario.run(options, new EventTrace()).timeline;
  assert.ok(timeline);
  const dir = mkdtempSync(join(tmpdir(), 'shoal-artifacts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = writeArtifacts(dir, report, timeline);

  const lines = readFileSync(file.replace(/\.html$/, '.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.equal(lines[0]!.type, 'run');
  assert.equal(lines.filter((l) => l.type === 'op').length, timeline.ops.length);
  assert.equal(lines.filter((l) => l.type === 'violation').length, 1);

  const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1260, height: 900 });
  const failures: string[] = [];
  page.on('pageerror', (error) => failures.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') failures.push(message.text());
  });
  const foreign: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('file://')) foreign.push(request.url());
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });

  const counts = await page.evaluate(`({
    ops: document.querySelectorAll('#ops rect.op').length,
    onKey: document.querySelectorAll('#ops rect.op[stroke]').length,
    faults: document.querySelectorAll('#faults rect.fault').length,
    samples: document.querySelectorAll('#membership rect.sample').length,
    latency: document.querySelectorAll('#latency circle.lat').length,
    violationMarks: document.querySelectorAll('line.violation').length,
    leading: document.querySelectorAll('#leading tr').length - 1,
    verdict: document.querySelector('#verdict').textContent,
    replay: document.querySelector('#replay').textContent,
  })`) as Record<string, number | string>;
  assert.equal(counts.ops, timeline.ops.length);
  assert.ok((counts.onKey as number) > 0, 'operations on the violation\'s key are outlined');
  assert.ok((counts.faults as number) >= timeline.faults.length, 'every fault is a band');
  assert.equal(counts.samples, timeline.samples.length * 5);
  assert.ok((counts.latency as number) > 0);
  assert.equal(counts.violationMarks, 4, 'the violation is marked on every chart');
  assert.ok((counts.leading as number) > 0, 'the operations that led to the violation are listed');
  assert.match(counts.verdict as string, /FAIL: \[history at 32\.500s\] read-your-writes: client 2 wrote k0/);
  assert.match(counts.replay as string, /--seed 1100 .*--bugs forgetStandInWrites.*--draws keyed/);

  const shot = join(dir, 'sim-artifact.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(existsSync(shot));
  if (process.env.SHOAL_UPDATE_SCREENSHOT === '1') copyFileSync(shot, DOCS_IMAGE);
  assert.deepEqual(failures, [], 'no script or console errors on the page');
  assert.deepEqual(foreign, [], 'the page loads nothing from elsewhere');
});

/**
 * `shoal dev` (`npm start`) and web pages on its nodes' client ports (src/security/origins.ts): a
 * developer's page served from http://localhost:5173 gets in with no option; one served from a LAN
 * name gets in once it is listed with dev's `--allowed-origins` (or SHOAL_ALLOWED_ORIGINS, which
 * the nodes inherit). A real `shoal dev` of one node, and WebSocket upgrades carrying an Origin as a
 * browser's do. A bad or empty list stops dev before it starts a node.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { freeDevBase, runShoal, SHOAL_BIN, tempDir } from './daemon-harness.ts';
import { upgrade } from './client-helpers.ts';

const LAN_PAGE = 'http://devbox.lan:5173';
/** Bounds a dev that never says its cluster is ready, or never stops: a hang only. */
const HANG_BOUND = { timeout: 180_000 };

/** Starts a one-node `shoal dev` with `args` and `env` added, waits until it says the cluster is ready, and stops it (Ctrl-C) after the test. */
async function startDev(t: { after: (fn: () => Promise<void>) => void }, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const base = await freeDevBase(1);
  const dev = spawn(process.execPath, [SHOAL_BIN, 'dev', '--nodes', '1', '--base-port', String(base), '--data-dir', tempDir('shoal-dev-origins-'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  const closed = new Promise<number | null>((resolve) => dev.once('close', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    for (const stream of [dev.stdout, dev.stderr]) {
      stream.setEncoding('utf8').on('data', (d: string) => {
        output += d;
        if (/cluster ready/.test(output)) resolve();
      });
    }
    void closed.then((status) => reject(new Error(`shoal dev exited (${status}) before its cluster was ready:\n${output}`)));
  });
  t.after(async () => {
    if (dev.exitCode !== null) return; // it failed to start, and said why
    dev.kill('SIGINT');
    assert.equal(await closed, 0, output);
  });
  await ready;
  return base;
}

test("npm start's cluster takes pages served from localhost and 127.0.0.1, and refuses a LAN name saying how to allow it", HANG_BOUND, async (t) => {
  const port = await startDev(t, []);
  assert.equal((await upgrade(port, 'http://localhost:5173')).status, 101);
  assert.equal((await upgrade(port, 'http://127.0.0.1:5173')).status, 101);
  const lan = await upgrade(port, LAN_PAGE);
  assert.equal(lan.status, 403);
  assert.match(lan.body, /--allowed-origins http:\/\/devbox\.lan:5173/);
});

test('shoal dev --allowed-origins reaches its nodes: the listed pages get in, and the list replaces the local rule', HANG_BOUND, async (t) => {
  const port = await startDev(t, ['--allowed-origins', `${LAN_PAGE},http://localhost:5173`]);
  assert.equal((await upgrade(port, LAN_PAGE)).status, 101);
  assert.equal((await upgrade(port, 'http://localhost:5173')).status, 101);
  assert.equal((await upgrade(port, 'http://127.0.0.1:5173')).status, 403, 'a local page not in the list');
  assert.equal((await upgrade(port)).status, 101, 'no Origin: not a browser');
});

test("SHOAL_ALLOWED_ORIGINS in shoal dev's environment reaches its nodes", HANG_BOUND, async (t) => {
  const port = await startDev(t, [], { SHOAL_ALLOWED_ORIGINS: LAN_PAGE });
  assert.equal((await upgrade(port, LAN_PAGE)).status, 101);
  assert.equal((await upgrade(port, 'http://localhost:5173')).status, 403, 'the list replaces the local rule');
});

for (const [flags, env, told] of [
  [['--allowed-origins', 'devbox.lan:5173'], {}, /^shoal dev: --allowed-origins: "devbox\.lan:5173" is not an origin: write it as a browser sends it, scheme:\/\/host\[:port\]/],
  [['--allowed-origins', ''], {}, /^shoal dev: --allowed-origins: an empty list refuses every browser's page; give the pages to allow \(http:\/\/localhost:5173\), or none to refuse every page/],
  [[], { SHOAL_ALLOWED_ORIGINS: 'devbox.lan:5173' }, /^shoal dev: SHOAL_ALLOWED_ORIGINS: "devbox\.lan:5173" is not an origin: /],
] as const) {
  test(`shoal dev${flags.map((f) => ` '${f}'`).join('')}${Object.entries(env).map(([k, v]) => ` with ${k}=${v}`).join('')} says what is wrong and exits 2 before starting a node`, async () => {
    const base = await freeDevBase(1);
    const r = await runShoal(['dev', '--nodes', '1', '--base-port', String(base), '--data-dir', tempDir('shoal-dev-origins-'), ...flags], env);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, told);
    assert.equal(r.stdout, '', 'no banner: no node was started');
  });
}

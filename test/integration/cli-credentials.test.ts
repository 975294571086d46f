/**
 * The client commands against a real daemon whose default user has a password: without
 * credentials each fails with the node's refusal and what to give; with `--user` and
 * $SHOAL_PASSWORD, or $SHOAL_TOKEN, each works. Two of them run as the real `shoal` command (one
 * per way the commands reach a node: the raw status request and the SDK); the others run the same
 * `main` in this process, which saves a second of CPU per command (tsx start-up).
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, runShoal } from './daemon-harness.ts';

type Outcome = { status: number | null; stdout: string; stderr: string };

/** `shoal ARGS` in this process, with only `env`'s SHOAL_* variables set, its output captured. */
async function shoal(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const saved = Object.entries(process.env).filter(([k]) => k.startsWith('SHOAL_'));
  for (const [k] of saved) delete process.env[k];
  Object.assign(process.env, env);
  let stdout = '';
  let stderr = '';
  const out = mock.method(process.stdout, 'write', (chunk: unknown) => ((stdout += String(chunk)), true));
  const err = mock.method(process.stderr, 'write', (chunk: unknown) => ((stderr += String(chunk)), true));
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    out.mock.restore();
    err.mock.restore();
    for (const k of Object.keys(env)) delete process.env[k];
    for (const [k, v] of saved) process.env[k] = v;
  }
}

test('status, get, set, del, ring, hotkeys and stats log in with --user and $SHOAL_PASSWORD or $SHOAL_TOKEN', { timeout: 120_000 }, async (t) => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'cred1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();
  const redis = ['--redis', `127.0.0.1:${respPort}`];
  // A user for the --user case and a token of it, then the node locked: default needs a password.
  assert.equal((await shoal(['acl', 'setuser', 'ops', 'on', '>ops-pw', '~*', '+@all', ...redis])).status, 0);
  const token = (await shoal(['acl', 'token', 'add', 'ops', ...redis])).stdout.trim();
  assert.match(token, /^shoal_/);
  assert.equal((await shoal(['acl', 'setuser', 'default', 'resetpass', '>root-pw', ...redis])).status, 0);

  const at = ['--node', node.clientAddress];
  const advice = String.raw`give --user NAME with the password in \$SHOAL_PASSWORD, or a bearer token in \$SHOAL_TOKEN`;
  const real = await Promise.all([runShoal(['status', ...at]), runShoal(['get', 'k', ...at])]);
  for (const [i, name] of ['status', 'get'].entries()) {
    assert.equal(real[i]!.status, 1, `shoal ${name}: ${real[i]!.stderr}`);
    assert.match(real[i]!.stderr, new RegExp(`^shoal ${name}: ${node.clientAddress} refused the login: .*${advice}`));
  }
  const commands: string[][] = [['status'], ['set', 'k', 'v'], ['get', 'k'], ['del', 'k'], ['ring'], ['hotkeys', '--local'], ['stats', '--local']];
  for (const c of commands) {
    const r = await shoal([...c, ...at]);
    assert.equal(r.status, 1, `shoal ${c[0]} without credentials: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^shoal ${c[0]}: ${node.clientAddress} refused the login: .*${advice}`), c[0]);
  }
  // In order: set before get before del.
  for (const c of commands) {
    const r = await shoal([...c, ...at], { SHOAL_PASSWORD: 'root-pw' });
    assert.equal(r.status, 0, `shoal ${c.join(' ')} as default: ${r.stderr}`);
  }
  // Another user, and a bearer token, each through the SDK (set) and the raw status request (status).
  for (const c of [['set', 'k', 'v'], ['status']]) {
    const asOps = await shoal([...c, ...at, '--user', 'ops'], { SHOAL_PASSWORD: 'ops-pw' });
    assert.equal(asOps.status, 0, asOps.stderr);
    const byToken = await shoal([...c, ...at], { SHOAL_TOKEN: token });
    assert.equal(byToken.status, 0, byToken.stderr);
  }
  const wrong = await shoal(['status', ...at, '--user', 'ops'], { SHOAL_PASSWORD: 'nope' });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /refused the login: invalid username-password pair or user is disabled\. Check --user and \$SHOAL_PASSWORD/);
  const noPassword = await shoal(['status', ...at, '--user', 'ops']);
  assert.equal(noPassword.status, 2, 'a usage error');
  assert.match(noPassword.stderr, /--user ops needs its password in \$SHOAL_PASSWORD/);
});

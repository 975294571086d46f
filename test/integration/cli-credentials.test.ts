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
  const advice = String.raw`[Gg]ive --user NAME with the password in \$SHOAL_PASSWORD, or a bearer token in \$SHOAL_TOKEN`;
  const real = await Promise.all([runShoal(['status', ...at]), runShoal(['get', 'k', ...at])]);
  for (const [i, name] of ['status', 'get'].entries()) {
    assert.equal(real[i]!.status, 1, `shoal ${name}: ${real[i]!.stderr}`);
    assert.match(real[i]!.stderr, new RegExp(`^shoal ${name}: ${node.clientAddress} refused the login: .*${advice}`));
    // The SDK's advice ("... in the client options") is not shown to a CLI user, who has none.
    assert.doesNotMatch(real[i]!.stderr, /client options/, real[i]!.stderr);
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
  // shoal acl, through the Redis port, says the same: not Redis's bare NOAUTH or WRONGPASS.
  const aclBare = await shoal(['acl', 'whoami', ...redis]);
  assert.equal(aclBare.status, 1);
  assert.match(aclBare.stderr, new RegExp(`^shoal acl: ${redis[1]} refused the login: this node requires credentials\\. ${advice}\n$`));
  const aclWrong = await shoal(['acl', 'whoami', ...redis, '--user', 'ops'], { SHOAL_PASSWORD: 'nope' });
  assert.equal(aclWrong.status, 1);
  assert.match(aclWrong.stderr, /^shoal acl: \S+ refused the login: invalid username-password pair or user is disabled\. Check --user and \$SHOAL_PASSWORD\n$/);
  const noPassword = await shoal(['status', ...at, '--user', 'ops']);
  assert.equal(noPassword.status, 2, 'a usage error');
  assert.match(noPassword.stderr, /--user ops needs its password in \$SHOAL_PASSWORD/);
});

test('status and stats need what INFO needs: a user without it is refused in one line, and its SDK still routes', { timeout: 120_000 }, async (t) => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'cred2', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();
  const redis = ['--redis', `127.0.0.1:${respPort}`];
  // No commands and no keys; and an application user with keys under tok: and no admin rights.
  assert.equal((await shoal(['acl', 'setuser', 'nobody', 'on', '>no-pw', 'resetkeys', 'nocommands', ...redis])).status, 0);
  assert.equal((await shoal(['acl', 'setuser', 'app', 'on', '>app-pw', 'resetkeys', '~tok:*', '+@read', '+@write', ...redis])).status, 0);
  const token = (await shoal(['acl', 'token', 'add', 'app', ...redis])).stdout.trim();
  const at = ['--node', node.clientAddress];
  const refusal = (op: string, who: string): RegExp =>
    new RegExp(String.raw`^shoal ${op}: ${node.clientAddress} refused status to ${who}: NOPERM this user has no permissions to run the 'info' command; it is for operators: log in as a user allowed INFO \(\+@admin\), as the admin port with --user NAME and \$SHOAL_PASSWORD, or its token in \$SHOAL_TOKEN\n$`);
  // The real command once (the raw status request), then the same main in this process.
  const real = await runShoal(['status', ...at, '--user', 'nobody'], { SHOAL_PASSWORD: 'no-pw' });
  assert.equal(real.status, 1, real.stdout);
  assert.match(real.stderr, refusal('status', 'user nobody'));
  assert.equal(real.stdout, '', 'nothing of the status is printed');
  for (const c of [['status'], ['stats'], ['stats', '--local']]) {
    const r = await shoal([...c, ...at, '--user', 'app'], { SHOAL_PASSWORD: 'app-pw' });
    assert.equal(r.status, 1, `${c.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, refusal(c[0]!, 'user app'));
    const byToken = await shoal([...c, ...at], { SHOAL_TOKEN: token });
    assert.match(byToken.stderr, refusal(c[0]!, "the token's user"));
  }
  // The SDK routes by `topology`, never `status`: the same user reads and writes its keys, and sees the ring.
  assert.equal((await shoal(['set', 'tok:1', 'v', ...at, '--user', 'app'], { SHOAL_PASSWORD: 'app-pw' })).status, 0);
  const got = await shoal(['get', 'tok:1', ...at, '--user', 'app'], { SHOAL_PASSWORD: 'app-pw' });
  assert.equal(got.stdout.trim(), 'v', got.stderr);
  assert.equal((await shoal(['ring', ...at, '--user', 'app'], { SHOAL_PASSWORD: 'app-pw' })).status, 0);
  // The default user (+@all) still reads it.
  const ok = await shoal(['status', ...at]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /cred2/);
});

test('shoal acl setuser --password-stdin gives the user the password read from stdin, never on the command line', { timeout: 120_000 }, async (t) => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'cred3', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();
  const redis = ['--redis', `127.0.0.1:${respPort}`];
  // A real process reading a real pipe, as `printf %s "$PW" | shoal acl setuser ...` does.
  const made = await runShoal(['acl', 'setuser', 'app', 'on', '~app:*', '+@read', '+acl|whoami', '--password-stdin', ...redis], {}, 60_000, 'from-stdin\n');
  assert.equal(made.status, 0, made.stderr);
  assert.equal(made.stdout, 'OK\n');
  const whoami = await shoal(['acl', 'whoami', '--user', 'app', ...redis], { SHOAL_PASSWORD: 'from-stdin' });
  assert.equal(whoami.status, 0, whoami.stderr);
  assert.equal(whoami.stdout, 'app\n');
  const empty = await runShoal(['acl', 'setuser', 'app', '--password-stdin', ...redis], {}, 60_000, '');
  assert.equal(empty.status, 2, 'a usage error');
  assert.match(empty.stderr, /--password-stdin read no password/);
  const elsewhere = await shoal(['acl', 'getuser', 'app', '--password-stdin', ...redis]);
  assert.equal(elsewhere.status, 2);
  assert.match(elsewhere.stderr, /--password-stdin goes with acl setuser/);
});

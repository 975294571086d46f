/**
 * The commands pointed at the wrong port of a running node: each says which port it reached and
 * which one to use, on one line, and never crashes. One node with all four ports (client, peer,
 * RESP, admin); every command runs in one process (runShoalEach).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, runShoalEach } from './daemon-harness.ts';

test('commands at the wrong port of a running node say so, on one line', { timeout: 120_000 }, async (t) => {
  const [port, peerPort, respPort, adminPort] = await freePorts(4);
  const node = new DaemonProcess({ name: 'solo', port: port!, peerPort: peerPort!, respPort: respPort!, adminPort: adminPort!, seeds: [], extra: [] });
  t.after(() => node.kill('SIGKILL'));
  await node.start();
  const at = (p: number) => `127.0.0.1:${p}`;

  // shoal acl speaks RESP: the client, peer and admin ports answer HTTP.
  const acl = await runShoalEach([port!, peerPort!, adminPort!].map((p) => ['acl', 'users', '--redis', at(p)]));
  for (const [i, r] of acl.entries()) {
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^shoal acl: 127\.0\.0\.1:\d+ is not a Redis \(RESP\) port: it answered HTTP \("HTTP\/1\.1 400 Bad Request"\), .*give --redis a node's Redis port[^\n]*\n$/, `port ${i}`);
  }
  const [right] = await runShoalEach([['acl', 'users', '--redis', at(respPort!)]]);
  assert.equal(right!.status, 0, right!.stderr);
  assert.equal(right!.stdout, 'default\n');

  // The client commands speak to the client port: the RESP and admin ports are named as what they are.
  const commands = [['status'], ['ring'], ['get', 'k'], ['set', 'k', 'v'], ['del', 'k'], ['hotkeys'], ['stats'], ['drain', 'solo'], ['undrain', 'solo']];
  // The RESP port tells the client port (INFO shoal); for the admin port it is a guess, its default (admin - 3).
  const wrong = [[respPort!, /Redis \(RESP\)/, `127.0.0.1:${port}`], [adminPort!, /admin \(HTTP\)/, `by default 127.0.0.1:${adminPort! - 3}`]] as const;
  const results = await runShoalEach(wrong.flatMap(([p]) => commands.map((c) => [...c, '--node', at(p)])));
  wrong.forEach(([p, what, client], w) => {
    commands.forEach((c, i) => {
      const r = results[w * commands.length + i]!;
      assert.equal(r.status, 1, `${c.join(' ')} at ${p}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^shoal ${c[0]}: 127\\.0\\.0\\.1:${p} is a Shoal node's ${what.source} port, not its client port; point --node at the node's client port \\(its --port, ${client.replace(/\./g, '\\.')}; [^\\n]*\\n$`), `${c.join(' ')} at ${p}`);
    });
  });
});

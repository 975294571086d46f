/**
 * Users across a real 3-node cluster (daemons as child processes with RESP ports): a user created
 * on node 1 works on node 3; a node that was down when a user was added learns it when it comes
 * back (anti-entropy), and a restarted node still has its users (its data directory).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { runShoal, TestCluster, until, type DaemonProcess } from './daemon-harness.ts';

let cluster: TestCluster;
const respPorts: number[] = [];

function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-p', String(port), '--no-auth-warning', ...args], { timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
  });
}

before(async () => {
  cluster = await TestCluster.create(3, ['--replicas', '3', '--read-quorum', '2', '--write-quorum', '2'], { resp: true });
  respPorts.push(...cluster.nodes.map((n) => n.spec.respPort!));
  await cluster.startAll();
  await cluster.untilConverged();
});

after(async () => {
  await cluster?.cleanup();
});

test('a user created on node 1 works on node 3, reaches a node that was down, survives a restart', async () => {
  assert.equal(await cli(respPorts[0]!, 'ACL', 'SETUSER', 'alice', 'on', '>alicepw', '~a:*', '+@all'), 'OK');
  await until('alice reaches node 3', async () => ((await cli(respPorts[2]!, 'ACL', 'USERS')).includes('alice') ? true : undefined), 30_000);
  assert.equal(await cli(respPorts[2]!, '--user', 'alice', '--pass', 'alicepw', 'SET', 'a:1', 'v'), 'OK');
  assert.equal(await cli(respPorts[2]!, '--user', 'alice', '--pass', 'alicepw', 'SET', 'b:1', 'v'), 'NOPERM this user has no permissions to access one of the keys used as arguments');
  assert.equal(await cli(respPorts[2]!, 'AUTH', 'alice', 'wrong'), 'WRONGPASS invalid username-password pair or user is disabled.');
  await until('alice reaches node 2', async () => ((await cli(respPorts[1]!, 'ACL', 'USERS')).includes('alice') ? true : undefined), 30_000);

  // Node 2 is down while bob is added and alice changed; it learns both when it is back.
  const n2 = cluster.nodes[1]!;
  await n2.stop();
  assert.equal(await cli(respPorts[0]!, 'ACL', 'SETUSER', 'bob', 'on', '>bobpw', 'allkeys', '+@read'), 'OK');
  assert.equal(await cli(respPorts[2]!, 'ACL', 'SETUSER', 'alice', '~c:*'), 'OK');
  await n2.start();
  await until('bob reaches the restarted node 2', async () => ((await cli(respPorts[1]!, 'ACL', 'USERS')).includes('bob') ? true : undefined), 60_000);
  await until('the change to alice reaches node 2', async () => ((await cli(respPorts[1]!, 'ACL', 'LIST')).includes('~a:* ~c:*') ? true : undefined), 60_000);
  assert.equal(await cli(respPorts[1]!, '--user', 'bob', '--pass', 'bobpw', 'SET', 'x', '1'), "NOPERM this user has no permissions to run the 'set' command");

  // `shoal acl` talks to a node's Redis port, authenticated with $SHOAL_PASSWORD.
  const set = await runShoal(['acl', 'setuser', 'carol', 'on', '>carolpw', '~k*', '-@all', '+get', '--redis', `127.0.0.1:${respPorts[0]!}`]);
  assert.equal(set.status, 0, set.stderr);
  assert.equal(set.stdout, 'OK\n');
  const bad = await runShoal(['acl', 'setuser', 'carol', 'bogus', '--redis', `127.0.0.1:${respPorts[0]!}`]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /ERR Error in ACL SETUSER modifier 'bogus': Syntax error/);
  const who = await runShoal(['acl', 'whoami', '--user', 'carol', '--redis', `127.0.0.1:${respPorts[0]!}`], { SHOAL_PASSWORD: 'carolpw' });
  assert.equal(who.stderr, "shoal acl: NOPERM this user has no permissions to run the 'acl|whoami' command\n");
  await until('carol reaches node 3', async () => ((await cli(respPorts[2]!, 'ACL', 'USERS')).includes('carol') ? true : undefined), 30_000);
  const listed = await runShoal(['acl', 'list', '--redis', `127.0.0.1:${respPorts[2]!}`]);
  assert.match(listed.stdout, /^user carol on #scrypt\$[0-9a-f]+\$[0-9a-f]+ ~k\* resetchannels -@all \+get$/m);

  // Node 3 restarted alone keeps its users from its data directory.
  const n3: DaemonProcess = cluster.nodes[2]!;
  await n3.stop();
  await n3.start();
  const users = await cli(respPorts[2]!, 'ACL', 'USERS');
  assert.deepEqual(users.split('\n'), ['alice', 'bob', 'carol', 'default']);
  // "ready" is logged before the node has confirmed its ring with a peer: until then it answers
  // CLUSTERDOWN ... still joining, which a client retries.
  const read = () => cli(respPorts[2]!, '--user', 'alice', '--pass', 'alicepw', 'GET', 'a:1');
  await until('node 3 serves reads again', async () => ((await read()).startsWith('CLUSTERDOWN this node is still joining') ? undefined : true), 30_000);
  assert.equal(await read(), 'v');
});

/**
 * Reads against a real one-node daemon: many concurrent gets of a large value all succeed (the
 * node's own replica is not timed out like a remote one), a miss says why (`evicted` for an
 * acknowledged key the store dropped), and `shoal status` says the quorum in effect.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesCodec, connect } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, runShoal, until } from './daemon-harness.ts';

const MiB = 1024 * 1024;

async function soloNode(name: string, extra: string[]): Promise<DaemonProcess> {
  const [port, peerPort] = await freePorts(2);
  const node = new DaemonProcess({ name, port: port!, peerPort: peerPort!, seeds: [], extra });
  await node.start();
  await until(`${name} to serve`, async () => ((await node.status()).joined ? true : undefined), 20_000);
  return node;
}

test('32 concurrent gets of a 1 MiB value on one node all succeed, with a replica timeout far shorter than the work', { timeout: 120_000 }, async (t) => {
  // 10 ms is much less than copying, encoding and sending 32 MiB of replies takes, so a
  // coordinator that timed out its own replica would fail some of these gets. (32, not more: the
  // replies the client has not read yet stay under the node's 64 MiB unread-reply limit.)
  const node = await soloNode('big', ['--replica-timeout', '10ms', '--max-memory', '64mib']);
  t.after(() => node.kill('SIGKILL'));
  // No retries: every get must succeed the first time.
  const client = await connect({ seeds: node.clientAddress, codec: bytesCodec, maxRetries: 0, commandTimeoutMs: 60_000 });
  t.after(() => client.close());
  const value = new Uint8Array(MiB).map((_, i) => i % 251);
  await client.set('big', value);
  for (let round = 0; round < 3; round++) {
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => client.get('big')));
    const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    assert.deepEqual(failed, [], `round ${round}: ${failed.length} of 32 gets failed`);
    for (const r of results) assert.equal((r as PromiseFulfilledResult<Uint8Array | null>).value?.length, MiB);
  }
});

test('an acknowledged key the store evicted reads as evicted, not absent; status counts it and says the quorum in effect', { timeout: 120_000 }, async (t) => {
  // Defaults N=3 R=2 W=2 on one node: every key has one replica, so one answer is a quorum.
  const node = await soloNode('small', ['--max-memory', '1mib']);
  t.after(() => node.kill('SIGKILL'));
  const client = await connect({ seeds: node.clientAddress, codec: bytesCodec });
  t.after(() => client.close());
  const acknowledged: string[] = [];
  // 200 x 16 KiB is three times the budget: the store must drop (or decline) some of them.
  for (let i = 0; i < 200; i++) {
    const key = `k${i}`;
    try {
      await client.set(key, new Uint8Array(16 * 1024));
      acknowledged.push(key);
    } catch {
      // Refused for lack of memory: not acknowledged, so nothing to check.
    }
  }
  const reasons = new Map<string, number>();
  let evictedKey = '';
  for (const key of acknowledged) {
    const r = await client.get(key, { detail: true });
    const reason = r.value === null ? (r.miss ?? 'unsaid') : 'hit';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (reason === 'evicted') evictedKey = key;
  }
  assert.ok((reasons.get('evicted') ?? 0) > 0, `some acknowledged keys should have been evicted: ${JSON.stringify([...reasons])}`);
  assert.deepEqual([...reasons.keys()].filter((r) => r !== 'hit' && r !== 'evicted'), [], 'an acknowledged key is either there or evicted');
  assert.equal((await client.get('never-written', { detail: true })).miss, 'absent');

  const status = await node.status();
  assert.deepEqual(status.requests, {
    configuredReplicas: 3,
    effectiveReadQuorum: 1,
    effectiveWriteQuorum: 1,
    misses: { absent: 1, deleted: 0, expired: 0, evicted: reasons.get('evicted')! },
  });
  const text = await runShoal(['status', '--node', node.clientAddress]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /effective quorum: R=1 W=1 \(R=2 W=2 of N=3 configured/);
  const get = await runShoal(['get', evictedKey, '--node', node.clientAddress, '--json']);
  assert.equal(get.status, 1, get.stderr);
  assert.deepEqual(JSON.parse(get.stdout), { key: evictedKey, value: null, miss: 'evicted' });
});

// The README's two quick starts side by side: the SDK writes { name: 'Ada' } through its default
// msgpack codec, then `shoal get` reads it. Its bytes are not UTF-8: they must come out whole
// (escaped as redis-cli shows them, base64 in JSON), not as replacement characters.
test('shoal get shows a value the SDK wrote (msgpack, not UTF-8) escaped and whole, and says what it reads as', { timeout: 120_000 }, async (t) => {
  const node = await soloNode('mixed', []);
  t.after(() => node.kill('SIGKILL'));
  const sdk = await connect({ seeds: node.clientAddress });
  t.after(() => sdk.close());
  await sdk.set('user:42', { name: 'Ada' });
  const bytes = Buffer.from([0x81, 0xa4, ...Buffer.from('name'), 0xa3, ...Buffer.from('Ada')]);

  const text = await runShoal(['get', 'user:42', '--node', node.clientAddress]);
  assert.equal(text.status, 0, text.stderr);
  assert.equal(text.stdout, '"\\x81\\xa4name\\xa3Ada"\n');
  assert.equal(text.stderr, 'shoal get: the value is not UTF-8 text (10 bytes), shown with \\xNN escapes; as msgpack, the SDK\'s default codec, it reads {"name":"Ada"} (docs/CLIENT.md, "Values")\n');
  const json = await runShoal(['get', 'user:42', '--node', node.clientAddress, '--json']);
  assert.deepEqual(JSON.parse(json.stdout), { key: 'user:42', base64: bytes.toString('base64'), msgpack: { name: 'Ada' } });
  assert.equal(json.stderr, '');

  // UTF-8 text is printed as it is, as before.
  assert.equal((await runShoal(['set', 'greeting', 'héllo "x"', '--node', node.clientAddress])).status, 0);
  const plain = await runShoal(['get', 'greeting', '--node', node.clientAddress]);
  assert.deepEqual([plain.stdout, plain.stderr], ['héllo "x"\n', '']);
});

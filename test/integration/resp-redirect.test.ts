/**
 * CLIENT TRACKING ... REDIRECT, the RESP2 way of client-side caching, compared byte for byte with
 * redis-server 7.0: the same command sequence on both (a tracking connection, a redirect target that
 * SUBSCRIBEs to __redis__:invalidate, a writer), the invalidation messages the target reads, the
 * subscribed-mode refusals, a RESP3 target, and the broken redirect once the target is gone. Client
 * ids differ between the servers, so each side's target id is written `RID` before comparing.
 * Every wait is bounded and driven by replies, never by elapsed time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from 'redis';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection, startRedis, type Arg } from './resp-raw.ts';

interface Side {
  name: string;
  tracker: RawConnection;
  target: RawConnection;
  writer: RawConnection;
  rid: string;
}

async function openSide(name: string, port: number): Promise<Side> {
  const [tracker, target, writer] = [await RawConnection.open(port), await RawConnection.open(port), await RawConnection.open(port)];
  const rid = (await target.command(['CLIENT', 'ID'])).slice(1, -2);
  return { name, tracker, target, writer, rid };
}

test('CLIENT TRACKING REDIRECT to a RESP2 connection subscribed to __redis__:invalidate answers byte for byte as redis-server 7.0', { timeout: 60_000 }, async (t) => {
  const [redisPort, clientPort, peerPort, respPort] = await freePorts(4);
  const redis = await startRedis(redisPort!);
  t.after(() => redis.kill('SIGKILL'));
  const shoal = new DaemonProcess({ name: 'redirect', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  t.after(() => shoal.stop());
  await shoal.start();
  await until('the RESP port', async () => (await RawConnection.open(respPort!)).close() ?? true, 20_000);
  const sides = [await openSide('redis', redisPort!), await openSide('shoal', respPort!)];
  t.after(() => sides.forEach((s) => [s.tracker, s.target, s.writer].forEach((c) => c.close())));

  const mismatches: string[] = [];
  const normal = (side: Side, reply: string): string => reply.split(`:${side.rid}\r\n`).join(':RID\r\n');
  /** Runs `args` (RID: the side's target id) on one connection of both sides and compares the replies. */
  const both = async (who: 'tracker' | 'target' | 'writer', args: Arg[], read = false): Promise<string> => {
    const replies: string[] = [];
    for (const side of sides) {
      const conn = side[who];
      const reply = read ? await conn.read() : await conn.command(args.map((a) => (a === 'RID' ? side.rid : a)));
      replies.push(normal(side, reply));
    }
    if (replies[0] !== replies[1]) mismatches.push(`${who} ${read ? '(message)' : args.join(' ')}\n    redis: ${JSON.stringify(replies[0])}\n    shoal: ${JSON.stringify(replies[1])}`);
    return replies[1]!;
  };
  const message = (...keys: string[]): string => `*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*${keys.length}\r\n${keys.map((k) => `$${k.length}\r\n${k}\r\n`).join('')}`;

  await both('tracker', ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', '999999']);
  await both('tracker', ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', 'abc']);
  await both('tracker', ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', 'RID', 'REDIRECT', 'RID']);
  await both('tracker', ['CLIENT', 'GETREDIR']);
  await both('target', ['SUBSCRIBE', '__redis__:invalidate']);
  // Subscribed RESP2: only (P|S)(UN)SUBSCRIBE, PING, QUIT, RESET.
  await both('target', ['GET', 'x']);
  await both('target', ['CLIENT', 'ID']);
  await both('target', ['PING']);
  await both('target', ['PING', 'hi']);
  await both('tracker', ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', 'RID']);
  await both('tracker', ['CLIENT', 'GETREDIR']);
  await both('tracker', ['CLIENT', 'TRACKINGINFO']);
  // CLIENT LIST differs in other fields; sub= and redir= say the same as Redis's.
  for (const side of sides) {
    const list = await side.writer.command(['CLIENT', 'LIST']);
    assert.match(list, new RegExp(`id=${side.rid} .* sub=1 `), `${side.name}: the target is subscribed`);
    assert.match(list, new RegExp(` redir=${side.rid} `), `${side.name}: the tracker redirects to it`);
  }
  await both('tracker', ['GET', 'k']);
  await both('writer', ['SET', 'k', '1']);
  assert.equal(await both('target', [], true), message('k'), 'the write to k reaches the target as a message');
  await both('tracker', ['GET', 'k']);
  await both('writer', ['SET', 'k', '2']);
  await both('target', [], true);

  // Unsubscribed, a RESP2 target gets nothing: the first message after subscribing again is k's, not j's.
  await both('target', ['UNSUBSCRIBE']);
  await both('target', ['UNSUBSCRIBE']);
  await both('target', ['GET', 'x']);
  await both('tracker', ['GET', 'j']);
  await both('writer', ['SET', 'j', '1']);
  await both('target', ['SUBSCRIBE', '__redis__:invalidate']);
  await both('tracker', ['GET', 'k']);
  await both('writer', ['SET', 'k', '3']);
  assert.equal(await both('target', [], true), message('k'));

  // RESET leaves Pub/Sub; a RESP3 target gets an invalidate push instead of a message.
  await both('target', ['RESET']);
  for (const side of sides) await side.target.command(['HELLO', '3']); // the servers differ (mode, id)
  await both('tracker', ['GET', 'k']);
  await both('writer', ['SET', 'k', '4']);
  assert.equal(await both('target', [], true), '>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n');

  // The target goes away: the redirect breaks at the next invalidation; a RESP3 tracker is told.
  for (const side of sides) side.target.close();
  await both('tracker', ['GET', 'k']);
  await both('writer', ['SET', 'k', '5']);
  for (const side of sides) await until(`${side.name}: broken_redirect`, async () => ((await side.tracker.command(['CLIENT', 'TRACKINGINFO'])).includes('broken_redirect') ? true : undefined), 10_000, 20);
  await both('tracker', ['CLIENT', 'TRACKINGINFO']);
  await both('tracker', ['CLIENT', 'GETREDIR']);
  for (const side of sides) await side.tracker.command(['HELLO', '3']);
  await both('tracker', ['GET', 'k']);
  await both('writer', ['SET', 'k', '6']);
  assert.equal(await both('tracker', [], true), '>2\r\n$21\r\ntracking-redir-broken\r\n:RID\r\n');
  await both('tracker', ['CLIENT', 'TRACKINGINFO']);
  // Enabling tracking again clears the broken flag.
  await both('tracker', ['CLIENT', 'TRACKING', 'ON']);
  await both('tracker', ['CLIENT', 'TRACKINGINFO']);

  assert.deepEqual(mismatches, []);
});

test('Shoal refuses SUBSCRIBE to any channel but __redis__:invalidate, clearly; node-redis in RESP2 takes redirected invalidations as messages', { timeout: 60_000 }, async (t) => {
  const [clientPort, peerPort, respPort] = await freePorts(3);
  const shoal = new DaemonProcess({ name: 'subscribe', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  t.after(() => shoal.stop());
  await shoal.start();
  const conn = await until('the RESP port', () => RawConnection.open(respPort!), 20_000);
  t.after(() => conn.close());
  assert.match(await conn.command(['SUBSCRIBE', '__redis__:invalidate', 'news']), /^-ERR Shoal has no Pub\/Sub: SUBSCRIBE serves only __redis__:invalidate .*'news'/);
  assert.equal(await conn.command(['GET', 'x']), '$-1\r\n', 'not in subscribed mode');

  // node-redis 6 in RESP2 (its default is RESP3): a subscriber connection takes the redirected invalidations as messages.
  const subscriber = createClient({ socket: { host: '127.0.0.1', port: respPort! }, RESP: 2 });
  const tracker = createClient({ socket: { host: '127.0.0.1', port: respPort! }, RESP: 2 });
  for (const c of [subscriber, tracker]) c.on('error', () => {});
  await Promise.all([subscriber.connect(), tracker.connect()]);
  t.after(() => Promise.all([subscriber.destroy(), tracker.destroy()]));
  const id = await subscriber.sendCommand(['CLIENT', 'ID']);
  const invalidated: (string[] | null)[] = [];
  let arrived: () => void = () => {};
  await subscriber.subscribe('__redis__:invalidate', (keys: unknown) => {
    invalidated.push(keys as string[] | null);
    arrived();
  });
  assert.equal(await tracker.sendCommand(['CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id)]), 'OK');
  await tracker.get('user:1');
  const received = new Promise<void>((resolve) => (arrived = resolve));
  await tracker.set('user:1', 'v');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([received, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no invalidation message')), 10_000)))]);
  clearTimeout(timer);
  assert.deepEqual(invalidated[0], ['user:1']);
});

test("CLIENT TRACKING ON's checks answer byte for byte as redis-server 7.0: overlapping PREFIXes, switching modes, prefixes added by a second ON", { timeout: 60_000 }, async (t) => {
  const [redisPort, clientPort, peerPort, respPort] = await freePorts(4);
  const redis = await startRedis(redisPort!);
  t.after(() => redis.kill('SIGKILL'));
  const shoal = new DaemonProcess({ name: 'prefixes', port: clientPort!, peerPort: peerPort!, seeds: [], extra: ['--resp-port', String(respPort)] });
  t.after(() => shoal.stop());
  await shoal.start();
  const toShoal = await until('the RESP port', () => RawConnection.open(respPort!), 20_000);
  const toRedis = await RawConnection.open(redisPort!);
  t.after(() => [toShoal, toRedis].forEach((c) => c.close()));
  const on = (...options: Arg[]): Arg[] => ['CLIENT', 'TRACKING', 'ON', ...options];
  const info: Arg[] = ['CLIENT', 'TRACKINGINFO'];
  const off: Arg[] = ['CLIENT', 'TRACKING', 'OFF'];
  // (Not here: `ON BCAST PREFIX x PREFIX a PREFIX ab`, which Redis 7.0 answers with the error and
  // then +OK, turning tracking on; Shoal answers the error alone.)
  const script: Arg[][] = [
    on('BCAST', 'PREFIX', 'a', 'PREFIX', 'ab'), on('BCAST', 'PREFIX', 'ab', 'PREFIX', 'a'), on('BCAST', 'PREFIX', 'a', 'PREFIX', 'a'),
    on('BCAST', 'PREFIX', new Uint8Array([0x61, 0, 0x62]), 'PREFIX', 'a'), on('BCAST', 'PREFIX', 'x', 'PREFIX', ''), info,
    on('BCAST', 'PREFIX', 'b', 'PREFIX', 'a'), info, on('BCAST', 'PREFIX', 'ab'), on('BCAST', 'PREFIX', 'c', 'NOLOOP'), info,
    on('BCAST'), info, on(), on('PREFIX', 'x'), on('BCAST', 'OPTIN'), off,
    on('BCAST'), info, on('BCAST', 'PREFIX', 'a'), off,
    on('OPTIN'), on('OPTOUT'), on('OPTIN', 'OPTOUT'), on('PREFIX', 'x', 'OPTIN', 'OPTOUT'), on('BCAST'), on('OPTIN', 'NOLOOP'), info, off, info,
  ];
  const mismatches: string[] = [];
  for (const args of script) {
    const [a, b] = [await toRedis.command(args), await toShoal.command(args)];
    if (a !== b) mismatches.push(`${args.map(String).join(' ')}\n    redis: ${JSON.stringify(a)}\n    shoal: ${JSON.stringify(b)}`);
  }
  assert.deepEqual(mismatches, []);
});

// docs40: docs/CLIENT.md's examples, as written, against a dev cluster on 7600 (seeds changed only).
import { connect, TimeoutError, stringCodec } from 'shoal-client';
const seeds = [process.env.SEED ?? '127.0.0.1:7600'];
const show = (label: string, v: unknown) => console.log(label.padEnd(40), v);

{ // quick start
  const client = await connect({ seeds });
  for (const k of ['a', 'b', 'c', 'visits', 'big', 'log', 'lock', 'config', '{user:42}:cart', '{user:42}:cart-backup', 'user:1']) await client.delete(k);
  await client.set('user:42', { name: 'Ada' }, { ttlMs: 60_000 });
  const user = await client.get('user:42');
  show('get user:42', user);
  await client.mset([['a', 1], ['b', 2]]);
  const [a, b, c] = await client.mget(['a', 'b', 'c']);
  show('mget', [a, b, c]);
  show('delete a', await client.delete('a'));
  show('deleteIfExists b', await client.deleteIfExists('b'));
  show('incr visits', await client.incr('visits'));
  show('drain', await client.drain());
  void TimeoutError;
}
{ // counters
  const client = await connect({ seeds, codec: stringCodec });
  await client.delete('visits');
  show('incr visits', await client.incr('visits'));
  show('incrBy visits 41', await client.incrBy('visits', 41));
  show('get visits', await client.get('visits'));
  show('incrBy big 2n**62n', await client.incrBy('big', 2n ** 62n));
  show('append a, b', [await client.append('log', 'a'), await client.append('log', 'b')]);
  show('setNx lock', [await client.setNx('lock', 'me', { ttlMs: 10_000 }), await client.setNx('lock', 'me', { ttlMs: 10_000 })]);
  show('getSet config', [await client.getSet('config', 'v2'), await client.getSet('config', 'v2')]);
  await client.set('{user:42}:cart', 'x');
  show('copy', await client.copy('{user:42}:cart', '{user:42}:cart-backup'));
  show('copy again', await client.copy('{user:42}:cart', '{user:42}:cart-backup'));
  show('copy replace', await client.copy('{user:42}:cart', '{user:42}:cart-backup', { replace: true }));
  const off = client.on('status', (status, cause) => console.log(status, cause?.message));
  client.on('ring-changed', (version) => { void version; });
  client.on('error', (error) => { void error; });
  off();
  client.on('hotkey', (alert) => {
    if (!alert.cleared) console.warn(`hot key ${alert.key} on ${alert.node}: ${alert.rate} ops/s`);
  });
  await client.drain();
}
{ // near cache
  const client = await connect({ seeds, nearCache: { maxEntries: 10_000 } });
  await client.set('user:1', { n: 1 });
  show('get 1', await client.get('user:1'));
  show('get 2', await client.get('user:1'));
  show('get nearCache false', await client.get('user:1', { nearCache: false }));
  client.on('invalidate', (key) => { void key; });
  client.on('stale-dropped', (partition, reason, entries) => { void partition; void reason; void entries; });
  show('nearCacheStats', client.nearCacheStats());
  await client.drain();
}

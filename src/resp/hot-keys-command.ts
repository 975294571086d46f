/**
 * SHOAL.HOTKEYS [COUNT n]: this node's hottest keys with their estimated rates, in the spirit of
 * `redis-cli --hotkeys` (which needs an LFU maxmemory-policy and scans the keyspace; Shoal's store
 * tracks hot keys all the time, so one command answers). The reply is an array of [key, ops/s]
 * pairs, hottest first (whole ops/s as a double: a bulk string in RESP2). The node receiving it answers
 * about itself, as INFO does: ask every master for the cluster (or use `shoal hotkeys`).
 * ACL categories: admin, slow (key names of every user, so what INFO needs).
 */
import { documented, type CommandSpec } from './command.ts';

export const DEFAULT_HOT_KEYS_COUNT = 10;
export const MAX_HOT_KEYS_COUNT = 64;

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

const hotKeys: CommandSpec = {
  name: 'shoal.hotkeys',
  arity: -1,
  flags: ['admin', 'noscript', 'loading', 'stale'],
  keys: [0, 0, 0],
  categories: ['admin', 'slow', 'dangerous'],
  run: (ctx, args, reply, done) => {
    let count = DEFAULT_HOT_KEYS_COUNT;
    if (args.length === 3 && text(args[1]!).toLowerCase() === 'count') {
      const n = text(args[2]!);
      if (!/^[1-9][0-9]*$/.test(n) || Number(n) > MAX_HOT_KEYS_COUNT) {
        reply.error(`ERR COUNT must be an integer from 1 to ${MAX_HOT_KEYS_COUNT}`);
        return done();
      }
      count = Number(n);
    } else if (args.length !== 1) {
      reply.error('ERR syntax error: SHOAL.HOTKEYS [COUNT n]');
      return done();
    }
    const source = ctx.server.hotKeys;
    if (source === undefined) {
      reply.error('ERR this node does not track hot keys');
      return done();
    }
    const keys = source(count).keys;
    reply.array(keys.length);
    for (const k of keys) {
      reply.array(2);
      reply.bulk(k.key);
      // Whole ops/s: the rate is an estimate in steps of about 8 (the tracker samples), and Redis's
      // 17 significant digits would print 7904.9 as 7904.8999999999996.
      reply.double(Math.round(k.rate));
    }
    done();
  },
};

export const hotKeyCommands: readonly CommandSpec[] = [
  documented(hotKeys, { summary: 'This node\'s hottest keys, with their operations per second', since: '0.1.0', group: 'server', complexity: 'O(N) where N is the number of keys returned', arguments: [{ name: 'count', type: 'integer', token: 'COUNT', flags: ['optional'] }] }),
];

/**
 * The Pub/Sub that client-side caching's REDIRECT needs, and no more: SUBSCRIBE and UNSUBSCRIBE
 * of `__redis__:invalidate`, where a RESP2 connection takes the invalidations of the connections
 * that redirect to it (client-tracking.ts). Shoal has no PUBLISH, so any other channel is refused
 * with a clear error rather than subscribed to and never served. Replies are Redis 7.0's: one
 * `subscribe`/`unsubscribe` array (RESP3 push) per channel, with the count of channels after it.
 * While subscribed, a RESP2 connection may only run the commands Redis allows (commands.ts).
 */
import { argText, quotingError } from './args.ts';
import { INVALIDATION_CHANNEL } from './client-tracking.ts';
import type { CommandDocs, CommandSpec, ReplyWriter } from './command.ts';

const latin = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

function spec(name: string, docs: CommandDocs, run: CommandSpec['run']): CommandSpec {
  return { name, arity: name === 'subscribe' ? -2 : -1, flags: ['pubsub', 'noscript', 'loading', 'stale'], keys: [0, 0, 0], categories: ['pubsub', 'slow'], run, docs };
}

const channels = (flags: ('optional' | 'multiple')[]) => [{ name: 'channel', type: 'string', flags }];

/** One channel's confirmation: kind, channel (null: none), channels still subscribed. */
function confirm(reply: ReplyWriter, kind: string, channel: Uint8Array | null, count: number): void {
  reply.push(3);
  reply.bulk(kind);
  reply.bulk(channel);
  reply.integer(count);
}

const subscribe = spec('subscribe', {
  summary: 'Listen for messages published to the given channels', since: '2.0.0', group: 'pubsub',
  complexity: 'O(N) where N is the number of channels to subscribe to.', arguments: channels(['multiple']),
}, (ctx, args, reply, done) => {
  const other = args.slice(1).find((channel) => latin(channel) !== INVALIDATION_CHANNEL);
  if (other !== undefined) {
    reply.error(quotingError(`ERR Shoal has no Pub/Sub: SUBSCRIBE serves only ${INVALIDATION_CHANNEL} (CLIENT TRACKING's REDIRECT), not '${argText(other, 128)}'`));
  } else {
    ctx.connection.invalidationChannel = true;
    for (const channel of args.slice(1)) confirm(reply, 'subscribe', channel, 1);
  }
  done();
});

const unsubscribe = spec('unsubscribe', {
  summary: 'Stop listening for messages posted to the given channels', since: '2.0.0', group: 'pubsub',
  complexity: 'O(N) where N is the number of clients already subscribed to a channel.', arguments: channels(['optional', 'multiple']),
}, (ctx, args, reply, done) => {
  const subscribed = ctx.connection.invalidationChannel === true;
  if (args.length === 1) {
    // Without channels: every subscribed channel, or one null confirmation when there is none.
    ctx.connection.invalidationChannel = false;
    confirm(reply, 'unsubscribe', subscribed ? Buffer.from(INVALIDATION_CHANNEL) : null, 0);
  } else {
    for (const channel of args.slice(1)) {
      if (latin(channel) === INVALIDATION_CHANNEL) ctx.connection.invalidationChannel = false;
      confirm(reply, 'unsubscribe', channel, ctx.connection.invalidationChannel === true ? 1 : 0);
    }
  }
  done();
});

export const pubsubCommands: CommandSpec[] = [subscribe, unsubscribe];

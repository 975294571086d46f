/**
 * OBJECT ENCODING / REFCOUNT / FREQ / IDLETIME / HELP, with Redis 7.0's arity, errors and nil for
 * a missing key. Each subcommand looks its key up first without using it, as Redis's
 * LOOKUP_NOTOUCH: a peek (GetOptions.peek), which no replica counts as a use (no frequency,
 * recency, hot-key or store hit/miss count), so OBJECT FREQ asked again answers the same; the
 * lookup still counts in INFO's keyspace_hits/misses, as Redis's does. What Shoal can answer
 * honestly about a string it keeps as bytes:
 *
 * - ENCODING: `raw` for a value APPEND or SETRANGE built in place (the record's mark,
 *   record.ts), as Redis keeps such a string; otherwise how Redis encodes a string written whole
 *   (objectEncoding's rule: `int` when string2ll reads all of it, `embstr` up to 44 bytes, `raw`
 *   beyond).
 * - REFCOUNT: 1. Shoal shares no values (Redis answers INT_MAX for its shared integers 0..9999
 *   under a policy that allows them).
 * - FREQ: how often this node's store has seen the key used, as its eviction policy counts it
 *   (W-TinyLFU's sketch estimate, LFU's exact count), not Redis's logarithmic counter. Under a
 *   policy that counts no frequency, Redis's own error.
 * - IDLETIME: Shoal's store keeps no access times. Under a frequency policy (Shoal's default
 *   allkeys-wtinylfu, allkeys-lfu) it answers Redis's own LFU error; under allkeys-lru and
 *   noeviction, where Redis would answer, a clear error that says so.
 */
import type { GetResult } from '../replication/api.ts';
import type { WrittenAs } from '../replication/record.ts';
import { parseRedisInteger } from '../replication/redis-numbers.ts';
import { documented, type CommandContext, type CommandSpec, type ReplyWriter } from './command.ts';
import { commandSpec, isHit, readKey, replyError } from './keyspace-calls.ts';
import { helpSpec } from './server-commands.ts';

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT: longer strings are `raw`. */
const EMBSTR_SIZE_LIMIT = 44;

const NOT_LFU =
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const LFU_SELECTED =
  'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/**
 * The encoding Redis gives a string value: by its bytes when written whole (object.c,
 * tryObjectEncoding); `raw` when built in place (APPEND, SETRANGE); INCRBYFLOAT's text is made a
 * string object by its length (createStringObject), never `int`.
 */
export function redisStringEncoding(value: Uint8Array, writtenAs?: WrittenAs): 'int' | 'embstr' | 'raw' {
  if (writtenAs === 'in-place') return 'raw';
  if (writtenAs === undefined && value.length <= 20 && parseRedisInteger(value) !== null) return 'int';
  return value.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw';
}

function maxmemoryPolicy(ctx: CommandContext): string {
  return ctx.server.state?.config.get('maxmemory-policy') ?? 'noeviction';
}

/** Redis's MAXMEMORY_FLAG_LFU, for Redis's names and Shoal's W-TinyLFU (`allkeys-wtinylfu`), which counts frequency too. */
function countsFrequency(policy: string): boolean {
  return policy.endsWith('lfu');
}

/** A subcommand that looks its key up without using it and answers nil when it is missing, else `answer`. */
function keySubcommand(name: string, answer: (ctx: CommandContext, key: Uint8Array, result: GetResult, reply: ReplyWriter, done: () => void) => void): CommandSpec {
  return commandSpec(name, 3, ['readonly'], [2, 2, 1], ['keyspace', 'read', 'slow'], (ctx, args, reply, done) => {
    const key = args[2]!;
    readKey(
      ctx,
      key,
      reply,
      done,
      (result) => {
        if (!isHit(result, ctx.server.nowMs())) {
          reply.bulk(null);
          return done();
        }
        answer(ctx, key, result, reply, done);
      },
      { peek: true },
    );
  });
}

const encoding = keySubcommand('encoding', (_ctx, _key, result, reply, done) => {
  reply.bulk(redisStringEncoding(result.value!, result.writtenAs));
  done();
});

const refcount = keySubcommand('refcount', (_ctx, _key, _result, reply, done) => {
  reply.integer(1);
  done();
});

const freq = keySubcommand('freq', (ctx, key, _result, reply, done) => {
  if (!countsFrequency(maxmemoryPolicy(ctx))) return replyError(reply, done, NOT_LFU);
  const frequency = ctx.server.keyFrequency?.(key);
  if (frequency === undefined) return replyError(reply, done, 'ERR this node does not track access frequency');
  if (frequency === null) return replyError(reply, done, 'ERR this node holds no replica of the key, so it has not counted its uses: ask the node that serves its slot (CLUSTER SHARDS)');
  reply.integer(frequency);
  done();
});

const idletime = keySubcommand('idletime', (ctx, _key, _result, reply, done) => {
  const policy = maxmemoryPolicy(ctx);
  if (countsFrequency(policy)) return replyError(reply, done, LFU_SELECTED);
  replyError(reply, done, `ERR Shoal's store keeps no access times, so idle time is not tracked (maxmemory-policy ${policy}); under allkeys-wtinylfu or allkeys-lfu, OBJECT FREQ answers how often the key is used`);
});

const help = helpSpec('OBJECT', [
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
]);

// Only reached with a subcommand, which the command table dispatches itself.
const object: CommandSpec = { ...commandSpec('object', -2, [], [0, 0, 0], ['slow'], (_ctx, _args, reply, done) => replyError(reply, done, 'ERR unknown subcommand')), subcommands: [help, refcount, freq, idletime, encoding] };

const keyArgument = [{ name: 'key', type: 'key', keySpecIndex: 0 }];

export const objectCommands: readonly CommandSpec[] = [
  documented(object, { summary: 'A container for object introspection commands', since: '2.2.3', group: 'generic', complexity: 'Depends on subcommand.' }, {
    help: { summary: 'Show helpful text about the different subcommands', since: '6.2.0', group: 'generic', complexity: 'O(1)' },
    refcount: { summary: 'Get the number of references to the value of the key', since: '2.2.3', group: 'generic', complexity: 'O(1)', arguments: keyArgument },
    freq: { summary: 'Get the logarithmic access frequency counter of a Redis object', since: '4.0.0', group: 'generic', complexity: 'O(1)', arguments: keyArgument },
    idletime: { summary: 'Get the time since a Redis object was last accessed', since: '2.2.3', group: 'generic', complexity: 'O(1)', arguments: keyArgument },
    encoding: { summary: 'Inspect the internal encoding of a Redis object', since: '2.2.3', group: 'generic', complexity: 'O(1)', arguments: keyArgument },
  }),
];

/**
 * MEMORY USAGE key [SAMPLES count], with Redis 7.0's arity, options and errors. The number is
 * Shoal's own: the bytes the key's record is charged in each replica's store, toward
 * --max-memory (src/store/store.ts, entryCost: the fixed per-entry overhead, the key string, and
 * the slab chunk of the record, which is the value plus its version and expiry header). Redis
 * counts its own structures (64 bytes for a 3-byte value), so the figures differ; what redis-cli
 * --memkeys and key browsers show is then what the key costs a Shoal node. SAMPLES is parsed and
 * checked as in Redis and changes nothing (a string has nothing nested to sample).
 */
import { storedRecordCost } from '../replication/record.ts';
import { ERR_NOT_INTEGER, ERR_SYNTAX, isWord, parseInteger } from './args.ts';
import { documented, type CommandSpec } from './command.ts';
import { commandSpec, isHit, readKey, replyError } from './keyspace-calls.ts';
import { helpSpec } from './server-commands.ts';

const usage = commandSpec('usage', -3, ['readonly'], [2, 2, 1], ['read', 'slow'], (ctx, args, reply, done) => {
  for (let j = 3; j < args.length; j++) {
    if (!isWord(args[j]!, 'samples') || j + 1 >= args.length) return replyError(reply, done, ERR_SYNTAX);
    const samples = parseInteger(args[++j]!);
    if (samples === null) return replyError(reply, done, ERR_NOT_INTEGER);
    if (samples < 0n) return replyError(reply, done, ERR_SYNTAX);
  }
  const key = args[2]!;
  readKey(ctx, key, reply, done, (result) => {
    // Redis finds the key without a lookup: no keyspace hit or miss is counted.
    if (isHit(result, ctx.server.nowMs())) reply.integer(storedRecordCost(key, result.value!.length));
    else reply.bulk(null);
    done();
  });
});

const help = helpSpec('MEMORY', [
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
]);

// Only reached with a subcommand, which the command table dispatches itself.
const memory: CommandSpec = { ...commandSpec('memory', -2, [], [0, 0, 0], ['slow'], (_ctx, _args, reply, done) => replyError(reply, done, 'ERR unknown subcommand')), subcommands: [usage, help] };

export const memoryCommands: readonly CommandSpec[] = [
  documented(memory, { summary: 'A container for memory diagnostics commands', since: '4.0.0', group: 'server', complexity: 'Depends on subcommand.' }, {
    usage: { summary: 'Estimate the memory usage of a key', since: '4.0.0', group: 'server', complexity: 'O(N) where N is the number of samples.', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'count', type: 'integer', token: 'SAMPLES', flags: ['optional'] }] },
    help: { summary: 'Show helpful text about the different subcommands', since: '4.0.0', group: 'server', complexity: 'O(1)' },
  }),
];

/**
 * MEMORY USAGE key [SAMPLES count] and MEMORY DOCTOR, with Redis 7.0's arity, options and errors. The number is
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
import { human } from './info.ts';
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

/** What MEMORY DOCTOR reads of the node's store (src/store/store.ts, StoreStats). */
export interface StoreMemory {
  entries: number;
  /** Bytes charged toward the budget. */
  bytes: number;
  /** The budget: --max-memory, or what CONFIG SET maxmemory set since. */
  maxMemory: number;
  /** Records evicted for memory since the node started. */
  evicted: number;
  /** Writes refused because the store was full under noeviction (Redis's OOM). */
  refusedOverBudget: number;
  /** Writes refused because one entry alone was larger than the whole budget. */
  refusedTooLarge: number;
}

/** A store this full (of its budget) that has evicted is reported: its keys are being pushed out. */
const NEAR_BUDGET = 0.9;

/**
 * MEMORY DOCTOR's report, in Redis's words where Redis has them (an empty instance, no issue
 * found, the issues' opening and closing lines), about what Shoal's memory is: the node's store
 * against its budget (maxmemory; Redis looks at its allocator, which Shoal does not have).
 */
export function memoryDoctorReport(store: StoreMemory): string {
  if (store.entries === 0) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
  }
  const used = `${human(store.bytes)} of its ${human(store.maxMemory)} budget (maxmemory) in use, ${store.entries} records`;
  const issues: string[] = [];
  if (store.evicted > 0 && store.bytes >= NEAR_BUDGET * store.maxMemory) {
    issues.push(` * Evictions: this node's store has evicted ${store.evicted} records for memory since it started, and it is full (${used}). Keys that are still wanted come back as misses: raise the budget (CONFIG SET maxmemory, --max-memory), or add nodes.`);
  }
  if (store.refusedOverBudget > 0) {
    issues.push(` * Refused writes: ${store.refusedOverBudget} writes were refused (OOM) because the store was full under maxmemory-policy noeviction. Raise the budget (CONFIG SET maxmemory, --max-memory), add nodes, or let the store evict (CONFIG SET maxmemory-policy allkeys-wtinylfu).`);
  }
  if (store.refusedTooLarge > 0) {
    issues.push(` * Values larger than the budget: ${store.refusedTooLarge} writes were refused because one value alone was larger than this node's whole budget. Raise the budget (CONFIG SET maxmemory, --max-memory), or store smaller values.`);
  }
  if (issues.length === 0) return `Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base. (This node's store: ${used}.)\n`;
  return `Sam, I detected a few issues in this Redis instance memory implants:\n\n${issues.join('\n\n')}\n\nI'm here to keep you safe, Sam. I want to help you.\n`;
}

const doctor = commandSpec('doctor', 2, [], [0, 0, 0], ['slow'], (ctx, _args, reply, done) => {
  const store = ctx.server.storeMemory;
  if (store === undefined) return replyError(reply, done, 'ERR this node has no store to examine');
  reply.verbatim('txt', memoryDoctorReport(store()));
  done();
});

const help = helpSpec('MEMORY', [
  'DOCTOR',
  '    Return memory problems reports.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
]);

// Only reached with a subcommand, which the command table dispatches itself.
const memory: CommandSpec = { ...commandSpec('memory', -2, [], [0, 0, 0], ['slow'], (_ctx, _args, reply, done) => replyError(reply, done, 'ERR unknown subcommand')), subcommands: [usage, doctor, help] };

export const memoryCommands: readonly CommandSpec[] = [
  documented(memory, { summary: 'A container for memory diagnostics commands', since: '4.0.0', group: 'server', complexity: 'Depends on subcommand.' }, {
    usage: { summary: 'Estimate the memory usage of a key', since: '4.0.0', group: 'server', complexity: 'O(N) where N is the number of samples.', arguments: [{ name: 'key', type: 'key', keySpecIndex: 0 }, { name: 'count', type: 'integer', token: 'SAMPLES', flags: ['optional'] }] },
    doctor: { summary: 'Outputs memory problems report', since: '4.0.0', group: 'server', complexity: 'O(1)' },
    help: { summary: 'Show helpful text about the different subcommands', since: '4.0.0', group: 'server', complexity: 'O(1)' },
  }),
];

/**
 * MULTI, EXEC, DISCARD, WATCH, UNWATCH: transactions refused safely (docs/REDIS.md, "Transactions").
 *
 * Shoal cannot run a transaction atomically: its keys live on different partitions and nodes, and
 * nothing holds them all at once. Unknown, these commands failed while the commands between them
 * ran, so a client pipelining `MULTI; SET; INCR; EXEC` saw a failed transaction whose commands had
 * been applied (and applied them again on a retry). Instead a connection goes through Redis's own
 * sequence for a transaction that had a queueing error: MULTI answers +OK; every command inside it
 * (but EXEC, DISCARD, MULTI, WATCH, QUIT and RESET, which behave as in Redis) is not run and
 * answers NO_TRANSACTIONS; EXEC answers Redis's EXECABORT and ends the transaction, having run
 * nothing. Clients (ioredis, node-redis, redis-cli) then reject the whole transaction.
 *
 * The dispatch (commands.ts) asks `refuseInTransaction` before it runs a command, and passes every
 * refusal (unknown command, arity, ACL) through `rejected`, which marks the transaction failed as
 * Redis's flagTransaction does, or aborts it when the refused command is EXEC itself.
 */
import type { CommandDocs, CommandSpec, ConnectionState } from './command.ts';

/** What a connection in MULTI keeps: whether a command inside it was refused (then EXEC aborts). */
export interface TransactionState {
  failed: boolean;
}

/** The answer of every command inside MULTI that Redis would queue. */
export const NO_TRANSACTIONS =
  'ERR Shoal does not run transactions (its keys live on different nodes, so MULTI/EXEC cannot be atomic): ' +
  'this command was not run, and EXEC will discard the transaction. See docs/REDIS.md, "Transactions"';

/** WATCH outside MULTI: it could not be honoured, so it fails rather than promise what EXEC cannot keep. */
export const NO_WATCH = 'ERR Shoal does not support WATCH, as it does not run transactions. See docs/REDIS.md, "Transactions"';

export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';

/** What runs inside MULTI rather than being queued, as in Redis 7.0 (server.c, processCommand). */
const RUN_INSIDE_MULTI = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/**
 * Null when `spec` may run on this connection; else the connection is in MULTI and `spec` is one
 * Redis would queue: the transaction is marked failed, and NO_TRANSACTIONS is the answer.
 */
export function refuseInTransaction(connection: ConnectionState, spec: CommandSpec): string | null {
  const transaction = connection.transaction;
  if (transaction === undefined || transaction === null || RUN_INSIDE_MULTI.has(spec.name)) return null;
  transaction.failed = true;
  return NO_TRANSACTIONS;
}

/**
 * The answer to a command refused before it ran (unknown, wrong arity, NOPERM, a rate limit...).
 * Inside MULTI a refusal marks the transaction failed; a refused EXEC, in MULTI or not, ends any
 * transaction and answers Redis's `EXECABORT Transaction discarded because of: <error>`
 * (server.c, rejectCommand and execCommandAbort).
 */
export function rejected(connection: ConnectionState, spec: CommandSpec | undefined, error: string | Uint8Array): string | Uint8Array {
  if (spec?.name === 'exec') {
    connection.transaction = null;
    const text = typeof error === 'string' ? error : Buffer.from(error).toString('latin1');
    // Redis words its own refusals without the ERR prefix here ("because of: wrong number of arguments ...").
    const reason = text.startsWith('ERR ') ? text.slice(4) : text;
    return Buffer.from(`EXECABORT Transaction discarded because of: ${reason}`, 'latin1');
  }
  const transaction = connection.transaction;
  if (transaction !== undefined && transaction !== null) transaction.failed = true;
  return error;
}

function inTransaction(connection: ConnectionState): boolean {
  return connection.transaction !== undefined && connection.transaction !== null;
}

const FLAGS = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];
const NO_KEYS = [0, 0, 0] as const;

function docs(summary: string, since: string, complexity: string, args?: CommandDocs['arguments']): CommandDocs {
  return { summary, since, group: 'transactions', complexity, ...(args === undefined ? {} : { arguments: args }) };
}

const multi: CommandSpec = {
  name: 'multi',
  arity: 1,
  flags: FLAGS,
  keys: NO_KEYS,
  categories: ['fast', 'transaction'],
  docs: docs('Mark the start of a transaction block', '1.2.0', 'O(1)'),
  run(ctx, _args, reply, done) {
    if (inTransaction(ctx.connection)) reply.error('ERR MULTI calls can not be nested');
    else {
      ctx.connection.transaction = { failed: false };
      reply.ok();
    }
    done();
  },
};

const exec: CommandSpec = {
  name: 'exec',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'skip_slowlog'],
  keys: NO_KEYS,
  categories: ['slow', 'transaction'],
  docs: docs('Execute all commands issued after MULTI', '1.2.0', 'Depends on commands in the transaction'),
  run(ctx, _args, reply, done) {
    const transaction = ctx.connection.transaction;
    if (transaction === undefined || transaction === null) reply.error('ERR EXEC without MULTI');
    else {
      ctx.connection.transaction = null;
      // Nothing inside it was queued: either something was refused (every command Redis would
      // queue is), or it was empty, which Redis answers with an empty array too.
      if (transaction.failed) reply.error(EXECABORT);
      else reply.array(0);
    }
    done();
  },
};

const discard: CommandSpec = {
  name: 'discard',
  arity: 1,
  flags: FLAGS,
  keys: NO_KEYS,
  categories: ['fast', 'transaction'],
  docs: docs('Discard all commands issued after MULTI', '2.0.0', 'O(N), when N is the number of queued commands'),
  run(ctx, _args, reply, done) {
    if (!inTransaction(ctx.connection)) reply.error('ERR DISCARD without MULTI');
    else {
      ctx.connection.transaction = null;
      reply.ok();
    }
    done();
  },
};

const watch: CommandSpec = {
  name: 'watch',
  arity: -2,
  flags: FLAGS,
  keys: [1, -1, 1],
  categories: ['fast', 'transaction'],
  docs: docs('Watch the given keys to determine execution of the MULTI/EXEC block', '2.2.0', 'O(1) for every key.', [
    { name: 'key', type: 'key', keySpecIndex: 0, flags: ['multiple'] },
  ]),
  run(ctx, _args, reply, done) {
    reply.error(inTransaction(ctx.connection) ? 'ERR WATCH inside MULTI is not allowed' : NO_WATCH);
    done();
  },
};

/** Nothing is ever watched, so there is nothing to forget: +OK, as Redis answers without watched keys. */
const unwatch: CommandSpec = {
  name: 'unwatch',
  arity: 1,
  flags: FLAGS,
  keys: NO_KEYS,
  categories: ['fast', 'transaction'],
  docs: docs('Forget about all watched keys', '2.2.0', 'O(1)'),
  run(_ctx, _args, reply, done) {
    reply.ok();
    done();
  },
};

export const transactionCommands: readonly CommandSpec[] = [multi, exec, discard, watch, unwatch];

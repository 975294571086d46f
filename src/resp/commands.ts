/**
 * The command table: every command this node answers, gathered from the command modules, and the
 * dispatch of one parsed command to its spec (lookup, arity, routing) with Redis's error texts.
 *
 * To add commands: export a `CommandSpec[]` from your module and add it to COMMAND_MODULES.
 */
import { argText, quotingError } from './args.ts';
import type { CommandContext, CommandSpec, ReplyWriter } from './command.ts';
import { expireCommands } from './expire-commands.ts';
import { keyspaceCommands } from './keyspace-commands.ts';
import { serverCommands } from './server-commands.ts';
import { clusterCommands } from './cluster-commands.ts';
import { stringCommands } from './string-commands.ts';
import { aclCommands, aclRefusal } from './acl-commands.ts';
import { hotKeyCommands } from './hot-keys-command.ts';
import { memoryCommands } from './memory-command.ts';
import { objectCommands } from './object-command.ts';
import { pubsubCommands } from './pubsub-commands.ts';
import { refuseInTransaction, rejected, transactionCommands } from './transaction-commands.ts';

/** Every module's commands. Keep this a plain list: each command module adds its own line. */
const COMMAND_MODULES: readonly (readonly CommandSpec[])[] = [
  serverCommands,
  clusterCommands,
  stringCommands,
  expireCommands,
  keyspaceCommands,
  aclCommands,
  hotKeyCommands,
  memoryCommands,
  objectCommands,
  pubsubCommands,
  transactionCommands,
];

/** Commands by lower-case name, subcommands by `parent|sub`. */
export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();

  constructor(modules: readonly (readonly CommandSpec[])[] = COMMAND_MODULES) {
    for (const specs of modules) {
      for (const spec of specs) {
        if (this.byName.has(spec.name)) throw new Error(`command ${spec.name} is defined twice`);
        this.byName.set(spec.name, spec);
      }
    }
  }

  /** Names as clients spell them (`GET`, `Get`), learned as they come; bounded. */
  private readonly spelled = new Map<string, CommandSpec>();

  /** The command named `name` (any case), or undefined. */
  lookup(name: Uint8Array | string): CommandSpec | undefined {
    const text = typeof name === 'string' ? name : latin1(name);
    const known = this.byName.get(text) ?? this.spelled.get(text);
    if (known !== undefined) return known;
    const spec = this.byName.get(text.toLowerCase());
    if (spec !== undefined && this.spelled.size < 4096) this.spelled.set(text, spec);
    return spec;
  }

  /** All commands, in table order. */
  all(): CommandSpec[] {
    return [...this.byName.values()];
  }

  get size(): number {
    return this.byName.size;
  }

  /**
   * Runs one command: finds its spec, checks the arity and the ACL, refuses it inside MULTI
   * (transaction-commands.ts), asks the route hook when it has keys, then calls `run`. Exactly one reply is written and `done` called once, possibly later.
   * Returns the spec that ran (for the slow log and the counters), or null when it was rejected;
   * `named` hears the full name of a known command (`client|list`), and whether it ran.
   */
  dispatch(ctx: CommandContext, args: Uint8Array[], reply: ReplyWriter, done: () => void, named?: (fullName: string, ran: boolean) => void): CommandSpec | null {
    const spec = this.lookup(args[0]!);
    if (spec === undefined) return rejectCommand(ctx, spec, reply, done, unknownCommandError(args));
    // Which command the client meant (`get`, `client|list`), told to `named` before it runs or is
    // refused: what INFO commandstats counts. Redis counts nothing for an unknown subcommand.
    let target = spec;
    let fullName = spec.name;
    const refuse = (error: string | Uint8Array): null => {
      named?.(fullName, false);
      return rejectCommand(ctx, spec, reply, done, error);
    };
    if (spec.subcommands !== undefined && spec.subcommands.length > 0 && args.length >= 2) {
      if (!arityFits(spec.arity, args.length)) return refuse(`ERR wrong number of arguments for '${spec.name}' command`);
      const subName = latin1(args[1]!).toLowerCase();
      const sub = spec.subcommands.find((s) => s.name === subName);
      if (sub === undefined) return rejectCommand(ctx, spec, reply, done, quotingError(`ERR unknown subcommand '${argText(args[1]!, 128)}'. Try ${spec.name.toUpperCase()} HELP.`));
      target = sub;
      fullName = `${spec.name}|${sub.name}`;
      if (!arityFits(sub.arity, args.length)) return refuse(`ERR wrong number of arguments for '${fullName}' command`);
    } else if (!arityFits(spec.arity, args.length)) {
      return refuse(`ERR wrong number of arguments for '${spec.name}' command`);
    }
    if (ctx.server.acl !== undefined) {
      const refusal = aclRefusal(ctx, spec, target, args);
      if (refusal !== null) return refuse(refusal);
    }
    // Inside MULTI, what Redis would queue is refused instead (before a redirect: it would only
    // send the client to another node to be refused there). Redis counts a queued command only
    // when EXEC runs it, so this counts nothing either.
    const notInTransaction = refuseInTransaction(ctx.connection, spec);
    if (notInTransaction !== null) {
      reply.error(notInTransaction);
      done();
      return null;
    }
    if (target.keys[0] > 0) {
      const refusal = ctx.server.route(ctx.connection, target, args);
      if (refusal !== null) return refuse(refusal);
    }
    // A RESP2 connection in Pub/Sub mode may only manage its subscriptions (Redis 7.0, processCommand).
    if (ctx.connection.invalidationChannel === true && ctx.connection.protocol === 2 && !SUBSCRIBED_MODE_COMMANDS.has(spec.name)) {
      return refuse(`ERR Can't execute '${fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
    }
    named?.(fullName, true);
    target.run(ctx, args, reply, done);
    return target;
  }
}

/** A refusal: its error reply, and done. Inside MULTI it also fails the transaction, as Redis's rejectCommand does. */
function rejectCommand(ctx: CommandContext, spec: CommandSpec | undefined, reply: ReplyWriter, done: () => void, error: string | Uint8Array): null {
  reply.error(rejected(ctx.connection, spec, error));
  done();
  return null;
}

/** What a subscribed RESP2 connection may still run. */
const SUBSCRIBED_MODE_COMMANDS = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);

/** Redis's arity: N exactly N arguments, -N at least N. */
export function arityFits(arity: number, count: number): boolean {
  return arity >= 0 ? count === arity : count >= -arity;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Redis 7.0's text (server.c, processCommand): the name cut to 128 bytes, then the arguments
 * quoted while the list is under 128 bytes, each cut to what is left of those 128. Bytes, as the
 * client sent them (the writer turns CR and LF into spaces so the line stays one line).
 */
export function unknownCommandError(args: Uint8Array[]): Uint8Array {
  let list = '';
  for (let i = 1; i < args.length && list.length < 128; i++) {
    list += `'${argText(args[i]!, 128 - list.length)}' `;
  }
  return quotingError(`ERR unknown command '${argText(args[0]!, 128)}', with args beginning with: ${list}`);
}

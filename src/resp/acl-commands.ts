/**
 * ACL SETUSER / GETUSER / DELUSER / LIST / USERS / WHOAMI / CAT / HELP over the node's users
 * (src/security/acl.ts), and the permission check every command passes before it runs (NOAUTH,
 * then NOPERM with Redis 7.0's texts).
 */
import { argText, quotingError } from './args.ts';
import { documented, type CommandContext, type CommandSpec, type ReplyWriter } from './command.ts';
import { ACL_CATEGORIES, check, describeCommandRules, describeFlags, describeKeys, describeUser, keyAccessFor, prepareRules, type AclCommand, type AclUser, type KeyUse } from '../security/acl.ts';
import { matchesEverything } from '../protocol/glob.ts';
import { REDIS_COMMAND_CATEGORIES } from '../security/redis-command-categories.ts';
import { keyArguments } from './redirect.ts';

type Run = CommandSpec['run'];

const NO_KEYS = [0, 0, 0] as const;

/** An ACL subcommand: Redis 7.0 flags the administrative ones `admin` too. */
function sub(name: string, arity: number, categories: string[], run: Run, flags = categories.includes('admin') ? ['admin', 'noscript', 'loading', 'stale'] : ['noscript', 'loading', 'stale']): CommandSpec {
  return { name, arity, flags, keys: NO_KEYS, categories, run };
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** The user this connection runs as ('default' where the context has no user). */
export function connectionUser(ctx: CommandContext): string | null {
  return ctx.connection.user === undefined ? 'default' : ctx.connection.user;
}

/**
 * Null when the connection may run `target` (the command, or its subcommand) with `args`, else
 * the error to answer: NOAUTH before authentication, NOPERM for a command or key not allowed.
 */
export function aclRefusal(ctx: CommandContext, spec: CommandSpec, target: CommandSpec, args: Uint8Array[]): string | null {
  const acl = ctx.server.acl;
  if (acl === undefined) return null;
  const name = connectionUser(ctx);
  if (name === null) return target.flags.includes('no_auth') || spec.flags.includes('no_auth') ? null : 'NOAUTH Authentication required.';
  if (target.flags.includes('no_auth')) return null;
  const user = acl.loggedIn(name, ctx.connection.userSince);
  // Every command on every key (the default user as it comes): nothing to work out per command.
  if (user !== undefined && allowsEverything(user)) return null;
  const fullName = target === spec ? spec.name : `${spec.name}|${target.name}`;
  const keys: KeyUse[] = [];
  if (target.keys[0] > 0) {
    const withGet = target.name === 'set' && args.slice(3).some((a) => text(a).toLowerCase() === 'get');
    const access = keyAccessFor(target.name, target.categories, withGet);
    for (const key of keyArguments(target, args)) keys.push({ key, access });
  }
  return check(user, { name: fullName, categories: target.categories }, keys);
}

/**
 * Whether `user`'s rules are `+@all` alone and a `*` key pattern grants both read and write: then
 * check() allows any command on any key (commandAllowed: +@all; keyAllowed: `*` matches all).
 * Worked out per command (users change in place), in a few comparisons instead of a key walk.
 */
function allowsEverything(user: AclUser): boolean {
  if (user.commands.length !== 1 || user.commands[0] !== '+@all') return false;
  for (const k of user.keys) if (k.read && k.write && matchesEverything(k.pattern)) return true;
  return false;
}

function noAcl(reply: ReplyWriter, done: () => void): void {
  reply.error('ERR ACL is not available on this listener');
  done();
}

const ADMIN = ['admin', 'slow', 'dangerous'];

const setuser = sub('setuser', -3, ADMIN, (ctx, args, reply, done) => {
  const acl = ctx.server.acl;
  if (acl === undefined) return noAcl(reply, done);
  // Passwords are hashed and checked first, on the thread pool; the connection runs nothing after
  // this command until it is done (it has no keys), so pipelined replies and effects stay in order.
  const name = text(args[2]!);
  const rules = args.slice(3).map(text);
  prepareRules(acl.get(name), rules).then(
    (prepared) => {
      const error = acl.setUser(name, prepared, rules);
      if (error === null) reply.ok();
      else reply.error(error);
      done();
    },
    (error: unknown) => {
      reply.error(`ERR could not hash the password: ${(error as Error).message}`);
      done();
    },
  );
});

/**
 * The commands ACL GETUSER and ACL LIST describe command rules over (describeCommandRules): this
 * listener's commands and subcommands (`parent|sub`) in table order, then Redis 7.0's that Shoal
 * does not have, since Redis counts a category over all of its commands. Undefined without a
 * listener (contexts built by tests): the rules are shown as given.
 */
function describedCommands(ctx: CommandContext): AclCommand[] | undefined {
  const table = ctx.server.state?.table;
  if (table === undefined) return undefined;
  const commands: AclCommand[] = [];
  for (const spec of table.all()) {
    commands.push({ name: spec.name, categories: spec.categories });
    for (const s of spec.subcommands ?? []) commands.push({ name: `${spec.name}|${s.name}`, categories: s.categories });
  }
  const ours = new Set(commands.map((c) => c.name));
  for (const command of REDIS_COMMAND_CATEGORIES) if (!ours.has(command.name)) commands.push(command);
  return commands;
}

const getuser = sub('getuser', 3, ADMIN, (ctx, args, reply, done) => {
  const acl = ctx.server.acl;
  if (acl === undefined) return noAcl(reply, done);
  const user = acl.get(text(args[2]!));
  if (user === undefined) {
    reply.bulk(null);
    return done();
  }
  reply.map(6);
  reply.bulk('flags');
  const flags = describeFlags(user);
  // A set, as Redis 7.0 sends it (RESP3 `~`; RESP2 an array).
  reply.set(flags.length);
  for (const f of flags) reply.bulk(f);
  reply.bulk('passwords');
  reply.array(user.passwords.length);
  for (const p of user.passwords) reply.bulk(p);
  reply.bulk('commands');
  const commands = describedCommands(ctx);
  reply.bulk(commands === undefined ? user.commands.join(' ') : describeCommandRules(user, commands));
  reply.bulk('keys');
  reply.bulk(describeKeys(user));
  reply.bulk('channels');
  reply.bulk(user.allChannels ? '&*' : '');
  reply.bulk('selectors');
  reply.array(0);
  done();
});

const deluser = sub('deluser', -3, ADMIN, (ctx, args, reply, done) => {
  const acl = ctx.server.acl;
  if (acl === undefined) return noAcl(reply, done);
  const result = acl.delUsers(args.slice(2).map(text));
  if (typeof result === 'string') reply.error(result);
  else reply.integer(result);
  done();
});

const list = sub('list', 2, ADMIN, (ctx, _args, reply, done) => {
  const acl = ctx.server.acl;
  if (acl === undefined) return noAcl(reply, done);
  const users = acl.users();
  const commands = describedCommands(ctx);
  reply.array(users.length);
  for (const u of users) reply.bulk(describeUser(u, commands));
  done();
});

const users = sub('users', 2, ADMIN, (ctx, _args, reply, done) => {
  const acl = ctx.server.acl;
  if (acl === undefined) return noAcl(reply, done);
  const names = acl.names();
  reply.array(names.length);
  for (const n of names) reply.bulk(n);
  done();
});

const whoami = sub('whoami', 2, ['slow'], (ctx, _args, reply, done) => {
  reply.bulk(connectionUser(ctx) ?? 'default');
  done();
});

const cat = sub('cat', -2, ['slow'], (ctx, args, reply, done) => {
  if (args.length > 3) {
    reply.error("ERR wrong number of arguments for 'acl|cat' command");
    return done();
  }
  if (args.length === 2) {
    reply.array(ACL_CATEGORIES.length);
    for (const c of ACL_CATEGORIES) reply.bulk(c);
    return done();
  }
  const category = text(args[2]!).toLowerCase();
  if (!ACL_CATEGORIES.includes(category)) {
    reply.error(quotingError(`ERR Unknown category '${argText(args[2]!, 128)}'`));
    return done();
  }
  const names: string[] = [];
  for (const spec of ctx.server.state?.table.all() ?? []) {
    if (spec.subcommands !== undefined && spec.subcommands.length > 0) {
      for (const s of spec.subcommands) if (s.categories.includes(category)) names.push(`${spec.name}|${s.name}`);
    } else if (spec.categories.includes(category)) {
      names.push(spec.name);
    }
  }
  reply.array(names.length);
  for (const n of names) reply.bulk(n);
  done();
});

const HELP_LINES = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'GETUSER <username>',
  "    Get the user's details.",
  'LIST',
  '    Show users details in config file format.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
  'HELP',
  '    Prints this help.',
];

const help = sub('help', 2, ['slow'], (_ctx, _args, reply, done) => {
  reply.array(HELP_LINES.length);
  for (const line of HELP_LINES) reply.simple(line);
  done();
}, ['loading', 'stale']);

const acl: CommandSpec = {
  name: 'acl',
  arity: -2,
  flags: [],
  keys: NO_KEYS,
  categories: ['slow'],
  run: (_ctx, _args, reply, done) => {
    reply.error("ERR wrong number of arguments for 'acl' command");
    done();
  },
  subcommands: [cat, deluser, getuser, help, list, setuser, users, whoami],
};

export const aclCommands: readonly CommandSpec[] = [
  documented(acl, { summary: 'A container for Access List Control commands ', since: '6.0.0', group: 'server', complexity: 'Depends on subcommand.' }, {
    cat: { summary: 'List the ACL categories or the commands inside a category', since: '6.0.0', group: 'server', complexity: 'O(1) since the categories and commands are a fixed set.', arguments: [{ name: 'categoryname', type: 'string', flags: ['optional'] }] },
    deluser: { summary: 'Remove the specified ACL users and the associated rules', since: '6.0.0', group: 'server', complexity: 'O(1) amortized time considering the typical user.', arguments: [{ name: 'username', type: 'string', flags: ['multiple'] }] },
    getuser: { summary: 'Get the rules for a specific ACL user', since: '6.0.0', group: 'server', complexity: 'O(N). Where N is the number of password, command and pattern rules that the user has.', history: [['6.2.0', 'Added Pub/Sub channel patterns.'], ['7.0.0', 'Added selectors and changed the format of key and channel patterns from a list to their rule representation.']], arguments: [{ name: 'username', type: 'string' }] },
    help: { summary: 'Show helpful text about the different subcommands', since: '6.0.0', group: 'server', complexity: 'O(1)' },
    list: { summary: 'List the current ACL rules in ACL config file format', since: '6.0.0', group: 'server', complexity: 'O(N). Where N is the number of configured users.' },
    setuser: { summary: 'Modify or create the rules for a specific ACL user', since: '6.0.0', group: 'server', complexity: 'O(N). Where N is the number of rules provided.', history: [['6.2.0', 'Added Pub/Sub channel patterns.'], ['7.0.0', 'Added selectors and key based permissions.']], arguments: [{ name: 'username', type: 'string' }, { name: 'rule', type: 'string', flags: ['optional', 'multiple'] }] },
    users: { summary: 'List the username of all the configured ACL rules', since: '6.0.0', group: 'server', complexity: 'O(N). Where N is the number of configured users.' },
    whoami: { summary: 'Return the name of the user associated to the current connection', since: '6.0.0', group: 'server', complexity: 'O(1)' },
  }),
];

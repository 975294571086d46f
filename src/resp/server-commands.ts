/**
 * Connection and server commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT, CLIENT, COMMAND,
 * CONFIG, INFO, DEBUG, WAIT, TIME, LATENCY, SLOWLOG. Replies and errors as Redis 7.0's; where a
 * Shoal node cannot mean what Redis means (persistence, databases, replication), it answers as a
 * Redis without that feature does.
 */
import { argText, parseDbIndex, quotingError } from './args.ts';
import { documented, type ArgumentDoc, type CommandContext, type CommandSpec, type ReplyWriter } from './command.ts';
import { makeInfoCommand } from './info.ts';
import { TRACKING_HELP, TRACKING_SUBCOMMANDS } from './client-tracking.ts';
import { AUTH_RATE_LIMITED, hostOf } from '../security/auth-guard.ts';
import { suppressedField } from '../runtime/log-limiter.ts';
import { isToken } from '../security/acl-tokens.ts';
import type { RespServerState } from './server-state.ts';

/**
 * The version we announce (HELLO, INFO redis_version). Clients gate features on it (ioredis and
 * node-redis read it; redis-cli asks COMMAND DOCS only from 7.0), so we claim exactly the Redis
 * whose replies we copy, 7.0.15, and say what we are in INFO's `shoal` section instead.
 */
export const REDIS_VERSION = '7.0.15';

const NO_KEYS = [0, 0, 0] as const;

const infoCommand = makeInfoCommand(REDIS_VERSION);

type Run = CommandSpec['run'];

function spec(name: string, arity: number, flags: string[], categories: string[], run: Run, subcommands?: CommandSpec[]): CommandSpec {
  return { name, arity, flags, keys: NO_KEYS, categories, run, ...(subcommands === undefined ? {} : { subcommands }) };
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function lower(bytes: Uint8Array): string {
  return text(bytes).toLowerCase();
}

/** Redis's string2ll for command arguments: optional '-', no '+', no spaces, no leading zeros. */
export function parseInteger(bytes: Uint8Array): bigint | null {
  const s = text(bytes);
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const value = BigInt(s);
  if (value > 9223372036854775807n || value < -9223372036854775808n) return null;
  return value;
}

/** The listener's state, or an error reply when the context has none (tests without a listener). */
function stateOf(ctx: CommandContext, reply: ReplyWriter): RespServerState | null {
  if (ctx.server.state !== undefined) return ctx.server.state;
  reply.error('ERR this command needs a RESP listener');
  return null;
}

// ---- connection ----

const ping = spec('ping', -1, ['fast'], ['fast', 'connection'], (ctx, args, reply, done) => {
  if (args.length > 2) reply.error("ERR wrong number of arguments for 'ping' command");
  else if (ctx.connection.invalidationChannel === true && reply.protocol === 2) {
    // Subscribed RESP2 connections get PING's answer as a message-like array, as Redis sends it.
    reply.array(2);
    reply.bulk('pong');
    reply.bulk(args.length === 2 ? args[1]! : '');
  } else if (args.length === 2) reply.bulk(args[1]!);
  else reply.simple('PONG');
  done();
});

const echo = spec('echo', 2, ['loading', 'stale', 'fast'], ['fast', 'connection'], (_ctx, args, reply, done) => {
  reply.bulk(args[1]!);
  done();
});

const quit = spec('quit', -1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ['fast', 'connection'], (ctx, _args, reply, done) => {
  ctx.connection.closeAfterReply = true;
  reply.ok();
  done();
});

/** What RESET clears on a connection that has more state than ConnectionState (RespConnection). */
interface Resettable {
  reset(): void;
}

const reset = spec('reset', 1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ['fast', 'connection'], (ctx, _args, reply, done) => {
  const connection = ctx.connection as unknown as Partial<Resettable>;
  if (typeof connection.reset === 'function') connection.reset();
  else {
    ctx.connection.name = '';
    ctx.connection.protocol = 2;
    ctx.connection.transaction = null;
  }
  reply.simple('RESET');
  done();
});

/** Redis refuses names with spaces, newlines or any byte outside '!'..'~' (clientSetName). */
function validClientName(name: Uint8Array): boolean {
  for (const c of name) if (c < 0x21 || c > 0x7e) return false;
  return true;
}

const CLIENT_NAME_ERROR = 'ERR Client names cannot contain spaces, newlines or special characters.';

/**
 * AUTH and HELLO's AUTH against the node's users (src/security/acl.ts): on success the connection
 * runs as that user; a failure is counted, logged without the password, and rate-limited per
 * remote address. Without users (a listener built without them) it answers as a Redis without a
 * password: `default` is nopass, any other user does not exist.
 */
function authenticate(ctx: CommandContext, user: string | null, password: Uint8Array, then: (error: string | null) => void): void {
  const acl = ctx.server.acl;
  if (acl === undefined) return then(user === 'default' ? null : WRONGPASS);
  const guard = ctx.server.authGuard;
  const host = hostOf(ctx.connection.address);
  if (guard !== undefined && !guard.mayTry(host)) {
    const suppressed = guard.refusalToLog(host);
    if (suppressed !== null) ctx.server.state?.log?.warn({ client: ctx.connection.id, address: ctx.connection.address, user, ...suppressedField(suppressed) }, 'AUTH refused: too many failures from this address');
    return then(AUTH_RATE_LIMITED);
  }
  // user null: a bearer token alone (`AUTH shoal_...`), which names its user.
  const check = user === null ? Promise.resolve(acl.authenticateToken(text(password))) : acl.authenticate(user, password);
  void check.then((result) => {
    if (result.ok) {
      ctx.connection.user = result.user.name;
      ctx.connection.userSince = result.user.since;
      return then(null);
    }
    guard?.failed(host);
    ctx.server.state?.log?.warn({ client: ctx.connection.id, address: ctx.connection.address, user }, 'AUTH failed');
    then(result.error);
  });
}

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

const auth = spec('auth', -2, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ['fast', 'connection'], (ctx, args, reply, done) => {
  if (args.length > 3) {
    reply.error('ERR syntax error');
    return done();
  }
  const bearer = args.length === 2 && ctx.server.acl !== undefined && isToken(text(args[1]!));
  if (args.length === 2 && !bearer) {
    const acl = ctx.server.acl;
    const d = acl?.get('default');
    if (d === undefined || (d.nopass && d.enabled)) {
      reply.error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
      return done();
    }
  }
  const user = bearer ? null : args.length === 2 ? 'default' : text(args[1]!);
  authenticate(ctx, user, args[args.length - 1]!, (error) => {
    if (error === null) reply.ok();
    else reply.error(error);
    done();
  });
});

const hello = spec('hello', -1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ['fast', 'connection'], (ctx, args, reply, done) => {
  const finish = (error: string | Uint8Array): void => {
    reply.error(error);
    done();
  };
  let protocol = ctx.connection.protocol;
  if (args.length >= 2) {
    const version = parseInteger(args[1]!);
    if (version === null) return finish('ERR Protocol version is not an integer or out of range');
    if (version < 2n || version > 3n) return finish('NOPROTO unsupported protocol version');
    protocol = Number(version) as 2 | 3;
  }
  let name: Uint8Array | null = null;
  let credentials: [string, Uint8Array] | null = null;
  for (let j = 2; j < args.length; j++) {
    const more = args.length - 1 - j;
    const option = lower(args[j]!);
    if (option === 'auth' && more >= 2) {
      credentials = [text(args[j + 1]!), args[j + 2]!];
      j += 2;
    } else if (option === 'setname' && more >= 1) {
      if (!validClientName(args[j + 1]!)) return finish(CLIENT_NAME_ERROR);
      name = args[j + 1]!;
      j++;
    } else {
      return finish(quotingError(`ERR Syntax error in HELLO option '${argText(args[j]!)}'`));
    }
  }
  if (credentials !== null) {
    const [user, password] = credentials;
    return authenticate(ctx, user, password, (error) => (error === null ? helloReply(ctx, protocol, name, reply, done) : finish(error)));
  }
  if (ctx.server.acl !== undefined && ctx.connection.user === null) return finish('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  helloReply(ctx, protocol, name, reply, done);
});

function helloReply(ctx: CommandContext, protocol: 2 | 3, name: Uint8Array | null, reply: ReplyWriter, done: () => void): void {
  if (name !== null) ctx.connection.name = text(name);
  // The reply is already in the new protocol, as Redis sends it.
  ctx.connection.protocol = protocol;
  reply.map(7);
  reply.bulk('server');
  reply.bulk('redis');
  reply.bulk('version');
  reply.bulk(REDIS_VERSION);
  reply.bulk('proto');
  reply.integer(protocol);
  reply.bulk('id');
  reply.integer(ctx.connection.id);
  reply.bulk('mode');
  // Every node answers the CLUSTER commands and redirects like a Redis Cluster node.
  reply.bulk('cluster');
  reply.bulk('role');
  reply.bulk('master');
  reply.bulk('modules');
  reply.array(0);
  done();
}

const select = spec('select', 2, ['loading', 'stale', 'fast'], ['fast', 'connection'], (_ctx, args, reply, done) => {
  const index = parseDbIndex(args[1]!);
  // One keyspace, database 0, answered as a Redis Cluster node does (Shoal presents itself as
  // one: HELLO's mode, INFO's cluster_enabled, CLUSTER, MOVED; and COPY ... DB answers the same).
  if (typeof index === 'string') reply.error(index);
  else if (index !== 0n) reply.error('ERR SELECT is not allowed in cluster mode');
  else reply.ok();
  done();
});

// ---- CLIENT ----

function clientLine(state: RespServerState, id: number, now: number, current: number, lastCommandOverride?: string): string {
  const c = state.clients.get(id)!;
  const age = Math.max(0, Math.floor((now - c.createdAtMs) / 1000));
  const idle = Math.max(0, Math.floor((now - c.lastActiveAtMs) / 1000));
  const cmd = id === current && lastCommandOverride !== undefined ? lastCommandOverride : c.lastCommand;
  const inMulti = c.transaction !== undefined && c.transaction !== null;
  // Fields Redis prints that mean nothing here (fd, memory accounting) are given fixed values.
  return (
    `id=${c.id} addr=${c.address} laddr=${c.localAddress} fd=-1 name=${c.name} age=${age} idle=${idle} flags=${inMulti ? 'x' : 'N'} db=0 ` +
    // Nothing is ever queued inside MULTI (transaction-commands.ts): multi=0 while in one.
    `sub=${c.invalidationChannel ? 1 : 0} psub=0 ssub=0 multi=${inMulti ? 0 : -1} qbuf=${c.queryBufferBytes} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 ` +
    `obl=0 oll=0 omem=${c.outputBufferBytes} tot-mem=0 events=r cmd=${cmd} user=${c.user ?? 'default'} redir=${c.tracking?.settings?.redirect ?? -1} resp=${c.protocol}`
  );
}

const clientSetname = spec('setname', 3, ['noscript', 'loading', 'stale'], ['slow', 'connection'], (ctx, args, reply, done) => {
  if (!validClientName(args[2]!)) reply.error(CLIENT_NAME_ERROR);
  else {
    ctx.connection.name = text(args[2]!);
    reply.ok();
  }
  done();
});

const clientGetname = spec('getname', 2, ['noscript', 'loading', 'stale'], ['slow', 'connection'], (ctx, _args, reply, done) => {
  reply.bulk(ctx.connection.name === '' ? null : ctx.connection.name);
  done();
});

const clientId = spec('id', 2, ['noscript', 'loading', 'stale'], ['slow', 'connection'], (ctx, _args, reply, done) => {
  reply.integer(ctx.connection.id);
  done();
});

const clientInfo = spec('info', 2, ['noscript', 'loading', 'stale'], ['slow', 'connection'], (ctx, _args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state !== null) reply.verbatim('txt', clientLine(state, ctx.connection.id, ctx.server.nowMs(), ctx.connection.id, 'client|info') + '\n');
  done();
});

const clientList = spec('list', -2, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous', 'connection'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  let ids = [...state.clients.keys()];
  for (let j = 2; j < args.length; j++) {
    const option = lower(args[j]!);
    if (option === 'type' && j + 1 < args.length) {
      const type = lower(args[++j]!);
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) {
        reply.error(quotingError(`ERR Unknown client type '${argText(args[j]!)}'`));
        return done();
      }
      if (type !== 'normal') ids = [];
    } else if (option === 'id' && j + 1 < args.length) {
      const wanted = new Set<number>();
      for (j++; j < args.length; j++) {
        const id = parseInteger(args[j]!);
        if (id === null || id <= 0n) {
          reply.error('ERR Invalid client ID');
          return done();
        }
        wanted.add(Number(id));
      }
      ids = ids.filter((id) => wanted.has(id));
    } else {
      reply.error('ERR syntax error');
      return done();
    }
  }
  const now = ctx.server.nowMs();
  const lines = ids.map((id) => clientLine(state, id, now, ctx.connection.id, 'client|list') + '\n');
  reply.verbatim('txt', lines.join(''));
  done();
});

const clientKill = spec('kill', -3, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous', 'connection'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  const finish = (write: () => void): void => {
    write();
    done();
  };
  if (args.length === 3) {
    // Old form: CLIENT KILL addr:port; replies OK or an error.
    const address = text(args[2]!);
    const target = [...state.clients.values()].find((c) => c.address === address);
    if (target === undefined) return finish(() => reply.error('ERR No such client'));
    reply.ok();
    killAfterReply(ctx, [target], done);
    return;
  }
  if ((args.length - 2) % 2 !== 0) return finish(() => reply.error('ERR syntax error'));
  let id: number | null = null;
  let address: string | null = null;
  let localAddress: string | null = null;
  let type: string | null = null;
  let user: string | null = null;
  let skipMe = true;
  for (let j = 2; j < args.length; j += 2) {
    const option = lower(args[j]!);
    const value = args[j + 1]!;
    if (option === 'id') {
      const n = parseInteger(value);
      if (n === null || n <= 0n) return finish(() => reply.error('ERR client-id should be greater than 0'));
      id = Number(n);
    } else if (option === 'addr') address = text(value);
    else if (option === 'laddr') localAddress = text(value);
    else if (option === 'type') {
      type = lower(value);
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) return finish(() => reply.error(quotingError(`ERR Unknown client type '${argText(value)}'`)));
    } else if (option === 'user') {
      user = text(value);
      // Redis refuses a user that does not exist while it reads the filters (networking.c, clientKillCommand).
      const exists = ctx.server.acl === undefined ? user === 'default' : ctx.server.acl.get(user) !== undefined;
      if (!exists) return finish(() => reply.error(quotingError(`ERR No such user '${argText(value)}'`)));
    }
    else if (option === 'skipme') {
      const v = lower(value);
      if (v === 'yes') skipMe = true;
      else if (v === 'no') skipMe = false;
      else return finish(() => reply.error('ERR syntax error'));
    } else return finish(() => reply.error('ERR syntax error'));
  }
  const victims = [...state.clients.values()].filter(
    (c) =>
      (id === null || c.id === id) &&
      (address === null || c.address === address) &&
      (localAddress === null || c.localAddress === localAddress) &&
      (type === null || type === 'normal') &&
      (user === null || (c.user ?? 'default') === user) &&
      !(skipMe && c.id === ctx.connection.id),
  );
  reply.integer(victims.length);
  killAfterReply(ctx, victims, done);
});

/** Closes the victims; a client that kills itself gets its reply first, as in Redis. */
function killAfterReply(ctx: CommandContext, victims: { id: number; kill(): void }[], done: () => void): void {
  if (victims.some((v) => v.id === ctx.connection.id)) ctx.connection.closeAfterReply = true;
  done();
  for (const victim of victims) if (victim.id !== ctx.connection.id) victim.kill();
}

const clientNoEvict = spec('no-evict', 3, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous', 'connection'], (ctx, args, reply, done) => {
  const value = lower(args[2]!);
  const handle = ctx.server.state?.clients.get(ctx.connection.id);
  if (value === 'on' || value === 'off') {
    if (handle !== undefined) handle.noEvict = value === 'on';
    reply.ok();
  } else reply.error('ERR syntax error');
  done();
});

/** CLIENT REPLY ON|OFF|SKIP: whether this connection's commands get replies (a fire-and-forget client). */
const clientReply = spec('reply', 3, ['noscript', 'loading', 'stale'], ['slow', 'connection'], (ctx, args, reply, done) => {
  const mode = lower(args[2]!);
  if ((mode !== 'on' && mode !== 'off' && mode !== 'skip') || ctx.connection.setReplies === undefined) {
    reply.error('ERR syntax error');
  } else {
    ctx.connection.setReplies(mode);
    // Redis answers ON; OFF and SKIP get no reply at all (this command's own is dropped).
    if (mode === 'on') reply.ok();
  }
  done();
});

/** CLIENT SETINFO is Redis 7.2's; newer client libraries send it on connect, so it is accepted. */
const clientSetinfo = spec('setinfo', 4, ['noscript', 'loading', 'stale'], ['slow', 'connection'], (ctx, args, reply, done) => {
  const attribute = lower(args[2]!);
  const handle = ctx.server.state?.clients.get(ctx.connection.id);
  if (attribute !== 'lib-name' && attribute !== 'lib-ver') reply.error(quotingError(`ERR Unrecognized option '${argText(args[2]!)}'`));
  else if (!validClientName(args[3]!)) reply.error(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
  else {
    if (handle !== undefined) {
      if (attribute === 'lib-name') handle.libName = text(args[3]!);
      else handle.libVersion = text(args[3]!);
    }
    reply.ok();
  }
  done();
});

const clientHelp = helpSpec('CLIENT', [
  'ID', '    Return the ID of the current connection.',
  'GETNAME', '    Return the name of the current connection.',
  'INFO', '    Return information about the current client connection.',
  'KILL <ip:port>', '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]', '    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME.',
  'LIST [options ...]', '    Return information about client connections. Options: TYPE, ID.',
  'NO-EVICT (ON|OFF)', '    Protect current client connection from eviction.',
  'REPLY (ON|OFF|SKIP)', '    Control the replies sent to the current connection.',
  'SETNAME <name>', '    Assign the name <name> to the current connection.',
  'SETINFO <LIB-NAME|LIB-VER> <value>', '    Set client meta attributes.',
  ...TRACKING_HELP,
]);

const client = spec('client', -2, [], ['slow'], (_ctx, _args, reply, done) => {
  reply.error('ERR unknown subcommand');
  done();
}, [clientSetname, clientGetname, clientId, clientInfo, clientList, clientKill, clientNoEvict, clientReply, clientSetinfo, ...TRACKING_SUBCOMMANDS, clientHelp]);

/** `X HELP`: Redis's help reply: the usage lines, then HELP itself. */
export function helpSpec(parent: string, lines: string[]): CommandSpec {
  // Redis 7.0 puts CLIENT HELP and COMMAND HELP in @connection too, OBJECT HELP in @keyspace.
  const categories = parent === 'CLIENT' || parent === 'COMMAND' ? ['slow', 'connection'] : parent === 'OBJECT' ? ['keyspace', 'slow'] : ['slow'];
  return spec('help', 2, ['loading', 'stale'], categories, (_ctx, _args, reply, done) => {
    const all = [`${parent} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...lines, 'HELP', '    Prints this help.'];
    reply.array(all.length);
    for (const line of all) reply.simple(line);
    done();
  });
}

// ---- COMMAND ----

function writeCommandInfo(reply: ReplyWriter, command: CommandSpec, parent?: string): void {
  const name = parent === undefined ? command.name : `${parent}|${command.name}`;
  reply.array(10);
  reply.bulk(name);
  reply.integer(command.arity);
  reply.set(command.flags.length);
  for (const flag of command.flags) reply.simple(flag);
  reply.integer(command.keys[0]);
  reply.integer(command.keys[1]);
  reply.integer(command.keys[2]);
  reply.set(command.categories.length);
  for (const category of command.categories) reply.simple(`@${category}`);
  reply.set(0); // tips
  writeKeySpecs(reply, command);
  const subcommands = command.subcommands ?? [];
  reply.set(subcommands.length);
  for (const sub of subcommands) writeCommandInfo(reply, sub, command.name);
}

/** Redis 7 key specs, derived from the legacy (first, last, step) triple. */
function writeKeySpecs(reply: ReplyWriter, command: CommandSpec): void {
  const [first, last, step] = command.keys;
  if (first <= 0) {
    reply.set(0);
    return;
  }
  const write = command.flags.includes('write');
  const flags = write ? ['RW', 'update'] : ['RO', 'access'];
  reply.set(1);
  reply.map(3);
  reply.bulk('flags');
  reply.set(flags.length);
  for (const flag of flags) reply.simple(flag);
  reply.bulk('begin_search');
  reply.map(2);
  reply.bulk('type');
  reply.bulk('index');
  reply.bulk('spec');
  reply.map(1);
  reply.bulk('index');
  reply.integer(first);
  reply.bulk('find_keys');
  reply.map(2);
  reply.bulk('type');
  reply.bulk('range');
  reply.bulk('spec');
  reply.map(3);
  reply.bulk('lastkey');
  reply.integer(last < 0 ? last : last - first);
  reply.bulk('keystep');
  reply.integer(step);
  reply.bulk('limit');
  reply.integer(0);
}

/** A list of status words as Redis sends flags: a set (RESP3 `~`, RESP2 an array) of simple strings. */
function writeFlagSet(reply: ReplyWriter, flags: readonly string[]): void {
  reply.set(flags.length);
  for (const flag of flags) reply.simple(flag);
}

/** One argument of COMMAND DOCS, its fields in Redis 7.0's order (addReplyCommandArgList). */
function writeArgumentDoc(reply: ReplyWriter, argument: ArgumentDoc): void {
  const fields: [string, () => void][] = [
    ['name', () => reply.bulk(argument.name)],
    ['type', () => reply.bulk(argument.type)],
  ];
  if (argument.keySpecIndex !== undefined) fields.push(['key_spec_index', () => reply.integer(argument.keySpecIndex!)]);
  if (argument.token !== undefined) fields.push(['token', () => reply.bulk(argument.token!)]);
  if (argument.since !== undefined) fields.push(['since', () => reply.bulk(argument.since!)]);
  if (argument.flags !== undefined && argument.flags.length > 0) fields.push(['flags', () => writeFlagSet(reply, argument.flags!)]);
  if (argument.deprecatedSince !== undefined) fields.push(['deprecated_since', () => reply.bulk(argument.deprecatedSince!)]);
  if (argument.arguments !== undefined) {
    fields.push(['arguments', () => {
      reply.array(argument.arguments!.length);
      for (const inner of argument.arguments!) writeArgumentDoc(reply, inner);
    }]);
  }
  reply.map(fields.length);
  for (const [key, value] of fields) {
    reply.bulk(key);
    value();
  }
}

/**
 * One command's COMMAND DOCS, its fields in Redis 7.0's order (addReplyCommandDocs). A command
 * without docs (only tests build such) gets its group alone, as Redis answers for a command
 * without documentation.
 */
function writeDocs(reply: ReplyWriter, command: CommandSpec): void {
  const docs = command.docs;
  const fields: [string, () => void][] = [];
  if (docs !== undefined) {
    fields.push(['summary', () => reply.bulk(docs.summary)], ['since', () => reply.bulk(docs.since)]);
  }
  fields.push(['group', () => reply.bulk(docs?.group ?? 'server')]);
  if (docs?.complexity !== undefined) fields.push(['complexity', () => reply.bulk(docs.complexity!)]);
  if (docs?.docFlags !== undefined) fields.push(['doc_flags', () => writeFlagSet(reply, docs.docFlags!)]);
  if (docs?.deprecatedSince !== undefined) fields.push(['deprecated_since', () => reply.bulk(docs.deprecatedSince!)]);
  if (docs?.replacedBy !== undefined) fields.push(['replaced_by', () => reply.bulk(docs.replacedBy!)]);
  if (docs?.history !== undefined) {
    fields.push(['history', () => {
      reply.set(docs.history!.length);
      for (const [version, change] of docs.history!) {
        reply.array(2);
        reply.bulk(version);
        reply.bulk(change);
      }
    }]);
  }
  if (docs?.arguments !== undefined) {
    fields.push(['arguments', () => {
      reply.array(docs.arguments!.length);
      for (const argument of docs.arguments!) writeArgumentDoc(reply, argument);
    }]);
  }
  const subcommands = command.subcommands ?? [];
  if (subcommands.length > 0) {
    fields.push(['subcommands', () => {
      reply.map(subcommands.length);
      for (const sub of subcommands) {
        reply.bulk(`${command.name}|${sub.name}`);
        writeDocs(reply, sub);
      }
    }]);
  }
  reply.map(fields.length);
  for (const [key, value] of fields) {
    reply.bulk(key);
    value();
  }
}

const commandCount = spec('count', 2, ['loading', 'stale'], ['slow', 'connection'], (ctx, _args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state !== null) reply.integer(state.table.size);
  done();
});

const commandInfo = spec('info', -2, ['loading', 'stale'], ['slow', 'connection'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  const commands = args.length === 2 ? state.table.all() : args.slice(2).map((name) => state.table.lookup(name) ?? null);
  reply.array(commands.length);
  for (const command of commands) {
    if (command === null) reply.bulk(null);
    else writeCommandInfo(reply, command);
  }
  done();
});

const commandDocs = spec('docs', -2, ['loading', 'stale'], ['slow', 'connection'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  const commands = (args.length === 2 ? state.table.all() : args.slice(2).map((name) => state.table.lookup(name))).filter((c) => c !== undefined);
  reply.map(commands.length);
  for (const command of commands) {
    reply.bulk(command.name);
    writeDocs(reply, command);
  }
  done();
});

/**
 * COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern], as Redis 7.0
 * (commandListCommand): without a filter the commands; with one, the commands and subcommands
 * (`parent|sub`) it keeps: a category (any case; an unknown one keeps nothing), a glob over the
 * full name (any case), or a module (Shoal has none: nothing).
 */
const commandList = spec('list', -2, ['loading', 'stale'], ['slow', 'connection'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  let keep: ((fullName: string, command: CommandSpec) => boolean) | null = null;
  for (let i = 2; i < args.length; i += 3) {
    const type = args.length - 1 - i === 2 && lower(args[i]!) === 'filterby' ? lower(args[i + 1]!) : null;
    const argument = args[i + 2];
    if (argument === undefined || (type !== 'module' && type !== 'aclcat' && type !== 'pattern')) {
      reply.error('ERR syntax error');
      return done();
    }
    if (type === 'module') keep = () => false;
    else if (type === 'aclcat') {
      const category = text(argument).toLowerCase();
      keep = (_name, command) => command.categories.includes(category);
    } else {
      const pattern = Buffer.from(argument).toString('latin1');
      keep = (name) => globMatch(pattern, name);
    }
  }
  const names: string[] = [];
  for (const command of state.table.all()) {
    if (keep === null || keep(command.name, command)) names.push(command.name);
    if (keep === null) continue;
    for (const sub of command.subcommands ?? []) if (keep(`${command.name}|${sub.name}`, sub)) names.push(`${command.name}|${sub.name}`);
  }
  reply.array(names.length);
  for (const name of names) reply.bulk(name);
  done();
});

const commandHelp = helpSpec('COMMAND', [
  '(no subcommand)', '    Return details about all Redis commands.',
  'COUNT', '    Return the total number of commands in this Redis server.',
  'LIST', '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]', '    Return details about multiple Redis commands.',
  'DOCS [<command-name> ...]', '    Return documentation details about multiple Redis commands.',
]);

const commandSubcommands = [commandCount, commandInfo, commandDocs, commandList, commandHelp];

/** COMMAND alone lists every command; with a subcommand, the table dispatches to it. */
const command: CommandSpec = {
  ...spec('command', -1, ['loading', 'stale'], ['slow', 'connection'], (ctx, _args, reply, done) => {
    const state = stateOf(ctx, reply);
    if (state === null) return done();
    const all = state.table.all();
    reply.array(all.length);
    for (const c of all) writeCommandInfo(reply, c);
    done();
  }),
  subcommands: commandSubcommands,
};

// ---- CONFIG ----

/** Redis's glob matching (stringmatchlen) for CONFIG GET patterns: *, ?, [...], \ escapes. */
export function globMatch(pattern: string, subject: string, noCase = true): boolean {
  const p = noCase ? pattern.toLowerCase() : pattern;
  const s = noCase ? subject.toLowerCase() : subject;
  const match = (pi: number, si: number): boolean => {
    while (pi < p.length) {
      const c = p[pi]!;
      if (c === '*') {
        while (p[pi + 1] === '*') pi++;
        if (pi + 1 === p.length) return true;
        for (let k = si; k <= s.length; k++) if (match(pi + 1, k)) return true;
        return false;
      }
      if (si >= s.length) return false;
      if (c === '?') {
        pi++;
        si++;
        continue;
      }
      if (c === '[') {
        let i = pi + 1;
        const negate = p[i] === '^';
        if (negate) i++;
        let matched = false;
        while (i < p.length && p[i] !== ']') {
          if (p[i] === '\\' && i + 1 < p.length) {
            i++;
            if (p[i] === s[si]) matched = true;
          } else if (p[i + 1] === '-' && i + 2 < p.length && p[i + 2] !== ']') {
            const lo = p[i]!;
            const hi = p[i + 2]!;
            const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
            if (s[si]! >= a && s[si]! <= b) matched = true;
            i += 2;
          } else if (p[i] === s[si]) matched = true;
          i++;
        }
        if (negate) matched = !matched;
        if (!matched) return false;
        pi = i + 1;
        si++;
        continue;
      }
      if (c === '\\' && pi + 1 < p.length) {
        if (p[pi + 1] !== s[si]) return false;
        pi += 2;
        si++;
        continue;
      }
      if (c !== s[si]) return false;
      pi++;
      si++;
    }
    return si === s.length;
  };
  return match(0, 0);
}

const configGet = spec('get', -3, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  // By lower-case name: [the name as answered, its value]. As Redis 7.0 (configGetCommand), a
  // name without glob characters is answered spelled as the client gave it (`MAXMEMORY`), a
  // pattern's matches by their own names, and a parameter asked for twice is answered once.
  const found = new Map<string, [string, string]>();
  for (const patternBytes of args.slice(2)) {
    const pattern = text(patternBytes);
    if (!/[[*?]/.test(pattern)) {
      const name = pattern.toLowerCase();
      const value = state.config.get(name);
      if (value !== undefined && !found.has(name)) found.set(name, [pattern, value]);
      continue;
    }
    for (const [name, value] of state.config) if (!found.has(name) && globMatch(pattern, name)) found.set(name, [name, value]);
  }
  reply.map(found.size);
  for (const [name, value] of found.values()) {
    reply.bulk(name);
    reply.bulk(value);
  }
  done();
});

const configSet = spec('set', -4, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  if (args.length % 2 !== 0) {
    reply.error('ERR syntax error');
    return done();
  }
  // As Redis 7 (configSetCommand): every name is looked up before any value is read, so an
  // unknown name, then a repeated one (as the client spelt it), is the error whatever the values.
  const names = new Set<string>();
  for (let j = 2; j < args.length; j += 2) {
    const name = lower(args[j]!);
    if (!state.config.has(name)) {
      reply.error(quotingError(`ERR Unknown option or number of arguments for CONFIG SET - '${argText(args[j]!)}'`));
      return done();
    }
    if (names.has(name)) {
      reply.error(quotingError(`ERR CONFIG SET failed (possibly related to argument '${argText(args[j]!)}') - duplicate parameter`));
      return done();
    }
    names.add(name);
  }
  // All or nothing, as Redis 7: check every pair on a copy first.
  const before = new Map(state.config);
  for (let j = 2; j < args.length; j += 2) {
    const error = state.setConfig(lower(args[j]!), text(args[j + 1]!));
    if (error !== null) {
      for (const [name, value] of before) state.config.set(name, value);
      state.cacheThresholds();
      reply.error(error);
      return done();
    }
  }
  state.applyToStore();
  reply.ok();
  done();
});

const configResetstat = spec('resetstat', 2, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, _args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  state.resetStats();
  ctx.server.stats.keyspaceHits = 0;
  ctx.server.stats.keyspaceMisses = 0;
  reply.ok();
  done();
});

const configRewrite = spec('rewrite', 2, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (_ctx, _args, reply, done) => {
  reply.error('ERR The server is running without a config file');
  done();
});

const configHelp = helpSpec('CONFIG', [
  'GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>', '    Set the configuration <directive> to <value>.',
  'RESETSTAT', '    Reset statistics reported by the INFO command.',
  'REWRITE', '    Rewrite the configuration file.',
]);

const config = spec('config', -2, [], ['slow'], (_ctx, _args, reply, done) => {
  reply.error('ERR unknown subcommand');
  done();
}, [configGet, configSet, configResetstat, configRewrite, configHelp]);

// ---- DEBUG, WAIT, TIME ----

const debugSleep = spec('sleep', 3, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (_ctx, args, reply, done) => {
  // Redis reads the seconds with atof (garbage is 0) and blocks its whole event loop; we delay
  // only this connection's reply (the node keeps serving everyone else).
  const seconds = Number.parseFloat(text(args[2]!));
  const ms = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  if (ms === 0) {
    reply.ok();
    done();
    return;
  }
  // Node's timers count from the event loop's cached time and can fire a little early: wait out
  // the rest, so the command takes at least what was asked (as Redis's sleep does).
  const until = performance.now() + ms;
  const wake = (): void => {
    const left = until - performance.now();
    if (left > 0) {
      setTimeout(wake, Math.ceil(left));
      return;
    }
    reply.ok();
    done();
  };
  setTimeout(wake, ms);
});

const debugHelp = helpSpec('DEBUG', ['SLEEP <seconds>', '    Stop the server for <seconds>. Decimals allowed.']);

const debug = spec('debug', -2, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (_ctx, _args, reply, done) => {
  reply.error('ERR unknown subcommand');
  done();
}, [debugSleep, debugHelp]);

/** Optional on a connection: the acknowledgements of its last write (set by the keyspace commands). */
interface WriteAcks {
  lastWriteAcks?: number;
}

const wait = spec('wait', 3, ['noscript'], ['slow', 'connection'], (ctx, args, reply, done) => {
  const replicas = parseInteger(args[1]!);
  const timeout = parseInteger(args[2]!);
  if (replicas === null || replicas > 2147483647n || replicas < -2147483648n) reply.error('ERR value is not an integer or out of range');
  else if (timeout === null) reply.error('ERR timeout is not an integer or out of range');
  else if (timeout < 0n) reply.error('ERR timeout is negative');
  else {
    // Shoal writes are acknowledged at the write quorum before the client hears OK, so there is
    // nothing to wait for: WAIT answers how many replicas besides the first acknowledged this
    // connection's last write (Redis counts replicas, not the master), or 0 before any write.
    const acks = (ctx.connection as unknown as WriteAcks).lastWriteAcks ?? 0;
    reply.integer(Math.max(0, acks - 1));
  }
  done();
});

const time = spec('time', 1, ['loading', 'stale', 'fast'], ['fast'], (ctx, _args, reply, done) => {
  // Redis answers gettimeofday's seconds and microseconds; the clock's own microseconds, so the
  // second half is not a whole number of milliseconds.
  const us = ctx.server.nowUs?.() ?? Math.floor(ctx.server.nowMs() * 1000);
  const seconds = Math.floor(us / 1_000_000);
  reply.array(2);
  reply.bulk(String(seconds));
  reply.bulk(String(us - seconds * 1_000_000));
  done();
});

// ---- LATENCY, SLOWLOG ----

const latencyLatest = spec('latest', 2, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, _args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  reply.array(state.latency.size);
  for (const [event, entry] of state.latency) {
    const last = entry.samples[entry.samples.length - 1]!;
    reply.array(4);
    reply.bulk(event);
    reply.integer(last.atSec);
    reply.integer(last.millis);
    reply.integer(entry.maxMillis);
  }
  done();
});

const latencyHistory = spec('history', 3, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  const samples = state.latency.get(text(args[2]!))?.samples ?? [];
  reply.array(samples.length);
  for (const sample of samples) {
    reply.array(2);
    reply.integer(sample.atSec);
    reply.integer(sample.millis);
  }
  done();
});

const latencyReset = spec('reset', -2, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  let count = 0;
  if (args.length === 2) {
    count = state.latency.size;
    state.latency.clear();
  } else {
    for (const event of args.slice(2)) if (state.latency.delete(text(event))) count++;
  }
  reply.integer(count);
  done();
});

const latencyDoctor = spec('doctor', 2, ['admin', 'noscript', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, _args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  const threshold = state.configNumber('latency-monitor-threshold');
  let report: string;
  if (threshold === 0 && state.latency.size === 0) {
    report =
      'I\'m sorry, Dave, I can\'t do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. ' +
      'If we weren\'t in a deep space mission I\'d suggest to take a look at https://redis.io/topics/latency-monitor.\n';
  } else if (state.latency.size === 0) {
    report = 'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep better.\n';
  } else {
    const lines = [...state.latency].map(([event, entry], i) => {
      const average = Math.round(entry.samples.reduce((sum, s) => sum + s.millis, 0) / entry.samples.length);
      return `${i + 1}. ${event}: ${entry.samples.length} latency spikes (average ${average}ms, worst ${entry.maxMillis}ms).`;
    });
    report =
      'Dave, I have observed latency spikes in this Redis instance. You don\'t mind talking about it, do you Dave?\n\n' +
      lines.join('\n') +
      '\n\nIn a Shoal node a slow command usually waits for replicas: check `shoal status` for slow or unreachable members and the replica timeout.\n';
  }
  reply.verbatim('txt', report);
  done();
});

const latencyHelp = helpSpec('LATENCY', [
  'DOCTOR', '    Return a human readable latency analysis report.',
  'HISTORY <event>', '    Return time-latency samples for the <event> class.',
  'LATEST', '    Return the latest latency samples for all events.',
  'RESET [<event> ...]', '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
]);

const latency = spec('latency', -2, [], ['slow'], (_ctx, _args, reply, done) => {
  reply.error('ERR unknown subcommand');
  done();
}, [latencyLatest, latencyHistory, latencyReset, latencyDoctor, latencyHelp]);

const slowlogGet = spec('get', -2, ['admin', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state === null) return done();
  let count = 10;
  if (args.length > 3) {
    reply.error("ERR wrong number of arguments for 'slowlog|get' command");
    return done();
  }
  if (args.length === 3) {
    const n = parseInteger(args[2]!);
    if (n === null || n < -1n) {
      reply.error('ERR count should be greater than or equal to -1');
      return done();
    }
    count = n === -1n ? Infinity : Number(n);
  }
  const entries = state.slowlog.slice(0, Math.min(count, state.slowlog.length));
  reply.array(entries.length);
  for (const entry of entries) {
    reply.array(6);
    reply.integer(entry.id);
    reply.integer(entry.startedAtSec);
    reply.integer(entry.durationMicros);
    reply.array(entry.args.length);
    for (const arg of entry.args) reply.bulk(arg);
    reply.bulk(entry.clientAddress);
    reply.bulk(entry.clientName);
  }
  done();
});

const slowlogLen = spec('len', 2, ['admin', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, _args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state !== null) reply.integer(state.slowlog.length);
  done();
});

const slowlogReset = spec('reset', 2, ['admin', 'loading', 'stale'], ['admin', 'slow', 'dangerous'], (ctx, _args, reply, done) => {
  const state = stateOf(ctx, reply);
  if (state !== null) {
    state.slowlog = [];
    reply.ok();
  }
  done();
});

const slowlogHelp = helpSpec('SLOWLOG', [
  'GET [<count>]', '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN', '    Return the length of the slowlog.',
  'RESET', '    Reset the slowlog.',
]);

const slowlog = spec('slowlog', -2, [], ['slow'], (_ctx, _args, reply, done) => {
  reply.error('ERR unknown subcommand');
  done();
}, [slowlogGet, slowlogLen, slowlogReset, slowlogHelp]);

export const serverCommands: readonly CommandSpec[] = [
  documented(ping, { summary: 'Ping the server', since: '1.0.0', group: 'connection', complexity: 'O(1)', arguments: [{ name: 'message', type: 'string', flags: ['optional'] }] }),
  documented(echo, { summary: 'Echo the given string', since: '1.0.0', group: 'connection', complexity: 'O(1)', arguments: [{ name: 'message', type: 'string' }] }),
  documented(quit, { summary: 'Close the connection', since: '1.0.0', group: 'connection', complexity: 'O(1)' }),
  documented(reset, { summary: 'Reset the connection', since: '6.2.0', group: 'connection', complexity: 'O(1)' }),
  documented(hello, { summary: 'Handshake with Redis', since: '6.0.0', group: 'connection', complexity: 'O(1)', history: [['6.2.0', '`protover` made optional; when called without arguments the command reports the current connection\'s context.']], arguments: [{ name: 'arguments', type: 'block', flags: ['optional'], arguments: [{ name: 'protover', type: 'integer' }, { name: 'username_password', type: 'block', token: 'AUTH', flags: ['optional'], arguments: [{ name: 'username', type: 'string' }, { name: 'password', type: 'string' }] }, { name: 'clientname', type: 'string', token: 'SETNAME', flags: ['optional'] }] }] }),
  documented(auth, { summary: 'Authenticate to the server', since: '1.0.0', group: 'connection', complexity: 'O(N) where N is the number of passwords defined for the user', history: [['6.0.0', 'Added ACL style (username and password).']], arguments: [{ name: 'username', type: 'string', since: '6.0.0', flags: ['optional'] }, { name: 'password', type: 'string' }] }),
  documented(select, { summary: 'Change the selected database for the current connection', since: '1.0.0', group: 'connection', complexity: 'O(1)', arguments: [{ name: 'index', type: 'integer' }] }),
  documented(client, { summary: 'A container for client connection commands', since: '2.4.0', group: 'connection', complexity: 'Depends on subcommand.' }, {
    setname: { summary: 'Set the current connection name', since: '2.6.9', group: 'connection', complexity: 'O(1)', arguments: [{ name: 'connection-name', type: 'string' }] },
    getname: { summary: 'Get the current connection name', since: '2.6.9', group: 'connection', complexity: 'O(1)' },
    id: { summary: 'Returns the client ID for the current connection', since: '5.0.0', group: 'connection', complexity: 'O(1)' },
    info: { summary: 'Returns information about the current client connection.', since: '6.2.0', group: 'connection', complexity: 'O(1)' },
    list: { summary: 'Get the list of client connections', since: '2.4.0', group: 'connection', complexity: 'O(N) where N is the number of client connections', history: [['2.8.12', 'Added unique client `id` field.'], ['5.0.0', 'Added optional `TYPE` filter.'], ['6.0.0', 'Added `user` field.'], ['6.2.0', 'Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.'], ['7.0.0', 'Added `resp`, `multi-mem`, `rbs` and `rbp` fields.'], ['7.0.3', 'Added `ssub` field.']], arguments: [{ name: 'normal_master_replica_pubsub', type: 'oneof', token: 'TYPE', since: '5.0.0', flags: ['optional'], arguments: [{ name: 'normal', type: 'pure-token', token: 'NORMAL' }, { name: 'master', type: 'pure-token', token: 'MASTER' }, { name: 'replica', type: 'pure-token', token: 'REPLICA' }, { name: 'pubsub', type: 'pure-token', token: 'PUBSUB' }] }, { name: 'id', type: 'block', token: 'ID', since: '6.2.0', flags: ['optional'], arguments: [{ name: 'client-id', type: 'integer', flags: ['multiple'] }] }] },
    kill: { summary: 'Kill the connection of a client', since: '2.4.0', group: 'connection', complexity: 'O(N) where N is the number of client connections', history: [['2.8.12', 'Added new filter format.'], ['2.8.12', '`ID` option.'], ['3.2.0', 'Added `master` type in for `TYPE` option.'], ['5.0.0', 'Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility.'], ['6.2.0', '`LADDR` option.']], arguments: [{ name: 'filter', type: 'oneof', arguments: [{ name: 'ip:port', type: 'string', deprecatedSince: '2.8.12' }, { name: 'new-format', type: 'oneof', flags: ['multiple'], arguments: [{ name: 'client-id', type: 'integer', token: 'ID', since: '2.8.12', flags: ['optional'] }, { name: 'normal_master_slave_pubsub', type: 'oneof', token: 'TYPE', since: '2.8.12', flags: ['optional'], arguments: [{ name: 'normal', type: 'pure-token', token: 'NORMAL' }, { name: 'master', type: 'pure-token', token: 'MASTER', since: '3.2.0' }, { name: 'slave', type: 'pure-token', token: 'SLAVE' }, { name: 'replica', type: 'pure-token', token: 'REPLICA', since: '5.0.0' }, { name: 'pubsub', type: 'pure-token', token: 'PUBSUB' }] }, { name: 'username', type: 'string', token: 'USER', flags: ['optional'] }, { name: 'ip:port', type: 'string', token: 'ADDR', flags: ['optional'] }, { name: 'ip:port', type: 'string', token: 'LADDR', since: '6.2.0', flags: ['optional'] }, { name: 'yes/no', type: 'string', token: 'SKIPME', flags: ['optional'] }] }] }] },
    'no-evict': { summary: 'Set client eviction mode for the current connection', since: '7.0.0', group: 'connection', complexity: 'O(1)', arguments: [{ name: 'enabled', type: 'oneof', arguments: [{ name: 'on', type: 'pure-token', token: 'ON' }, { name: 'off', type: 'pure-token', token: 'OFF' }] }] },
    reply: { summary: 'Instruct the server whether to reply to commands', since: '3.2.0', group: 'connection', complexity: 'O(1)', arguments: [{ name: 'on_off_skip', type: 'oneof', arguments: [{ name: 'on', type: 'pure-token', token: 'ON' }, { name: 'off', type: 'pure-token', token: 'OFF' }, { name: 'skip', type: 'pure-token', token: 'SKIP' }] }] },
    setinfo: { summary: 'Set information specific to the client or connection', since: '7.2.0', group: 'connection', complexity: 'O(1)', arguments: [{ name: 'attr', type: 'oneof', arguments: [{ name: 'libname', type: 'string', token: 'LIB-NAME' }, { name: 'libver', type: 'string', token: 'LIB-VER' }] }] },
    tracking: { summary: 'Enable or disable server assisted client side caching support', since: '6.0.0', group: 'connection', complexity: 'O(1). Some options may introduce additional complexity.', arguments: [{ name: 'status', type: 'oneof', arguments: [{ name: 'on', type: 'pure-token', token: 'ON' }, { name: 'off', type: 'pure-token', token: 'OFF' }] }, { name: 'client-id', type: 'integer', token: 'REDIRECT', flags: ['optional'] }, { name: 'prefix', type: 'string', token: 'PREFIX', flags: ['optional', 'multiple', 'multiple_token'] }, { name: 'bcast', type: 'pure-token', token: 'BCAST', flags: ['optional'] }, { name: 'optin', type: 'pure-token', token: 'OPTIN', flags: ['optional'] }, { name: 'optout', type: 'pure-token', token: 'OPTOUT', flags: ['optional'] }, { name: 'noloop', type: 'pure-token', token: 'NOLOOP', flags: ['optional'] }] },
    caching: { summary: 'Instruct the server about tracking or not keys in the next request', since: '6.0.0', group: 'connection', complexity: 'O(1)', arguments: [{ name: 'mode', type: 'oneof', arguments: [{ name: 'yes', type: 'pure-token', token: 'YES' }, { name: 'no', type: 'pure-token', token: 'NO' }] }] },
    trackinginfo: { summary: 'Return information about server assisted client side caching for the current connection', since: '6.2.0', group: 'connection', complexity: 'O(1)' },
    getredir: { summary: 'Get tracking notifications redirection client ID if any', since: '6.0.0', group: 'connection', complexity: 'O(1)' },
    help: { summary: 'Show helpful text about the different subcommands', since: '5.0.0', group: 'connection', complexity: 'O(1)' },
  }),
  documented(command, { summary: 'Get array of Redis command details', since: '2.8.13', group: 'server', complexity: 'O(N) where N is the total number of Redis commands' }, {
    count: { summary: 'Get total number of Redis commands', since: '2.8.13', group: 'server', complexity: 'O(1)' },
    info: { summary: 'Get array of specific Redis command details, or all when no argument is given.', since: '2.8.13', group: 'server', complexity: 'O(N) where N is the number of commands to look up', history: [['7.0.0', 'Allowed to be called with no argument to get info on all commands.']], arguments: [{ name: 'command-name', type: 'string', flags: ['optional', 'multiple'] }] },
    docs: { summary: 'Get array of specific Redis command documentation', since: '7.0.0', group: 'server', complexity: 'O(N) where N is the number of commands to look up', arguments: [{ name: 'command-name', type: 'string', flags: ['optional', 'multiple'] }] },
    list: { summary: 'Get an array of Redis command names', since: '7.0.0', group: 'server', complexity: 'O(N) where N is the total number of Redis commands', arguments: [{ name: 'filterby', type: 'oneof', token: 'FILTERBY', flags: ['optional'], arguments: [{ name: 'module-name', type: 'string', token: 'MODULE' }, { name: 'category', type: 'string', token: 'ACLCAT' }, { name: 'pattern', type: 'pattern', token: 'PATTERN' }] }] },
    help: { summary: 'Show helpful text about the different subcommands', since: '5.0.0', group: 'server', complexity: 'O(1)' },
  }),
  documented(config, { summary: 'A container for server configuration commands', since: '2.0.0', group: 'server', complexity: 'Depends on subcommand.' }, {
    get: { summary: 'Get the values of configuration parameters', since: '2.0.0', group: 'server', complexity: 'O(N) when N is the number of configuration parameters provided', history: [['7.0.0', 'Added the ability to pass multiple pattern parameters in one call']], arguments: [{ name: 'parameter', type: 'block', flags: ['multiple'], arguments: [{ name: 'parameter', type: 'string' }] }] },
    set: { summary: 'Set configuration parameters to the given values', since: '2.0.0', group: 'server', complexity: 'O(N) when N is the number of configuration parameters provided', history: [['7.0.0', 'Added the ability to set multiple parameters in one call.']], arguments: [{ name: 'parameter_value', type: 'block', flags: ['multiple'], arguments: [{ name: 'parameter', type: 'string' }, { name: 'value', type: 'string' }] }] },
    resetstat: { summary: 'Reset the stats returned by INFO', since: '2.0.0', group: 'server', complexity: 'O(1)' },
    rewrite: { summary: 'Rewrite the configuration file with the in memory configuration', since: '2.8.0', group: 'server', complexity: 'O(1)' },
    help: { summary: 'Show helpful text about the different subcommands', since: '5.0.0', group: 'server', complexity: 'O(1)' },
  }),
  documented(infoCommand, { summary: 'Get information and statistics about the server', since: '1.0.0', group: 'server', complexity: 'O(1)', history: [['7.0.0', 'Added support for taking multiple section arguments.']], arguments: [{ name: 'section', type: 'string', flags: ['optional', 'multiple'] }] }),
  documented(debug, { summary: 'A container for debugging commands', since: '1.0.0', group: 'server', complexity: 'Depends on subcommand.', docFlags: ['syscmd'] }, {
    sleep: { summary: 'Delay this connection\'s reply (not the whole server) by the given number of seconds', since: '1.0.0', group: 'server', complexity: 'O(1)', arguments: [{ name: 'seconds', type: 'double' }] },
    help: { summary: 'Show helpful text about the different subcommands', since: '1.0.0', group: 'server', complexity: 'O(1)' },
  }),
  documented(wait, { summary: 'Wait for the synchronous replication of all the write commands sent in the context of the current connection', since: '3.0.0', group: 'generic', complexity: 'O(1)', arguments: [{ name: 'numreplicas', type: 'integer' }, { name: 'timeout', type: 'integer' }] }),
  documented(time, { summary: 'Return the current server time', since: '2.6.0', group: 'server', complexity: 'O(1)' }),
  documented(latency, { summary: 'A container for latency diagnostics commands', since: '2.8.13', group: 'server', complexity: 'Depends on subcommand.' }, {
    latest: { summary: 'Return the latest latency samples for all events.', since: '2.8.13', group: 'server', complexity: 'O(1)' },
    history: { summary: 'Return timestamp-latency samples for the event.', since: '2.8.13', group: 'server', complexity: 'O(1)', arguments: [{ name: 'event', type: 'string' }] },
    reset: { summary: 'Reset latency data for one or more events.', since: '2.8.13', group: 'server', complexity: 'O(1)', arguments: [{ name: 'event', type: 'string', flags: ['optional', 'multiple'] }] },
    doctor: { summary: 'Return a human readable latency analysis report.', since: '2.8.13', group: 'server', complexity: 'O(1)' },
    help: { summary: 'Show helpful text about the different subcommands.', since: '2.8.13', group: 'server', complexity: 'O(1)' },
  }),
  documented(slowlog, { summary: 'A container for slow log commands', since: '2.2.12', group: 'server', complexity: 'Depends on subcommand.' }, {
    get: { summary: 'Get the slow log\'s entries', since: '2.2.12', group: 'server', complexity: 'O(N) where N is the number of entries returned', history: [['4.0.0', 'Added client IP address, port and name to the reply.']], arguments: [{ name: 'count', type: 'integer', flags: ['optional'] }] },
    len: { summary: 'Get the slow log\'s length', since: '2.2.12', group: 'server', complexity: 'O(1)' },
    reset: { summary: 'Clear all entries from the slow log', since: '2.2.12', group: 'server', complexity: 'O(N) where N is the number of entries in the slowlog' },
    help: { summary: 'Show helpful text about the different subcommands', since: '6.2.0', group: 'server', complexity: 'O(1)' },
  }),
];

/**
 * Users and their permissions in Redis 7.0's ACL model: the rule parser (ACL SETUSER's rules, with
 * Redis's error texts), the description (ACL LIST / GETUSER), the pure permission check
 * (`check(user, command, keys)`: null when allowed, else Redis's NOPERM text), and `AclStore`, the
 * set of users as versioned data (last writer wins per user, deletions kept as tombstones) so
 * that every node of a cluster converges on the same users.
 */
import { globMatch, matchesEverything } from '../protocol/glob.ts';
import { timingSafeEqual } from 'node:crypto';
import { hashPassword, hashPasswordAsync, isPasswordHash, isSlowHash, verifyPassword, verifyPasswordSync, type PasswordHash } from './acl-passwords.ts';
import { isToken, tokenHash } from './acl-tokens.ts';
import { VerifiedLogins } from './verified-logins.ts';

/** Redis 7.0's ACL categories (ACL CAT), in its order. */
export const ACL_CATEGORIES: readonly string[] = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo',
  'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

/** One key pattern: `~p` (read and write), `%R~p`, `%W~p`. */
export interface KeyPattern {
  readonly pattern: string;
  readonly read: boolean;
  readonly write: boolean;
}

/** One user, as ACL SETUSER builds it. Plain data (it is persisted and sent to other nodes). */
export interface AclUser {
  readonly name: string;
  enabled: boolean;
  nopass: boolean;
  passwords: PasswordHash[];
  /** Key patterns in the order given; `allkeys` is `{ pattern: '*', read: true, write: true }`. */
  keys: KeyPattern[];
  /** Pub/sub channels: `&*` (all) or none; Shoal has no pub/sub, the flag is kept for ACL LIST. */
  allChannels: boolean;
  /** Command rules in order, starting with `+@all` or `-@all`: `+@read`, `-get`, `+config|get`... */
  commands: string[];
  /**
   * Redis's `sanitize-payload` / `skip-sanitize-payload` flag (how RESTORE checks its payload),
   * shown by ACL LIST and GETUSER as Redis shows it; Shoal has no RESTORE, so it changes nothing.
   * Absent: neither (a new user; `reset` sets `sanitize-payload`, as in Redis 7.0).
   */
  payload?: 'sanitize-payload' | 'skip-sanitize-payload';
  /**
   * Which user of this name: the version (as text) of the ACL SETUSER that created it. A user
   * deleted and created again is another user, and the connections the first one authenticated
   * must not run as the second (AclStore.loggedIn). Absent for the built-in default user and for
   * users persisted before it existed.
   */
  since?: string;
}

/** What the rule parser needs to know about the commands of this server. */
export interface AclCatalog {
  /** Whether `name` (lower case; `parent|sub` for a subcommand) is a command. */
  isCommand(name: string): boolean;
}

/** The command being checked: its full name (`get`, `acl|whoami`), categories, key access. */
export interface AclCommand {
  readonly name: string;
  readonly categories: readonly string[];
}

/** How a command uses a key: read its value, write it, both, or neither (EXISTS, TYPE...). */
export type KeyAccess = 'r' | 'w' | 'rw' | 'any';

export interface KeyUse {
  readonly key: Uint8Array | string;
  readonly access: KeyAccess;
}

export function newUser(name: string): AclUser {
  return { name, enabled: false, nopass: false, passwords: [], keys: [], allChannels: false, commands: ['-@all'] };
}

/** Redis's default user: `on nopass ~* &* +@all`. */
export function defaultUser(): AclUser {
  return { name: 'default', enabled: true, nopass: true, passwords: [], keys: [{ pattern: '*', read: true, write: true }], allChannels: true, commands: ['+@all'] };
}

export function cloneUser(user: AclUser): AclUser {
  return { ...user, passwords: [...user.passwords], keys: user.keys.map((k) => ({ ...k })), commands: [...user.commands] };
}

/**
 * Applies one rule to `user` (in place). Returns null, or the reason as Redis words it after
 * `ERR Error in ACL SETUSER modifier '<rule>': `.
 */
export function applyRule(user: AclUser, rule: string, catalog?: AclCatalog): string | null {
  const lower = rule.toLowerCase();
  switch (lower) {
    case 'on': user.enabled = true; return null;
    case 'off': user.enabled = false; return null;
    case 'nopass': user.nopass = true; user.passwords = []; return null;
    case 'resetpass': user.nopass = false; user.passwords = []; return null;
    case 'allkeys': case '~*': user.keys = [{ pattern: '*', read: true, write: true }]; return null;
    case 'resetkeys': user.keys = []; return null;
    case 'allchannels': case '&*': user.allChannels = true; return null;
    case 'resetchannels': user.allChannels = false; return null;
    case 'allcommands': case '+@all': user.commands = ['+@all']; return null;
    case 'nocommands': case '-@all': user.commands = ['-@all']; return null;
    case 'sanitize-payload': user.payload = 'sanitize-payload'; return null;
    case 'skip-sanitize-payload': user.payload = 'skip-sanitize-payload'; return null;
    case 'reset': {
      const fresh = newUser(user.name);
      Object.assign(user, fresh, { payload: 'sanitize-payload' });
      return null;
    }
    default: break;
  }
  const first = rule[0];
  if (first === '>') {
    const hash = hashPassword(rule.slice(1));
    user.passwords.push(hash);
    user.nopass = false;
    return null;
  }
  if (first === '<') {
    const password = rule.slice(1);
    const index = user.passwords.findIndex((h) => verifyPasswordSync(password, h));
    if (index < 0) return 'The password you are trying to remove from the user does not exist';
    user.passwords.splice(index, 1);
    return null;
  }
  if (first === '#') {
    const hash = rule.slice(1);
    if (!isPasswordHash(hash)) return 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
    if (!user.passwords.includes(hash)) user.passwords.push(hash);
    user.nopass = false;
    return null;
  }
  if (first === '!') {
    const hash = rule.slice(1);
    if (!isPasswordHash(hash)) return 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
    const index = user.passwords.indexOf(hash);
    if (index < 0) return 'The password you are trying to remove from the user does not exist';
    user.passwords.splice(index, 1);
    return null;
  }
  if (first === '~' || first === '%') {
    let read = true;
    let write = true;
    let pattern: string;
    if (first === '%') {
      const tilde = rule.indexOf('~');
      if (tilde < 2) return 'Syntax error';
      read = false;
      write = false;
      for (const c of rule.slice(1, tilde)) {
        if (c === 'R' || c === 'r') read = true;
        else if (c === 'W' || c === 'w') write = true;
        else return 'Syntax error';
      }
      pattern = rule.slice(tilde + 1);
    } else {
      pattern = rule.slice(1);
    }
    if (user.keys.some((k) => k.pattern === '*' && k.read && k.write)) {
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    }
    if (pattern === '*' && read && write) {
      user.keys = [{ pattern, read, write }];
      return null;
    }
    const existing = user.keys.findIndex((k) => k.pattern === pattern);
    if (existing >= 0) {
      const old = user.keys[existing]!;
      user.keys[existing] = { pattern, read: read || old.read, write: write || old.write };
    } else {
      user.keys.push({ pattern, read, write });
    }
    return null;
  }
  if (first === '&') {
    // Channel patterns other than '*': accepted and ignored (Shoal has no pub/sub).
    return null;
  }
  if (first === '+' || first === '-') {
    const body = lower.slice(1);
    if (body.startsWith('@')) {
      if (!ACL_CATEGORIES.includes(body.slice(1))) return 'Unknown command or category name in ACL';
      user.commands.push(`${first}${body}`);
      return null;
    }
    if (body.length === 0 || (catalog !== undefined && !catalog.isCommand(body))) return 'Unknown command or category name in ACL';
    // As Redis 7.0: a later rule for the same command replaces the earlier one in the description.
    user.commands = user.commands.filter((r, i) => i === 0 || r.slice(1) !== body);
    user.commands.push(`${first}${body}`);
    return null;
  }
  return 'Syntax error';
}

/**
 * ACL SETUSER: applies `rules` in order to a copy of `existing` (or a new user) and returns the
 * result, or Redis's whole error text for the first bad rule, named as in `shown` (the rules as
 * the client gave them, before prepareRules), and the user is then unchanged.
 */
export function setUser(existing: AclUser | undefined, name: string, rules: readonly string[], catalog?: AclCatalog, shown: readonly string[] = rules): AclUser | string {
  if (/[\s]/.test(name) || name.length === 0) return "ERR Usernames can't contain spaces or null characters";
  const user = existing === undefined ? newUser(name) : cloneUser(existing);
  for (const [i, rule] of rules.entries()) {
    const error = applyRule(user, rule, catalog);
    if (error !== null) return `ERR Error in ACL SETUSER modifier '${shown[i]}': ${error}`;
  }
  return user;
}

/**
 * ACL SETUSER's rules with the clear passwords dealt with off the event loop (scrypt on the thread
 * pool, ~50 ms each), so that a server can prepare the rules and then apply them without stopping
 * its other clients: `>pass` becomes `#<its scrypt hash>`, and `<pass` becomes `!<the hash it
 * matches>` among `existing`'s passwords and those added before it in `rules` (or a hash that
 * matches nothing, for Redis's "does not exist" error). Applied to `existing`, the result is what
 * the original rules give; apply it with the original rules as `shown`, for the error texts.
 */
export async function prepareRules(existing: AclUser | undefined, rules: readonly string[]): Promise<string[]> {
  const added: PasswordHash[] = [];
  const prepared: string[] = [];
  for (const rule of rules) {
    if (rule[0] === '>') {
      const hash = await hashPasswordAsync(rule.slice(1));
      added.push(hash);
      prepared.push(`#${hash}`);
    } else if (rule[0] === '<') {
      let match = NO_SUCH_HASH;
      for (const hash of [...(existing?.passwords ?? []), ...added]) {
        if (await verifyPassword(rule.slice(1), hash)) {
          match = hash;
          break;
        }
      }
      prepared.push(`!${match}`);
    } else {
      prepared.push(rule);
    }
  }
  return prepared;
}

/** A well-formed hash no password has (the SHA-256 of nothing known): `<pass` that matched nothing. */
const NO_SUCH_HASH = '0'.repeat(64);

/** The user's flags as ACL GETUSER and ACL LIST show them, in Redis 7.0's order (ACLUserFlags). */
export function describeFlags(user: AclUser): string[] {
  const flags = [user.enabled ? 'on' : 'off'];
  if (user.nopass) flags.push('nopass');
  if (user.payload === 'skip-sanitize-payload') flags.push('skip-sanitize-payload');
  if (user.payload === 'sanitize-payload') flags.push('sanitize-payload');
  return flags;
}

/**
 * ACL LIST's line for a user (Redis 7.0's order: flags, passwords, keys, channels, commands).
 * `commands`: this server's commands, to describe the command rules as Redis does
 * (describeCommandRules); absent, the rules as they were given.
 */
export function describeUser(user: AclUser, commands?: readonly AclCommand[]): string {
  const parts = [`user ${user.name}`, ...describeFlags(user)];
  for (const hash of user.passwords) parts.push(`#${hash}`);
  const keys = describeKeys(user);
  if (keys !== '') parts.push(keys);
  parts.push(user.allChannels ? '&*' : 'resetchannels');
  parts.push(commands === undefined ? user.commands.join(' ') : describeCommandRules(user, commands));
  return parts.join(' ');
}

/**
 * The user's command rules as Redis 7.0 describes them (acl.c, ACLDescribeSelectorCommandRules):
 * not the rules as given but the shortest Redis finds for what they allow. `+@all` or `-@all`
 * first (whether commands added later are allowed), then, greedily, the category that covers the
 * most commands while changing the fewest the wrong way, as long as it covers more than it
 * spoils; then single commands (`+get`, `-client|kill`) for what the categories left different.
 * `commands` are this server's commands and subcommands (`parent|sub`), in table order: Redis
 * counts over its own command table, so where Shoal has fewer commands in a category the choice
 * can differ (docs/REDIS.md), and Redis lists single commands in its hash table's order, which
 * changes from one redis-server process to the next.
 */
export function describeCommandRules(user: AclUser, commands: readonly AclCommand[]): string {
  const allowed = commands.map((c) => commandAllowed(user, c));
  const additive = user.commands[0] !== '+@all';
  const rules = [additive ? '-@all' : '+@all'];
  // What the rules so far allow, and the user's bits with each category taken turned the other way.
  const described = commands.map(() => !additive);
  const left = [...allowed];
  // Each category's commands (by index), worked out once: the loop below counts them up to 21 times.
  const members = new Map<string, number[]>(ACL_CATEGORIES.map((category) => [category, []]));
  commands.forEach((c, i) => {
    for (const category of c.categories) members.get(category)?.push(i);
  });
  const taken = new Set<string>();
  for (;;) {
    let best: string | null = null;
    let fewestWrong = Infinity;
    let mostRight = 0;
    for (const category of ACL_CATEGORIES) {
      if (taken.has(category)) continue;
      let right = 0;
      let wrong = 0;
      for (const i of members.get(category)!) {
        if (left[i] === additive) right++;
        else wrong++;
      }
      if (right > wrong && (wrong < fewestWrong || (wrong === fewestWrong && right > mostRight))) {
        best = category;
        fewestWrong = wrong;
        mostRight = right;
      }
    }
    if (best === null) break;
    taken.add(best);
    rules.push(`${additive ? '+' : '-'}@${best}`);
    for (const i of members.get(best)!) {
      described[i] = additive;
      left[i] = !additive;
    }
  }
  // Single commands; a parent's rule covers its subcommands (Redis's ACLChangeSelectorPerm).
  commands.forEach((c, i) => {
    if (allowed[i] === described[i]) return;
    rules.push(`${allowed[i] ? '+' : '-'}${c.name}`);
    described[i] = allowed[i]!;
    if (c.name.includes('|')) return;
    commands.forEach((sub, j) => {
      if (sub.name.startsWith(`${c.name}|`)) described[j] = allowed[i]!;
    });
  });
  return rules.join(' ');
}

export function describeKeys(user: AclUser): string {
  return user.keys.map((k) => `${k.read && k.write ? '' : k.read ? '%R' : '%W'}~${k.pattern}`).join(' ');
}

/** Whether a command's rules allow `command` (replayed in order, as Redis builds its bitmap). */
export function commandAllowed(user: AclUser, command: AclCommand): boolean {
  const parent = command.name.includes('|') ? command.name.slice(0, command.name.indexOf('|')) : null;
  let allowed = false;
  for (const rule of user.commands) {
    const grant = rule[0] === '+';
    const body = rule.slice(1);
    if (body === '@all') allowed = grant;
    else if (body.startsWith('@')) {
      if (command.categories.includes(body.slice(1))) allowed = grant;
    } else if (body === command.name || body === parent) {
      allowed = grant;
    }
  }
  return allowed;
}

/** Whether the user's key patterns allow `access` to `key`. */
export function keyAllowed(user: AclUser, key: Uint8Array | string, access: KeyAccess): boolean {
  const needRead = access === 'r' || access === 'rw';
  const needWrite = access === 'w' || access === 'rw';
  let read = false;
  let write = false;
  for (const k of user.keys) {
    if ((needRead && !read && k.read) || (needWrite && !write && k.write) || (!needRead && !needWrite)) {
      // `~*` (allkeys) matches without matching, as in Redis: even the empty key, which Redis's glob does not match.
      if (!matchesEverything(k.pattern) && !globMatch(k.pattern, key)) continue;
      if (!needRead && !needWrite) return true;
      if (k.read) read = true;
      if (k.write) write = true;
      if ((!needRead || read) && (!needWrite || write)) return true;
    }
  }
  return false;
}

/**
 * Which keys `user` may `access`, as a test for filtering a stream of key names (invalidations)
 * without a glob per key where none is needed: null when a `*` pattern grants the access (every
 * key passes: nothing to check, the common case), else a predicate. A missing user (deleted, or
 * the connection never authenticated) passes no key.
 */
export function keyFilter(user: AclUser | undefined, access: KeyAccess): ((key: string) => boolean) | null {
  if (user === undefined) return () => false;
  const everything = user.keys.filter((k) => matchesEverything(k.pattern));
  const covered =
    access === 'any'
      ? everything.length > 0
      : (access === 'w' || everything.some((k) => k.read)) && (access === 'r' || everything.some((k) => k.write));
  return covered ? null : (key) => keyAllowed(user, key, access);
}

/**
 * What reading a node's own view needs (the admin port, the client port's `status`): what `INFO`
 * needs in Redis, since it shows the same (members, addresses, counters, top key prefixes).
 */
export const ADMIN_ACCESS: AclCommand = { name: 'info', categories: ['admin', 'slow', 'dangerous'] };

export const NOPERM_KEYS = 'NOPERM this user has no permissions to access one of the keys used as arguments';

export function nopermCommand(name: string): string {
  return `NOPERM this user has no permissions to run the '${name}' command`;
}

/**
 * The permission check: null when `user` may run `command` on `keys`, else Redis 7.0's NOPERM
 * text. A disabled or missing user may run nothing.
 */
export function check(user: AclUser | undefined, command: AclCommand, keys: readonly KeyUse[] = []): string | null {
  if (user === undefined || !commandAllowed(user, command)) return nopermCommand(command.name);
  for (const use of keys) if (!keyAllowed(user, use.key, use.access)) return NOPERM_KEYS;
  return null;
}

// ---------------------------------------------------------------------------------------------
// The store: users as versioned data.

/** A version: wall time, a counter for changes within one ms, and the node that made it. */
export interface AclVersion {
  readonly wallMs: number;
  readonly counter: number;
  readonly node: string;
}

export function compareVersions(a: AclVersion, b: AclVersion): number {
  if (a.wallMs !== b.wallMs) return a.wallMs - b.wallMs;
  if (a.counter !== b.counter) return a.counter - b.counter;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** One user's entry: the user, or null for a deletion (a tombstone), at a version. */
export interface AclEntry {
  readonly name: string;
  readonly user: AclUser | null;
  readonly version: AclVersion;
}

/** The whole state, as persisted and exchanged between nodes. */
export interface AclSnapshot {
  readonly format: 1;
  readonly entries: AclEntry[];
}

/** Why AUTH failed, for the log and the counters (never the password). */
export type AuthResult = { ok: true; user: AclUser } | { ok: false; error: string };

export const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

/**
 * The users of one node. Changes made here get a version from `clock` and are reported to the
 * listeners (persistence, replication); `merge` takes other nodes' entries, newest version wins.
 */
export class AclStore {
  private readonly entries = new Map<string, AclEntry>();
  private readonly listeners: ((changed: AclEntry[]) => void)[] = [];
  private last: AclVersion;

  constructor(
    private readonly nodeId: string,
    private readonly nowMs: () => number,
    /** Validates `+command` rules; set by the RESP listener from its command table when absent. */
    public catalog?: AclCatalog,
    /** Logins that passed scrypt (src/security/verified-logins.ts); a user's go when the user changes. */
    private readonly verifiedLogins = new VerifiedLogins(),
  ) {
    this.last = { wallMs: 0, counter: 0, node: nodeId };
  }

  /** Called with the entries that changed (locally or by merge). */
  onChange(listener: (changed: AclEntry[]) => void): void {
    this.listeners.push(listener);
  }

  /** The user named `name`; `default` exists unless it was deleted by a merge (it cannot be here). */
  get(name: string): AclUser | undefined {
    const entry = this.entries.get(name);
    if (entry === undefined) return name === 'default' ? DEFAULT_USER : undefined;
    return entry.user ?? undefined;
  }

  /**
   * The user a connection authenticated as (`name`, and the `since` of the user it authenticated
   * as), or undefined once that user was deleted: also when a user of the same name was created
   * since, whose password the connection never gave.
   */
  loggedIn(name: string, since: string | undefined): AclUser | undefined {
    const user = this.get(name);
    return user === undefined || user.since !== since ? undefined : user;
  }

  /** User names, sorted as ACL USERS lists them. */
  names(): string[] {
    const names = new Set<string>(['default']);
    for (const [name, entry] of this.entries) {
      if (entry.user === null) names.delete(name);
      else names.add(name);
    }
    return [...names].sort();
  }

  users(): AclUser[] {
    return this.names().map((n) => this.get(n)!);
  }

  /** Whether anyone must authenticate: the default user has a password or is off. */
  get requiresAuth(): boolean {
    const d = this.get('default');
    return d === undefined || !d.enabled || !d.nopass;
  }

  /** Whether any enabled user has a password. */
  get anyPassword(): boolean {
    return this.users().some((u) => u.enabled && u.passwords.length > 0);
  }

  /** ACL SETUSER: null when done, else Redis's error text (nothing changed). `shown`: see setUser. */
  setUser(name: string, rules: readonly string[], shown: readonly string[] = rules): string | null {
    const existing = this.get(name);
    const result = setUser(existing, name, rules, this.catalog, shown);
    if (typeof result === 'string') return result;
    const version = this.nextVersion();
    if (existing === undefined) result.since = `${version.wallMs}.${version.counter}.${version.node}`;
    this.put({ name, user: result, version });
    return null;
  }

  /**
   * As setUser, at the lowest version there is: every change made anywhere in the cluster
   * replaces it when it arrives, and it replaces only the built-in user of a store that never had
   * one. For what a node sets on itself at every start (src/daemon/default-password.ts), so that
   * nodes starting with the same setting add no version each and override nothing the cluster decided.
   */
  setUserBeneath(name: string, rules: readonly string[], shown: readonly string[] = rules): string | null {
    const existing = this.get(name);
    const result = setUser(existing, name, rules, this.catalog, shown);
    if (typeof result === 'string') return result;
    const version: AclVersion = { wallMs: 0, counter: 0, node: this.nodeId };
    if (existing === undefined) result.since = `${version.wallMs}.${version.counter}.${version.node}`;
    this.put({ name, user: result, version });
    return null;
  }

  /** The version of `name`'s entry, or null for a built-in default user that no one has changed. */
  versionOf(name: string): AclVersion | null {
    return this.entries.get(name)?.version ?? null;
  }

  /** ACL DELUSER: how many existed; `default` cannot be removed (Redis's error). */
  delUsers(names: readonly string[]): number | string {
    if (names.includes('default')) return "ERR The 'default' user cannot be removed";
    let removed = 0;
    for (const name of names) {
      if (this.get(name) === undefined) continue;
      this.put({ name, user: null, version: this.nextVersion() });
      removed++;
    }
    return removed;
  }

  /** AUTH / HELLO AUTH: the user when `password` is one of theirs (or they are nopass) and they are on. */
  async authenticate(name: string, password: Uint8Array | string): Promise<AuthResult> {
    const user = this.get(name);
    if (user === undefined || !user.enabled) return { ok: false, error: WRONGPASS };
    if (user.nopass) return { ok: true, user };
    // Remembered logins first (one HMAC each), so a known password costs no scrypt at all.
    for (const hash of user.passwords) if (this.verifiedLogins.has(name, password, hash)) return { ok: true, user };
    for (const hash of user.passwords) {
      const slow = (): Promise<boolean> => verifyPassword(password, hash);
      if (await (isSlowHash(hash) ? this.verifiedLogins.verify(name, password, hash, slow) : slow())) return { ok: true, user };
    }
    return { ok: false, error: WRONGPASS };
  }

  /**
   * A bearer token (src/security/acl-tokens.ts) without a user name: the enabled user holding its
   * hash among their passwords. With `name`, that user only.
   */
  authenticateToken(token: string, name?: string): AuthResult {
    if (!isToken(token)) return { ok: false, error: WRONGPASS };
    const digest = Buffer.from(tokenHash(token), 'hex');
    for (const user of name === undefined ? this.users() : [this.get(name)]) {
      if (user === undefined || !user.enabled) continue;
      for (const hash of user.passwords) {
        if (/^[0-9a-f]{64}$/.test(hash) && timingSafeEqual(Buffer.from(hash, 'hex'), digest)) return { ok: true, user };
      }
    }
    return { ok: false, error: WRONGPASS };
  }

  /** Every entry (tombstones included), for persistence and anti-entropy. */
  snapshot(): AclSnapshot {
    return { format: 1, entries: [...this.entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  }

  /** A digest of the state: equal digests mean equal states. */
  digest(): string {
    return this.snapshot().entries.map((e) => `${e.name}@${e.version.wallMs}.${e.version.counter}.${e.version.node}`).join(',');
  }

  /** Takes the entries that are newer than ours; returns those taken (and tells the listeners). */
  merge(entries: readonly AclEntry[]): AclEntry[] {
    const taken: AclEntry[] = [];
    for (const entry of entries) {
      if (!validEntry(entry)) continue;
      const mine = this.entries.get(entry.name);
      if (mine !== undefined && compareVersions(mine.version, entry.version) >= 0) continue;
      if (entry.name === 'default' && entry.user === null) continue;
      this.entries.set(entry.name, entry);
      this.verifiedLogins.forget(entry.name);
      this.observe(entry.version);
      taken.push(entry);
    }
    if (taken.length > 0) for (const l of this.listeners) l(taken);
    return taken;
  }

  /** Loads a persisted snapshot (at start), without telling the listeners. */
  load(snapshot: AclSnapshot): void {
    for (const entry of snapshot.entries) {
      if (!validEntry(entry)) continue;
      this.entries.set(entry.name, entry);
      this.observe(entry.version);
    }
  }

  private put(entry: AclEntry): void {
    this.entries.set(entry.name, entry);
    this.verifiedLogins.forget(entry.name);
    for (const l of this.listeners) l([entry]);
  }

  private nextVersion(): AclVersion {
    const now = this.nowMs();
    const version = now > this.last.wallMs ? { wallMs: now, counter: 0, node: this.nodeId } : { wallMs: this.last.wallMs, counter: this.last.counter + 1, node: this.nodeId };
    this.last = version;
    return version;
  }

  private observe(version: AclVersion): void {
    if (compareVersions(version, this.last) > 0) this.last = { wallMs: version.wallMs, counter: version.counter, node: this.nodeId };
  }
}

const DEFAULT_USER: AclUser = defaultUser();

/** Entries from disk or the network are checked before use. */
function validEntry(entry: unknown): entry is AclEntry {
  if (typeof entry !== 'object' || entry === null) return false;
  const e = entry as Partial<AclEntry>;
  if (typeof e.name !== 'string' || typeof e.version !== 'object' || e.version === null) return false;
  const v = e.version;
  if (typeof v.wallMs !== 'number' || typeof v.counter !== 'number' || typeof v.node !== 'string') return false;
  if (e.user === null) return true;
  const u = e.user as Partial<AclUser> | undefined;
  return (
    typeof u === 'object' && u.name === e.name && typeof u.enabled === 'boolean' && typeof u.nopass === 'boolean' &&
    Array.isArray(u.passwords) && u.passwords.every((p) => typeof p === 'string' && isPasswordHash(p)) &&
    Array.isArray(u.keys) && u.keys.every((k) => typeof k?.pattern === 'string') && Array.isArray(u.commands) &&
    u.commands.every((c) => typeof c === 'string') && (u.since === undefined || typeof u.since === 'string') &&
    (u.payload === undefined || u.payload === 'sanitize-payload' || u.payload === 'skip-sanitize-payload')
  );
}

/** Commands that read and write their keys' values (Redis 7.0 key specs with ACCESS and a write flag). */
const READ_WRITE = new Set(['incr', 'decr', 'incrby', 'decrby', 'incrbyfloat', 'getset', 'getdel', 'getex', 'rename', 'renamenx', 'copy']);
/** Commands that only look at a key's existence or metadata: either permission suffices. */
const EITHER = new Set(['exists', 'type', 'touch', 'strlen', 'object', 'object|encoding', 'object|freq', 'object|idletime', 'object|refcount']);

/**
 * How command `name` (with `categories`) uses its keys, as Redis 7.0's key specs make ACLs check
 * them: @write commands need write permission, @read ones read, and the exceptions above.
 * `withGet`: SET ... GET (it also reads).
 */
export function keyAccessFor(name: string, categories: readonly string[], withGet = false): KeyAccess {
  if (READ_WRITE.has(name) || (name === 'set' && withGet)) return 'rw';
  if (EITHER.has(name)) return 'any';
  if (categories.includes('write')) return 'w';
  return 'r';
}

/** The SDK's operations as the ACL sees them: a command name and Redis categories. */
export const SDK_OPERATIONS: Readonly<Record<string, { command: AclCommand; access: KeyAccess }>> = {
  get: { command: { name: 'get', categories: ['read', 'string', 'fast'] }, access: 'r' },
  set: { command: { name: 'set', categories: ['write', 'string', 'slow'] }, access: 'w' },
  delete: { command: { name: 'del', categories: ['keyspace', 'write', 'slow'] }, access: 'w' },
  rmw: { command: { name: 'set', categories: ['write', 'string', 'slow'] }, access: 'rw' },
};

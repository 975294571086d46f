/**
 * The daemon's configuration, read against the option schema (options.ts) from (highest
 * precedence first) command-line flags, `SHOAL_*` environment variables, a JSON config file
 * (`--config`), and the schema's defaults. Every error names the option and where its value came
 * from (`--port`, `SHOAL_PORT`, `"port" in FILE`) and is a ConfigError: the daemon prints it and
 * exits with status 2.
 *
 * Flags arrive here as raw text (src/cli/start.ts splits the command line): the daemon, not the
 * CLI, knows what its values mean.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { advertisableHostProblem, parseHostPort } from './seeds.ts';
import { parseAtRestKeys, UNKEYED, type AtRestKeys } from '../security/sealed-file.ts';
import { parseGossipKeys } from '../security/keyring.ts';
import { parseAllowedOrigins } from '../security/origins.ts';
import type { ClientAuth, ListenerTls } from '../security/tls.ts';
import { CLIENT_ENV_VARIABLES, DAEMON_OPTIONS, PORT_OFFSETS, SECRET_ENV_VARIABLES, envName, isOptionName, OPTION_NAMES, optionSpec, type OptionName, type OptionSpec } from './options.ts';
import { parseBytes, parseDuration, UnitSyntaxError } from './units.ts';

export interface DaemonConfig {
  name: string;
  cluster: string;
  /** Where both ports listen. */
  host: string;
  /** What other nodes and clients are told to dial (--advertise-host, else --host). */
  advertiseHost: string;
  port: number;
  peerPort: number;
  /** The Redis protocol listener's port; 0: no such listener. */
  respPort: number;
  /** HTTP admin port (src/admin); 0: off. */
  adminPort: number;
  /** HOST:PORT as given; names among them are resolved by seeds.ts. */
  seeds: string[];
  zone: string;
  maxMemory: number;
  /** --eviction-policy: the store's policy ('default' is W-TinyLFU). */
  evictionPolicy: 'default' | 'lru' | 'lfu' | 'noeviction';
  /** --hot-key-alert-rate: ops/s per key on one node (0: alerts off). */
  hotKeyAlertRate: number;
  /** --health-routing: reads route around demoted replicas. */
  healthRouting: boolean;
  /** --auto-drain: the node drains itself when it predicts its own failure. */
  autoDrain: boolean;
  replicas: number;
  readQuorum: number;
  writeQuorum: number;
  replicaTimeoutMs: number;
  replicaBytesPerSecond: number;
  partitions: number;
  gossipProfile: 'lan' | 'wan' | 'local';
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'json' | 'pretty';
  /** --slow-log-threshold in ms; null for off. */
  slowLogThresholdMs: number | null;
  shutdownTimeoutMs: number;
  /** What a stop signal does (--stop-mode): leave the cluster, or stop for a restart without leaving. */
  stopMode: 'leave' | 'restart';
  /** The disk tier (--disk-dir, absolute), or null when off. */
  disk: { dir: string; bytes: number; writeBudgetBytesPerSecond: number } | null;
  /** Absolute path of the node's data directory (created at start). */
  dataDir: string;
  /** The keys files in dataDir are sealed with (UNKEYED when none is configured). */
  atRestKeys: AtRestKeys;
  /** Where atRestKeys came from, for the log: a file, the environment, or none. */
  atRestKeySource: string;
  /** Keys from --gossip-key-file (the first is the primary), or null: see src/daemon/gossip-keyring.ts. */
  gossipKeys: Uint8Array[] | null;
  /** Where gossipKeys came from, for the log. */
  gossipKeySource: string;
  /** What one client can make the node hold or do (--max-key-size ... --max-request-rate). */
  limits: ClientLimits;
  /** --default-password-file: the default user's password (its bytes) and the file it came from, or null. */
  defaultPassword: { password: Uint8Array; path: string } | null;
  /** --insecure: listen on a non-loopback host even while anyone may connect as `default`. */
  insecure: boolean;
  /** --allowed-origins, normalised (security/origins.ts); null when not given. */
  allowedOrigins: string[] | null;
  /** --stats-prefix-delimiter: where a key's prefix ends in `shoal stats`; '' for no prefix table. */
  statsPrefixDelimiter: string;
  /** Each listener's TLS files, or null where TLS is off (security/tls.ts loads and reloads them). */
  tls: { client: ListenerTls | null; resp: ListenerTls | null; peer: ListenerTls | null };
}

/** The client listeners' limits (options.ts, "limits"; docs/SECURITY.md). */
export interface ClientLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  maxFrameBytes: number;
  maxBatchRequests: number;
  /** SDK: requests in flight per connection. */
  maxInFlight: number;
  /** RESP: commands unanswered per connection. */
  maxPipeline: number;
  maxUnreadReplyBytes: number;
  respMaxUnreadReplyBytes: number;
  /** --resp-output-buffer-limit; 0: none. */
  respOutputBufferLimitBytes: number;
  /** RESP: arguments of one command (the command name counts). */
  respMaxArguments: number;
  /** Per listener, SDK and RESP. */
  maxClients: number;
  /** The admin port's. */
  adminMaxClients: number;
  /** Per listener and remote address; 0: none. */
  maxClientsPerAddress: number;
  /** 0: never. */
  idleTimeoutMs: number;
  /** Per connection; 0: none. */
  maxRequestRate: number;
  /** Per ACL user over all its connections to this node; 0: none. */
  maxUserRequestRate: number;
}

/** A configuration problem: the daemon prints it and exits with status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ConfigSources {
  /** Flags as given on the command line, by option name, values as raw text. */
  flags: Readonly<Record<string, string>>;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (the default --log-format). */
  isTerminal?: boolean;
}

type Value = string | number | string[];

/** A value with the place it came from, so a later cross-option check can still name that place. */
interface Given {
  value: Value;
  where: string;
}

/** Where a value came from, in the user's terms: `--port`, `SHOAL_PORT`, `"port" in FILE`. */
const where = {
  flag: (name: string) => `--${name}`,
  env: (name: string) => envName(name),
  file: (name: string, path: string) => `"${name}" in ${path}`,
};

/** Reads the options from every source, checks them, and fills in defaults. */
export function resolveConfig(sources: ConfigSources): DaemonConfig {
  const fromFlags = readFlags(sources.flags);
  const fromEnv = readEnv(sources.env);
  const configGiven = fromFlags.config ?? fromEnv.config;
  const fromFile = configGiven === undefined ? {} : readConfigFile(configGiven.value as string, configGiven.where);
  return validate({ ...fromFile, ...fromEnv, ...fromFlags }, sources.isTerminal ?? false, sources.env);
}

/**
 * Reads one option's text (a flag, a variable, a file value, a default) into its value and checks
 * it against the schema's bounds; `where` names the source in the error.
 */
export function parseOption(name: OptionName, text: string, where: string): Value {
  const spec = optionSpec(name);
  switch (spec.kind) {
    case 'string':
      if (spec.pattern && !spec.pattern.test(text)) throw new ConfigError(`${where} "${text}" may hold only ${spec.patternText}`);
      return text;
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'choice':
      if (!spec.choices!.includes(text)) throw new ConfigError(`${where} must be one of ${spec.choices!.join(', ')}, not "${text}"`);
      return text;
    case 'integer': {
      const [min, max] = [Number(spec.min), Number(spec.max)];
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${where} takes a number from ${min} to ${max}, not "${text}"`);
      // Digits only: Number() would also read 1e4, 0x2710 or 10000.0 as 10000, which no port or count is written as.
      if (!/^\d+$/.test(text.trim())) throw new ConfigError(`${where} must be a whole number from ${min} to ${max} in plain digits, not ${text}`);
      if (n < min || n > max) throw new ConfigError(`${where} must be a whole number from ${min} to ${max}, not ${text}`);
      return n;
    }
    case 'duration':
    case 'bytes': {
      const read = spec.kind === 'duration' ? parseDuration : parseBytes;
      let value: number;
      try {
        value = read(text);
      } catch (e) {
        if (!(e instanceof UnitSyntaxError)) throw e;
        throw new ConfigError(`${where}: ${e.message}`);
      }
      if ((spec.min !== undefined && value < read(spec.min)) || (spec.max !== undefined && value > read(spec.max))) {
        throw new ConfigError(`${where} must be ${spec.max === undefined ? `at least ${spec.min}` : `from ${spec.min} to ${spec.max}`}, not ${text}`);
      }
      return value;
    }
  }
}

function readFlags(flags: Readonly<Record<string, string>>): Partial<Record<OptionName, Given>> {
  const out: Partial<Record<OptionName, Given>> = {};
  for (const [name, text] of Object.entries(flags)) {
    // The command line was split against the same schema, so an unknown name is a bug there.
    if (!isOptionName(name)) throw new ConfigError(`unknown option --${name}`);
    out[name] = { value: parseOption(name, text, where.flag(name)), where: where.flag(name) };
  }
  return out;
}

function readEnv(env: NodeJS.ProcessEnv): Partial<Record<OptionName, Given>> {
  const out: Partial<Record<OptionName, Given>> = {};
  for (const name of OPTION_NAMES) {
    const text = env[envName(name)];
    if (text === undefined || text === '') continue;
    out[name] = { value: parseOption(name, text, where.env(name)), where: where.env(name) };
  }
  const known = new Set([...OPTION_NAMES.map(envName), ...CLIENT_ENV_VARIABLES, ...Object.values(SECRET_ENV_VARIABLES)]);
  for (const key of Object.keys(env)) {
    if (key.startsWith('SHOAL_') && !known.has(key)) {
      throw new ConfigError(`unknown environment variable ${key}; known: ${[...known].join(', ')}`);
    }
  }
  return out;
}

function readConfigFile(path: string, givenBy: string): Partial<Record<OptionName, Given>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (given by ${givenBy})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  const fileKeys = OPTION_NAMES.filter((k) => !optionSpec(k).notInFile);
  const out: Partial<Record<OptionName, Given>> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!isOptionName(key) || optionSpec(key).notInFile) {
      throw new ConfigError(`unknown key "${key}" in config file ${path}; known keys: ${fileKeys.join(', ')}`);
    }
    const at = where.file(key, path);
    out[key] = { value: parseOption(key, fileText(at, optionSpec(key), value), at), where: at };
  }
  return out;
}

/** A JSON value as the text a flag would carry: numbers as written, lists as arrays or comma-separated text. */
function fileText(at: string, spec: OptionSpec, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && (spec.kind === 'integer' || spec.kind === 'duration' || spec.kind === 'bytes')) return String(value);
  if (Array.isArray(value) && spec.kind === 'list' && value.every((v) => typeof v === 'string')) return value.join(',');
  const wanted = spec.kind === 'list' ? 'an array of strings or a comma-separated string' : spec.kind === 'string' || spec.kind === 'choice' ? 'a string' : 'a number or a string';
  throw new ConfigError(`${at} must be ${wanted}, not ${JSON.stringify(value)}`);
}

/** The ports derived from --port when not given: --port + offset. */
const DERIVED_PORTS = {
  'peer-port': { offset: PORT_OFFSETS['peer-port'], label: 'peer', off: '' },
  'resp-port': { offset: PORT_OFFSETS['resp-port'], label: 'RESP', off: ' (0 turns it off)' },
  'admin-port': { offset: PORT_OFFSETS['admin-port'], label: 'admin', off: ' (0 turns it off)' },
} as const;
type PortOption = 'port' | keyof typeof DERIVED_PORTS;

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

function validate(given: Partial<Record<OptionName, Given>>, isTerminal: boolean, env: NodeJS.ProcessEnv): DaemonConfig {
  const has = (name: OptionName): boolean => given[name] !== undefined;
  const get = <T extends Value>(name: OptionName): T => {
    const g = given[name];
    if (g !== undefined) return g.value as T;
    const spec: OptionSpec = DAEMON_OPTIONS[name];
    return parseOption(name, spec.default ?? '', `the default of --${name}`) as T;
  };
  const origin = (name: OptionName): string => given[name]?.where ?? `--${name}`;

  const port = get<number>('port');
  // A clash with a port the user did not give names what they gave and how the other was derived.
  const portClash = (later: PortOption, earlier: PortOption, value: number): ConfigError => {
    const given = has(later) ? later : earlier;
    const derived = given === later ? earlier : later;
    if (has(later) && has(earlier)) return new ConfigError(`${origin(later)} must differ from ${origin(earlier)} (both are ${value})`);
    if (derived === 'port') return new ConfigError(`${origin(given)} ${value} is also the default --port; give --port or another ${origin(given)}`);
    const d = DERIVED_PORTS[derived];
    const from = has('port') ? origin('port') : 'the default --port';
    return new ConfigError(`${origin(given)} ${value} is also the default ${d.label} port (${from} ${port} + ${d.offset}); give --${derived}${d.off} or another ${origin(given)}`);
  };
  // A port not given is --port + its offset, which must still be a port.
  const derivedPort = (option: keyof typeof DERIVED_PORTS): number => {
    if (has(option)) return get<number>(option);
    const d = DERIVED_PORTS[option];
    if (port + d.offset > 65535) throw new ConfigError(`${origin('port')} ${port} leaves no room for the default ${d.label} port (port + ${d.offset}); give --${option}${d.off}`);
    return port + d.offset;
  };
  const peerPort = derivedPort('peer-port');
  if (peerPort === port) throw portClash('peer-port', 'port', port);
  const respPort = derivedPort('resp-port');
  if (respPort === port || respPort === peerPort) throw portClash('resp-port', respPort === port ? 'port' : 'peer-port', respPort);
  const adminPort = derivedPort('admin-port');
  const taken: [PortOption, number][] = [['port', port], ['peer-port', peerPort], ['resp-port', respPort]];
  const clash = taken.find(([, used]) => used === adminPort);
  if (adminPort !== 0 && clash !== undefined) throw portClash('admin-port', clash[0], adminPort);
  const replicas = get<number>('replicas');
  for (const option of ['read-quorum', 'write-quorum'] as const) {
    const count = get<number>(option);
    if (count > replicas) throw new ConfigError(`${origin(option)} must be a whole number from 1 to ${replicas} (--replicas), not ${count}`);
  }
  const host = get<string>('host');
  const advertiseHost = has('advertise-host') ? get<string>('advertise-host') : host;
  if (WILDCARD_HOSTS.has(advertiseHost)) {
    if (has('advertise-host')) throw new ConfigError(`${origin('advertise-host')} ${advertiseHost} is no address other nodes and clients can dial; give the address they should use`);
    throw new ConfigError(`${origin('host')} ${host} listens on every interface, so it is no address to give other nodes and clients: give --advertise-host, the address they should dial`);
  }
  const hostProblem = advertisableHostProblem(advertiseHost);
  if (hostProblem !== undefined) throw new ConfigError(`${origin(has('advertise-host') ? 'advertise-host' : 'host')} "${advertiseHost}" ${hostProblem}`);
  const seeds = seedsWithoutNone(get<string[]>('seeds'), origin('seeds'));
  for (const seed of seeds) {
    const problem = parseHostPort(seed).problem;
    if (problem !== undefined) throw new ConfigError(`${origin('seeds')}: seed "${seed}" ${problem}; a seed is a running node's peer port, HOST:PORT`);
  }
  const name = has('name') ? get<string>('name') : (parseOption('name', `${hostname()}-${port}`, '--name (by default HOSTNAME-PORT)') as string);
  const { keys: atRestKeys, source: atRestKeySource } = readAtRestKeys(has('data-key-file') ? { path: get<string>('data-key-file'), origin: origin('data-key-file') } : null, env);
  const limits: ClientLimits = {
    maxKeyBytes: get('max-key-size'),
    maxValueBytes: get('max-value-size'),
    maxFrameBytes: get('max-frame-size'),
    maxBatchRequests: get('max-batch'),
    maxInFlight: get('max-in-flight'),
    maxPipeline: get('max-pipeline'),
    maxUnreadReplyBytes: get('max-unread-replies'),
    respMaxUnreadReplyBytes: get('resp-max-unread-replies'),
    respOutputBufferLimitBytes: get('resp-output-buffer-limit'),
    respMaxArguments: get('resp-max-arguments'),
    maxClients: get('max-clients'),
    adminMaxClients: get('admin-max-clients'),
    maxClientsPerAddress: get('max-clients-per-address'),
    idleTimeoutMs: get('idle-timeout'),
    maxRequestRate: get('max-request-rate'),
    maxUserRequestRate: get('max-user-request-rate'),
  };
  // Sizes of a disk tier that is off would be ignored without a word, as a CA without TLS would (resolveTls).
  for (const option of ['disk-size', 'disk-write-budget'] as const) {
    if (has(option) && !has('disk-dir')) throw new ConfigError(`${origin(option)} is given but the disk tier is off: give --disk-dir too`);
  }
  // A set of the largest key and value, with the frame's own bytes, must fit in one frame.
  if (limits.maxValueBytes + limits.maxKeyBytes + 1024 > limits.maxFrameBytes) {
    throw new ConfigError(`${origin('max-frame-size')} (${limits.maxFrameBytes} bytes) must exceed ${origin('max-value-size')} plus ${origin('max-key-size')} by at least 1kib, so the largest value fits in a frame`);
  }
  // A client that reads its replies must never be closed for one: not for a GET of the largest value, not for a pipeline backpressure lets through.
  const outputFloor = 2 * Math.max(limits.maxValueBytes, limits.respMaxUnreadReplyBytes);
  if (limits.respOutputBufferLimitBytes !== 0 && limits.respOutputBufferLimitBytes < outputFloor) {
    throw new ConfigError(
      `${origin('resp-output-buffer-limit')} (${limits.respOutputBufferLimitBytes} bytes) must be 0 or at least twice the larger of ${origin('max-value-size')} and ${origin('resp-max-unread-replies')} (${outputFloor} bytes), so a client that reads its replies is not closed for one large value`,
    );
  }
  return {
    limits,
    name,
    cluster: get('cluster'),
    host,
    advertiseHost,
    port,
    peerPort,
    respPort,
    adminPort,
    seeds,
    zone: get('zone'),
    maxMemory: get('max-memory'),
    evictionPolicy: get('eviction-policy'),
    hotKeyAlertRate: get('hot-key-alert-rate'),
    healthRouting: get<string>('health-routing') === 'on',
    autoDrain: get<string>('auto-drain') === 'on',
    replicas,
    readQuorum: get('read-quorum'),
    writeQuorum: get('write-quorum'),
    replicaTimeoutMs: get('replica-timeout'),
    replicaBytesPerSecond: get('replica-bandwidth'),
    partitions: get('partitions'),
    gossipProfile: get('gossip-profile'),
    logLevel: get('log-level'),
    slowLogThresholdMs: get<string>('slow-log-threshold') === 'off' ? null : parseDuration(get<string>('slow-log-threshold')),
    logFormat: has('log-format') ? get('log-format') : isTerminal ? 'pretty' : 'json',
    shutdownTimeoutMs: get('shutdown-timeout'),
    stopMode: get('stop-mode'),
    disk: has('disk-dir') ? { dir: resolve(get<string>('disk-dir')), bytes: get('disk-size'), writeBudgetBytesPerSecond: get('disk-write-budget') } : null,
    dataDir: resolve(has('data-dir') ? get<string>('data-dir') : `.shoal/data/${name}`),
    atRestKeys,
    atRestKeySource,
    ...readGossipKeys(has('gossip-key-file') ? { path: get<string>('gossip-key-file'), origin: origin('gossip-key-file') } : null),
    defaultPassword: has('default-password-file') ? readDefaultPassword(resolve(get<string>('default-password-file')), origin('default-password-file')) : null,
    insecure: get<string>('insecure') === 'true',
    allowedOrigins: has('allowed-origins') ? allowedOrigins(get<string[]>('allowed-origins'), origin('allowed-origins')) : null,
    statsPrefixDelimiter: statsPrefixDelimiter(get<string>('stats-prefix-delimiter'), origin('stats-prefix-delimiter')),
    tls: resolveTls(has, get, origin),
  };
}

/**
 * Each listener's TLS settings: --tls-* for all, --peer-tls-* and --client-/--resp-tls-client-auth
 * per listener. A certificate needs its key; asking for client certificates needs a CA to check them.
 */
function resolveTls(has: (name: OptionName) => boolean, get: <T extends Value>(name: OptionName) => T, origin: (name: OptionName) => string): DaemonConfig['tls'] {
  const pick = (own: OptionName | null, all: OptionName): { path: string; origin: string } | null => {
    if (own !== null && has(own)) return { path: resolve(get<string>(own)), origin: origin(own) };
    return has(all) ? { path: resolve(get<string>(all)), origin: origin(all) } : null;
  };
  const listener = (what: string, prefix: 'peer-' | null, authOption: OptionName, defaultAuth: (ca: boolean) => ClientAuth): ListenerTls | null => {
    const own = (o: string) => (prefix === null ? null : (`${prefix}${o}` as OptionName));
    const cert = pick(own('tls-cert'), 'tls-cert');
    const key = pick(own('tls-key'), 'tls-key');
    const ca = pick(own('tls-ca'), 'tls-ca');
    const clientAuth: ClientAuth = has(authOption) ? get<ClientAuth>(authOption) : defaultAuth(ca !== null);
    if (cert === null && key === null) {
      if (has(authOption) && clientAuth !== 'none') throw new ConfigError(`${origin(authOption)} ${clientAuth} needs TLS on the ${what} listener: give --tls-cert and --tls-key`);
      return null;
    }
    if (cert === null) throw new ConfigError(`${key!.origin} is given without a certificate: give --${prefix ?? ''}tls-cert too`);
    if (key === null) throw new ConfigError(`${cert.origin} is given without its private key: give --${prefix ?? ''}tls-key too`);
    if (clientAuth !== 'none' && ca === null) {
      throw new ConfigError(`${has(authOption) ? origin(authOption) : `--${authOption}`} ${clientAuth} on the ${what} listener needs a CA to check client certificates against: give --${prefix ?? ''}tls-ca`);
    }
    return { cert: cert.path, key: key.path, ca: ca?.path ?? null, clientAuth, origin: { cert: cert.origin, key: key.origin, ca: ca?.origin ?? '--tls-ca' } };
  };
  const shared = (own: OptionName) => (): ClientAuth => (has(own) ? get<ClientAuth>(own) : get<ClientAuth>('tls-client-auth'));
  const clientAuthOf = (own: OptionName): OptionName => (has(own) ? own : 'tls-client-auth');
  if (!has('tls-cert') && !has('tls-key') && (has('tls-ca') || get<ClientAuth>('tls-client-auth') !== 'none') && !has('peer-tls-cert')) {
    throw new ConfigError(`${has('tls-ca') ? origin('tls-ca') : origin('tls-client-auth')} is given but TLS is off: give --tls-cert and --tls-key`);
  }
  const tls = {
    client: listener('client', null, clientAuthOf('client-tls-client-auth'), shared('client-tls-client-auth')),
    resp: listener('RESP', null, clientAuthOf('resp-tls-client-auth'), shared('resp-tls-client-auth')),
    peer: listener('peer', 'peer-', 'peer-tls-client-auth', (ca) => (ca ? 'require' : 'none')),
  };
  // A CA no listener reads would be ignored without a word: the node would run without the TLS it was asked for.
  if (has('peer-tls-ca') && tls.peer === null) {
    throw new ConfigError(`${origin('peer-tls-ca')} is given but TLS is off on the peer listener: give --peer-tls-cert and --peer-tls-key (or --tls-cert and --tls-key for every listener)`);
  }
  if (has('tls-ca') && tls.client === null && tls.resp === null && (tls.peer === null || has('peer-tls-ca'))) {
    throw new ConfigError(`${origin('tls-ca')} is given but no listener uses it: TLS is off on the client and RESP listeners (give --tls-cert and --tls-key)${tls.peer === null ? '' : ', and the peer listener checks peers against --peer-tls-ca'}`);
  }
  return tls;
}

/** At-rest keys from --data-key-file, else $SHOAL_DATA_KEY, else none (UNKEYED). */
function readAtRestKeys(file: { path: string; origin: string } | null, env: NodeJS.ProcessEnv): { keys: AtRestKeys; source: string } {
  const variable = SECRET_ENV_VARIABLES.dataKey;
  try {
    if (file !== null) {
      let text: string;
      try {
        text = readFileSync(file.path, 'utf8');
      } catch (e) {
        throw new ConfigError(`cannot read the at-rest key file ${file.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (given by ${file.origin})`);
      }
      return { keys: parseAtRestKeys(text, `the at-rest key file ${file.path} (${file.origin})`), source: `file ${file.path}` };
    }
    const text = env[variable];
    if (text !== undefined && text !== '') return { keys: parseAtRestKeys(text, `$${variable}`), source: `$${variable}` };
  } catch (e) {
    throw e instanceof ConfigError ? e : new ConfigError((e as Error).message);
  }
  return { keys: UNKEYED, source: 'none (files are integrity-checked, not encrypted)' };
}

/** Gossip keys from --gossip-key-file, or null. */
function readGossipKeys(file: { path: string; origin: string } | null): { gossipKeys: Uint8Array[] | null; gossipKeySource: string } {
  if (file === null) return { gossipKeys: null, gossipKeySource: 'none' };
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the gossip key file ${file.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (given by ${file.origin})`);
  }
  try {
    return { gossipKeys: parseGossipKeys(text, `the gossip key file ${file.path} (${file.origin})`), gossipKeySource: `file ${file.path}` };
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

/** The longest default password a file may hold: a line, not a document pasted by mistake (Redis's AUTH takes what fits in a bulk string). */
export const MAX_DEFAULT_PASSWORD_BYTES = 1024;

/**
 * --default-password-file: the password is the file's bytes, less one trailing newline (`echo
 * secret > FILE` and editors add one; a Kubernetes Secret made with --from-file keeps it). Anything
 * else that cannot be a one-line password is refused at start, since a node that took it would lock
 * every client out with a password nobody meant.
 */
function readDefaultPassword(path: string, origin: string): { password: Uint8Array; path: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ConfigError(`cannot read the default password file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (given by ${origin})`);
  }
  const newline = bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? 2 : 1) : 0;
  const password = bytes.subarray(0, bytes.length - newline);
  const problem =
    password.length === 0
      ? 'is empty: put the password in it (a default user without a password is what --insecure allows)'
      : password.length > MAX_DEFAULT_PASSWORD_BYTES
        ? `holds ${password.length} bytes; a password may have at most ${MAX_DEFAULT_PASSWORD_BYTES}`
        : password.includes(0x0a) || password.includes(0x0d)
          ? 'holds more than one line: it must hold only the password (one trailing newline is allowed)'
          : null;
  if (problem !== null) throw new ConfigError(`the default password file ${path} (given by ${origin}) ${problem}`);
  return { password: new Uint8Array(password), path };
}

/** --allowed-origins, normalised; a malformed entry is refused with the form it must have. */
function allowedOrigins(entries: string[], origin: string): string[] {
  try {
    return parseAllowedOrigins(entries);
  } catch (e) {
    throw new ConfigError(`${origin}: ${(e as Error).message}`);
  }
}

/** --stats-prefix-delimiter: short, since every access searches keys for it. */
function statsPrefixDelimiter(value: string, origin: string): string {
  if (value.length > 8) throw new ConfigError(`${origin} must be at most 8 characters, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * `none` alone is no seeds: `shoal start --help` shows the default as `none` and says "none starts
 * a new cluster", so an operator copies it (probe-chaos: `--seeds none` was refused as a seed that
 * is not HOST:PORT). Beside real seeds it would be a mistake, and says so.
 */
function seedsWithoutNone(seeds: string[], origin: string): string[] {
  if (!seeds.includes('none')) return seeds;
  if (seeds.length === 1) return [];
  throw new ConfigError(`${origin}: "none" means no seeds, so it goes alone; give HOST:PORT seeds or none`);
}

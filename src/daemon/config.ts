/**
 * The daemon's configuration: one table of options, read from (highest precedence first) command
 * line flags, `SHOAL_*` environment variables, a JSON config file (`--config`), and defaults.
 * The same names everywhere: flag `--max-memory`, variable `SHOAL_MAX_MEMORY`, file key
 * `"max-memory"`. `shoal start --help` and docs/OPERATIONS.md are generated from this table.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs, parseValue, type FlagKind, type FlagSpecs } from '../cli/args.ts';

export interface OptionSpec {
  kind: FlagKind | 'list';
  description: string;
  /** The default, as the user would write it; absent means "no default" (see description). */
  default?: string;
}

export const DAEMON_OPTIONS = {
  config: { kind: 'string', description: 'path of a JSON config file whose keys are these option names' },
  name: { kind: 'string', description: 'member name, stable across restarts (default: HOSTNAME-PORT)' },
  cluster: { kind: 'string', description: 'cluster name; messages from other clusters are rejected', default: 'shoal' },
  host: { kind: 'string', description: 'address to listen on and advertise', default: '127.0.0.1' },
  port: { kind: 'number', description: 'client (SDK) WebSocket port', default: '7400' },
  'peer-port': { kind: 'number', description: 'node-to-node port (default: port + 1)' },
  seeds: { kind: 'list', description: 'comma-separated HOST:PEER-PORT of nodes to join through; empty starts a new cluster', default: '' },
  zone: { kind: 'string', description: 'failure zone; replicas go to distinct zones when there are enough', default: 'default' },
  'max-memory': { kind: 'bytes', description: 'memory budget of the storage engine', default: '256mb' },
  replicas: { kind: 'number', description: 'replicas per key (N)', default: '3' },
  'read-quorum': { kind: 'number', description: 'replicas that must answer a read (R)', default: '2' },
  'write-quorum': { kind: 'number', description: 'replicas that must acknowledge a write (W)', default: '2' },
  'replica-timeout': { kind: 'duration', description: 'how long a coordinator waits for other replicas before answering unavailable, when little is in flight (its own replica is not timed out this way)', default: '500ms' },
  'replica-bandwidth': { kind: 'bytes', description: 'bytes per second a coordinator assumes replicas move: the replica timeout grows by the bytes in flight divided by this, up to 10 replica timeouts', default: '64mib' },
  partitions: { kind: 'number', description: 'partition count Q; must be the same on every node', default: '1024' },
  'gossip-profile': { kind: 'string', description: 'membership timing profile: lan, wan or local', default: 'lan' },
  'log-level': { kind: 'string', description: 'trace, debug, info, warn or error', default: 'info' },
  'log-format': { kind: 'string', description: 'json or pretty (default: pretty on a terminal, else json)' },
  'shutdown-timeout': { kind: 'duration', description: 'longest a graceful stop (leave, hand off, drain clients) may take before the node exits with status 1', default: '10s' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof DAEMON_OPTIONS;

export interface DaemonConfig {
  name: string;
  cluster: string;
  host: string;
  port: number;
  peerPort: number;
  seeds: string[];
  zone: string;
  maxMemory: number;
  replicas: number;
  readQuorum: number;
  writeQuorum: number;
  replicaTimeoutMs: number;
  replicaBytesPerSecond: number;
  partitions: number;
  gossipProfile: 'lan' | 'wan' | 'local';
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'json' | 'pretty';
  shutdownTimeoutMs: number;
}

/** A configuration problem: the daemon prints it and exits with status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function envName(option: string): string {
  return `SHOAL_${option.toUpperCase().replace(/-/g, '_')}`;
}

/** The option table as flag specs for the shared parser (lists are parsed as strings). */
export const DAEMON_FLAGS: FlagSpecs = Object.fromEntries([
  ...Object.entries(DAEMON_OPTIONS).map(([name, spec]) => [
    name,
    { kind: spec.kind === 'list' ? 'string' : spec.kind, description: spec.description, ...('default' in spec ? { default: spec.default } : {}) },
  ]),
  ['help', { kind: 'boolean', description: 'show this help' }],
]);

type Raw = Partial<Record<OptionName, string | number | boolean>>;

/** Reads the options from flags, environment and file, validates them, and fills in defaults. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  let parsed;
  try {
    parsed = parseArgs(argv, DAEMON_FLAGS);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (parsed.positionals.length > 0) throw new ConfigError(`unexpected argument "${parsed.positionals[0]}"`);
  const fromFlags = parsed.flags as Raw;
  const fromEnv = readEnv(env);
  const configPath = (fromFlags.config ?? fromEnv.config) as string | undefined;
  const fromFile = configPath === undefined ? {} : readConfigFile(configPath);
  const raw: Raw = { ...fromFile, ...fromEnv, ...fromFlags };
  return validate(raw);
}

function readEnv(env: NodeJS.ProcessEnv): Raw {
  const out: Raw = {};
  for (const [name, spec] of Object.entries(DAEMON_OPTIONS) as [OptionName, OptionSpec][]) {
    const value = env[envName(name)];
    if (value === undefined || value === '') continue;
    out[name] = convert(`${envName(name)}`, spec, value);
  }
  const known = new Set(Object.keys(DAEMON_OPTIONS).map(envName));
  // SHOAL_NODE is the commands' (status, get, ...) variable, not the daemon's.
  known.add('SHOAL_NODE');
  for (const key of Object.keys(env)) {
    if (key.startsWith('SHOAL_') && !known.has(key)) {
      throw new ConfigError(`unknown environment variable ${key}; known: ${[...known].join(', ')}`);
    }
  }
  return out;
}

function readConfigFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  const out: Raw = {};
  for (const [key, value] of Object.entries(data)) {
    const spec = (DAEMON_OPTIONS as Record<string, OptionSpec>)[key];
    if (!spec || key === 'config') {
      throw new ConfigError(`unknown key "${key}" in config file ${path}; known keys: ${Object.keys(DAEMON_OPTIONS).filter((k) => k !== 'config').join(', ')}`);
    }
    const text = Array.isArray(value) && spec.kind === 'list' ? value.join(',') : String(value);
    out[key as OptionName] = convert(`"${key}" in ${path}`, spec, text);
  }
  return out;
}

function convert(where: string, spec: OptionSpec, text: string): string | number | boolean {
  try {
    return parseValue(where, spec.kind === 'list' ? 'string' : spec.kind, text);
  } catch (e) {
    throw new ConfigError((e as Error).message.replace(`--${where}`, where));
  }
}

function validate(raw: Raw): DaemonConfig {
  const get = <T>(name: OptionName): T => {
    if (raw[name] !== undefined) return raw[name] as T;
    const spec = DAEMON_OPTIONS[name] as OptionSpec;
    return (spec.default === undefined ? undefined : parseValue(name, spec.kind === 'list' ? 'string' : spec.kind, spec.default)) as T;
  };
  const port = integer('port', get<number>('port'), 1, 65535);
  const peerPort = integer('peer-port', get<number | undefined>('peer-port') ?? port + 1, 1, 65535);
  if (peerPort === port) throw new ConfigError(`--peer-port must differ from --port (both are ${port})`);
  const replicas = integer('replicas', get<number>('replicas'), 1, 16);
  const readQuorum = integer('read-quorum', get<number>('read-quorum'), 1, replicas);
  const writeQuorum = integer('write-quorum', get<number>('write-quorum'), 1, replicas);
  const partitions = integer('partitions', get<number>('partitions'), 1, 65536);
  const replicaTimeoutMs = get<number>('replica-timeout');
  if (replicaTimeoutMs < 10 || replicaTimeoutMs > 600_000) throw new ConfigError(`--replica-timeout must be from 10ms to 10m, not ${replicaTimeoutMs} ms`);
  const replicaBytesPerSecond = get<number>('replica-bandwidth');
  if (replicaBytesPerSecond < 1024) throw new ConfigError(`--replica-bandwidth must be at least 1kib (per second), not ${replicaBytesPerSecond} bytes`);
  const maxMemory = get<number>('max-memory');
  if (maxMemory < 1024 * 1024) throw new ConfigError(`--max-memory must be at least 1mib, not ${maxMemory} bytes`);
  const seeds = String(get<string>('seeds') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const seed of seeds) {
    if (!/^[^\s:]+:\d{1,5}$/.test(seed) && !/^\[[0-9a-f:]+\]:\d{1,5}$/i.test(seed)) {
      throw new ConfigError(`seed "${seed}" is not HOST:PORT (the peer port of a running node)`);
    }
  }
  const gossipProfile = oneOf('gossip-profile', get<string>('gossip-profile'), ['lan', 'wan', 'local'] as const);
  const logLevel = oneOf('log-level', get<string>('log-level'), ['trace', 'debug', 'info', 'warn', 'error'] as const);
  const logFormatRaw = get<string | undefined>('log-format') ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const logFormat = oneOf('log-format', logFormatRaw, ['json', 'pretty'] as const);
  const shutdownTimeoutMs = get<number>('shutdown-timeout');
  if (shutdownTimeoutMs < 100 || shutdownTimeoutMs > 3_600_000) throw new ConfigError(`--shutdown-timeout must be from 100ms to 1h, not ${shutdownTimeoutMs} ms`);
  const host = get<string>('host');
  const name = get<string | undefined>('name') ?? `${hostname()}-${port}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new ConfigError(`--name "${name}" may hold only letters, digits, '.', '_' and '-' (at most 64)`);
  return {
    name,
    cluster: get<string>('cluster'),
    host,
    port,
    peerPort,
    seeds,
    zone: get<string>('zone'),
    maxMemory,
    replicas,
    readQuorum,
    writeQuorum,
    replicaTimeoutMs,
    replicaBytesPerSecond,
    partitions,
    gossipProfile,
    logLevel,
    logFormat,
    shutdownTimeoutMs,
  };
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`--${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return value;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`--${name} must be one of ${allowed.join(', ')}, not "${value}"`);
  return value as T;
}

/** The options table in Markdown, for docs/OPERATIONS.md (kept in sync by a test). */
export function optionsMarkdown(): string {
  const rows = Object.entries(DAEMON_OPTIONS).map(([name, spec]) => {
    const def = 'default' in spec ? `\`${spec.default === '' ? '(empty)' : spec.default}\`` : '';
    return `| \`--${name}\` | \`${envName(name)}\` | ${def} | ${spec.description} |`;
  });
  return ['| flag / file key | environment | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

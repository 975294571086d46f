/**
 * The daemon's option schema: every option `shoal start` takes, declared once, as data. Flag
 * parsing (`--max-memory`), environment variables (`SHOAL_MAX_MEMORY`), config file keys
 * (`"max-memory"`), `shoal start --help`, the options `shoal dev` passes on to its nodes and the
 * table in docs/OPERATIONS.md (`npm run docs:options`) are all derived from this one table, so they
 * cannot drift apart. config.ts reads and checks values against it.
 *
 * Every default and bound is written as an operator would write it (`500ms`, `1mib`), so help and
 * docs show exactly what a user may type.
 */

/** How an option's text is read: see config.ts (parseOption). */
export type OptionKind = 'string' | 'integer' | 'duration' | 'bytes' | 'choice' | 'list';

export interface OptionSpec {
  readonly kind: OptionKind;
  /** One line for help and docs. */
  readonly description: string;
  /** The default, as the user would write it. */
  readonly default?: string;
  /** When the default is computed (from other options, the host, the terminal): how, in words. */
  readonly defaultText?: string;
  /** integer, duration, bytes: the smallest and largest value accepted, as the user would write them. */
  readonly min?: string;
  readonly max?: string;
  /** choice: the values accepted. */
  readonly choices?: readonly string[];
  /** string: the form a value must have, and (string, list) that form in words. */
  readonly pattern?: RegExp;
  readonly patternText?: string;
  /** Not a key of the config file (the file's own path). */
  readonly notInFile?: boolean;
  /**
   * The option this one only matters with, and what is off without it: given alone, the start is
   * refused (config.ts) rather than the value ignored.
   */
  readonly requires?: { readonly option: string; readonly off: string };
}

const BIGGEST_PORT = '65535';
/**
 * The default --peer-port, --resp-port and --admin-port: the client port plus these. `shoal dev`
 * gives its nodes their ports and `shoal acl` finds a node's Redis port from its client port the
 * same way.
 */
export const PORT_OFFSETS = { 'peer-port': 1, 'resp-port': 2, 'admin-port': 3 } as const;
const DISK_TIER = { option: 'disk-dir', off: 'the disk tier is off' };

export const DAEMON_OPTIONS = {
  config: { kind: 'string', description: 'path of a JSON config file whose keys are these option names', notInFile: true },
  name: {
    kind: 'string',
    description: 'member name, stable across restarts',
    defaultText: 'HOSTNAME-PORT',
    pattern: /^[A-Za-z0-9._-]{1,64}$/,
    patternText: "letters, digits, '.', '_' and '-' (at most 64)",
  },
  cluster: { kind: 'string', description: 'cluster name; messages from other clusters are rejected', default: 'shoal' },
  host: { kind: 'string', description: 'address both ports listen on', default: '127.0.0.1' },
  'advertise-host': {
    kind: 'string',
    description: 'address other nodes and clients are told to use (a NAT address, a pod IP): an IP address or DNS name, no port; needed when --host is 0.0.0.0 or ::',
    defaultText: '--host',
  },
  port: { kind: 'integer', description: 'client (SDK) WebSocket port', default: '7400', min: '1', max: BIGGEST_PORT },
  'peer-port': { kind: 'integer', description: 'node-to-node port', defaultText: `--port + ${PORT_OFFSETS['peer-port']}`, min: '1', max: BIGGEST_PORT },
  'resp-port': {
    kind: 'integer',
    description: 'Redis protocol (RESP2/RESP3) port for any Redis client; 0 turns it off',
    defaultText: `--port + ${PORT_OFFSETS['resp-port']}`,
    min: '0',
    max: BIGGEST_PORT,
  },
  'admin-port': {
    kind: 'integer',
    description: 'HTTP admin port (health probes, /status, /ring, metrics, dashboard); 0 turns it off',
    defaultText: `--port + ${PORT_OFFSETS['admin-port']}`,
    min: '0',
    max: BIGGEST_PORT,
  },
  seeds: {
    kind: 'list',
    description:
      'peer addresses of nodes to join through; a HOST that is a DNS name stands for every address it resolves to, looked up again while the node is alone (a Kubernetes headless service); none starts a new cluster',
    default: '',
    patternText: 'HOST:PEER-PORT, comma-separated',
  },
  zone: { kind: 'string', description: 'failure zone; replicas go to distinct zones when there are enough', default: 'default' },
  'max-memory': { kind: 'bytes', description: 'memory budget of the storage engine (the Redis port\'s CONFIG SET maxmemory changes it until the next start; its units are Redis\'s: 1mb there is 1mib here; docs/REDIS.md)', default: '256mb', min: '1mib' },
  'eviction-policy': {
    kind: 'choice',
    description: 'what the storage engine does when --max-memory is full: default (adaptive W-TinyLFU), lru, lfu, or noeviction (writes are refused; docs/STORE.md)',
    default: 'default',
    choices: ['default', 'lru', 'lfu', 'noeviction'],
  },
  replicas: { kind: 'integer', description: 'replicas per key (N)', default: '3', min: '1', max: '16' },
  'read-quorum': { kind: 'integer', description: 'replicas that must answer a read (R): 1, a majority of N, or N', default: '2', min: '1', max: '16' },
  'write-quorum': { kind: 'integer', description: 'replicas that must acknowledge a write (W): 1, a majority of N, or N', default: '2', min: '1', max: '16' },
  'replica-timeout': {
    kind: 'duration',
    description: 'how long a coordinator waits for other replicas before answering unavailable, when little is in flight (its own replica is not timed out this way)',
    default: '500ms',
    min: '10ms',
    max: '10m',
  },
  'replica-bandwidth': {
    kind: 'bytes',
    description: 'bytes per second a coordinator assumes replicas move: the replica timeout grows by the bytes in flight divided by this, up to 10 replica timeouts',
    default: '64mib',
    min: '1kib',
  },
  partitions: { kind: 'integer', description: 'partition count Q; must be the same on every node; at most 16384 (each partition holds whole Redis Cluster slots)', default: '1024', min: '1', max: '16384' },
  'gossip-profile': { kind: 'choice', description: 'membership timing profile', default: 'lan', choices: ['lan', 'wan', 'local'] },
  'log-level': { kind: 'choice', description: 'least severe log level written', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error'] },
  'slow-log-threshold': {
    kind: 'string',
    description: "gets, sets and deletes slower than this are logged (event slow-request, without key or value) and RESP commands kept in SLOWLOG (its slowlog-log-slower-than); 0 logs every request, off none",
    default: '10ms',
    pattern: /^(off|\d+(\.\d+)?(ms|s|m|h)?)$/,
    patternText: 'a duration (10ms, 0.5s; 0 logs every request) or off',
  },
  'log-format': { kind: 'choice', description: 'log line format', defaultText: 'pretty on a terminal, else json', choices: ['json', 'pretty'] },
  'data-dir': {
    kind: 'string',
    description: 'directory for what the node keeps across restarts (users and ACLs, the gossip keyring, the members it last knew, its clock ceiling), every file sealed (docs/SECURITY.md); one node per directory (a lock file)',
    defaultText: '.shoal/data/NAME under the working directory',
  },
  'disk-dir': {
    kind: 'string',
    description: 'directory of the disk tier under memory (off when not given): one file of --disk-size, sparse (its blocks are taken as it fills; a start whose filesystem has not that much free is refused, exit 2), blocks sealed with the at-rest keys (docs/STORE.md); one node per directory (a lock file)',
  },
  'disk-size': { kind: 'bytes', description: 'size of the disk tier\'s file (with --disk-dir)', default: '1gib', min: '1mib', requires: DISK_TIER },
  'disk-write-budget': { kind: 'bytes', description: 'bytes per second the disk tier may write (device wear); over it, evicted entries are not kept', default: '64mib', min: '64kib', requires: DISK_TIER },
  'data-key-file': {
    kind: 'string',
    description: 'file of at-rest keys (32 bytes as hex or base64, one per line, the first seals); else $SHOAL_DATA_KEY; else files are integrity-checked, not encrypted',
  },
  'gossip-key-file': {
    kind: 'string',
    description: 'file of gossip keys (32 bytes as hex or base64, one per line, the first seals) that turns on node-to-node encryption; read at the first start into the keyring kept sealed in --data-dir, later only adds keys (docs/SECURITY.md)',
  },
  // ---- limits (docs/SECURITY.md, "Limits"): what one client can make a node hold or do ----
  'max-key-size': { kind: 'bytes', description: 'largest key a client may use (SDK and RESP); keep it the same on every node', default: '1kib', min: '1', max: '32kib' },
  'max-value-size': { kind: 'bytes', description: 'largest value a client may store (SDK and RESP; longer RESP arguments are skipped unread and refused); keep it the same on every node', default: '1mib', min: '1kib', max: '256mib' },
  'max-frame-size': { kind: 'bytes', description: 'largest SDK WebSocket frame a node accepts (a frame over twice this is cut off unread); must exceed --max-value-size', default: '8mib', min: '64kib', max: '1gib' },
  'max-batch': { kind: 'integer', description: 'most requests in one SDK frame (the SDK splits larger batches)', default: '4096', min: '1', max: '1000000' },
  'max-in-flight': { kind: 'integer', description: 'requests one SDK connection may have waiting on the node; more are answered overloaded', default: '16384', min: '1', max: '1000000' },
  'max-pipeline': { kind: 'integer', description: 'commands one RESP connection may have unanswered before the node stops reading it (backpressure, no error)', default: '128', min: '1', max: '1000000' },
  'max-unread-replies': { kind: 'bytes', description: 'reply bytes an SDK connection may leave unread before its requests wait (a reader stalled at it for 10s is closed)', default: '64mib', min: '64kib' },
  'resp-max-unread-replies': { kind: 'bytes', description: 'reply bytes a RESP connection may leave unsent, its running commands counted at the size of recent replies, before the node stops reading it (backpressure, no error)', default: '1mib', min: '16kib' },
  'resp-output-buffer-limit': { kind: 'bytes', description: "reply bytes a RESP connection may leave unsent before the node closes it, dropping them (Redis's client-output-buffer-limit hard limit); 0: never, else at least twice the larger of --max-value-size and --resp-max-unread-replies", default: '32mib', min: '0' },
  'resp-max-arguments': { kind: 'integer', description: "arguments one RESP command may have, its name included (DEL with up to N-1 keys); a longer command's arguments are skipped unread and it is refused, the connection stays. Redis has no such limit: it bounds the synchronous work one command makes the node do", default: '20000', min: '16', max: '1048576' },
  'max-clients': { kind: 'integer', description: 'client connections the SDK and RESP listeners each hold at once; more are refused (RESP: "-ERR max number of clients reached", SDK: HTTP 503); the admin port has --admin-max-clients', default: '10000', min: '1', max: '1000000' },
  'admin-max-clients': { kind: 'integer', description: 'connections the admin port (--admin-port) holds at once; more are refused (HTTP 503; over HTTPS a TLS internal_error alert). Its users are few (probes, Prometheus, the dashboard, the shoal command): an idle connection costs some 9 KB', default: '256', min: '1', max: '1000000' },
  'max-clients-per-address': { kind: 'integer', description: 'client connections one remote address may hold on each listener (SDK, RESP, admin); 0: no such limit', default: '0', min: '0', max: '1000000' },
  'idle-timeout': { kind: 'duration', description: "close a client connection that sends nothing for this long (Redis's timeout; SDK keepalive pings count as activity); 0: never", default: '0', min: '0', max: '720h' },
  'max-request-rate': { kind: 'integer', description: 'requests (RESP commands) per second per client connection, in bursts of one second\'s worth; over it a request fails (RESP: ERR rate limit exceeded, SDK: overloaded); 0: no limit', default: '0', min: '0', max: '100000000' },
  'max-user-request-rate': { kind: 'integer', description: 'requests (RESP commands) per second of one ACL user, over all its client connections to this node together, in bursts of one second\'s worth; over it a request fails as with --max-request-rate; 0: no limit', default: '0', min: '0', max: '100000000' },
  'default-password-file': {
    kind: 'string',
    description:
      "file holding the default user's password (one line; one trailing newline is dropped), as Redis's requirepass: at every start the default user gets exactly this password unless it already has it, and the change reaches every node; it replaces a password set since with ACL SETUSER (docs/SECURITY.md). A file, not a value: flags show in `ps`",
  },
  insecure: {
    kind: 'choice',
    description: 'allow listening on a non-loopback --host while the default user needs no password (anyone who reaches the ports may do anything); `--insecure` alone means true',
    default: 'false',
    choices: ['false', 'true'],
  },
  'allowed-origins': {
    kind: 'list',
    description:
      "web pages (origins) whose browsers may use the client (SDK) port, `*` for any, `none` alone for none (an empty list is refused); not given: a page with an Origin is refused while the default user needs no password, unless it is served from a loopback host or the node's own --host/--advertise-host (docs/SECURITY.md); Node and other non-browser clients send no Origin and are never refused for it; the admin port also serves a Host that is one of these origins' hosts",
    defaultText: 'local pages while the default user needs no password, else any',
    patternText: 'scheme://host[:port] (https://app.example) or *, comma-separated; or none',
  },
  'shutdown-timeout': {
    kind: 'duration',
    description: 'longest a graceful stop (leave, hand off, drain clients) may take before the node exits with status 1',
    default: '10s',
    min: '100ms',
    max: '1h',
  },
  'stop-mode': {
    kind: 'choice',
    description: 'what SIGTERM and SIGINT do: leave (hand every partition off, then exit) or restart (drain clients, stop without leaving, write the values still in memory to the disk tier and close it: the cluster takes the node as down and keeps its place and hints for it, and it comes back with what its disk tier holds; docs/STORE.md)',
    default: 'leave',
    choices: ['leave', 'restart'],
  },
  'tls-cert': {
    kind: 'string',
    description: 'PEM certificate (chain) for every listener (client, RESP, peer); with --tls-key it turns TLS on; reloaded on SIGHUP and when the file changes',
  },
  'tls-key': { kind: 'string', description: 'PEM private key of --tls-cert' },
  'tls-ca': {
    kind: 'string',
    description: "PEM CA bundle that client certificates must chain to (and peers', unless --peer-tls-ca)",
  },
  'tls-client-auth': {
    kind: 'choice',
    description: 'whether the client and RESP listeners ask clients for a certificate signed by --tls-ca: none, request (verified if shown), require',
    default: 'none',
    choices: ['none', 'request', 'require'],
  },
  'client-tls-client-auth': { kind: 'choice', description: '--tls-client-auth for the client (SDK) listener only', defaultText: '--tls-client-auth', choices: ['none', 'request', 'require'] },
  'resp-tls-client-auth': { kind: 'choice', description: '--tls-client-auth for the RESP listener only', defaultText: '--tls-client-auth', choices: ['none', 'request', 'require'] },
  'peer-tls-cert': {
    kind: 'string',
    description: "the node's certificate on the peer port and when it dials peers (its client certificate there)",
    defaultText: '--tls-cert',
  },
  'peer-tls-key': { kind: 'string', description: 'PEM private key of --peer-tls-cert', defaultText: '--tls-key' },
  'peer-tls-ca': {
    kind: 'string',
    description: 'the cluster CA: peers must chain to it both ways; give a CA that signs only nodes, so a client certificate cannot join',
    defaultText: '--tls-ca',
  },
  'peer-tls-client-auth': {
    kind: 'choice',
    description: 'whether peers dialing in must show a certificate of the cluster CA (mutual TLS)',
    defaultText: 'require when there is a peer CA, else none',
    choices: ['none', 'request', 'require'],
  },
  'hot-key-alert-rate': {
    kind: 'integer',
    description: 'ops/s on one key at one node that raise a hot-key alert (a warning with the key, a counter, a push to SDK clients listening for hotkey); it clears under 75% of it; 0 turns alerts off',
    default: '5000',
    min: '0',
    max: '1000000000',
  },
  'health-routing': {
    kind: 'choice',
    description: 'reads leave replicas this node finds slow or silent out of their first round, and the node gossips its verdicts (asked anyway when the others cannot answer); off keeps the verdicts in status but asks every replica',
    default: 'on',
    choices: ['on', 'off'],
  },
  'auto-drain': {
    kind: 'choice',
    description: "drain this node by itself when its failure prediction stays at or above the model's alarm threshold for 10 s (as `shoal drain` would; logged at warn with the reason; refused when it is the last member holding data or a peer is down, and then asked again every 5 s while the prediction holds); drains once per run",
    default: 'off',
    choices: ['on', 'off'],
  },
  'stats-prefix-delimiter': {
    kind: 'string',
    description: "where a key's prefix ends for `shoal stats`' top prefixes (the prefix keeps it; keys without it count under the empty prefix); '' turns the prefix table off",
    default: ':',
    patternText: 'at most 8 characters',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof DAEMON_OPTIONS;

export const OPTION_NAMES = Object.keys(DAEMON_OPTIONS) as OptionName[];

export function optionSpec(name: OptionName): OptionSpec {
  return DAEMON_OPTIONS[name];
}

export function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(DAEMON_OPTIONS, name);
}

/** The option's environment variable: `max-memory` is `SHOAL_MAX_MEMORY`. */
export function envName(option: string): string {
  return `SHOAL_${option.toUpperCase().replace(/-/g, '_')}`;
}

/** The command-line tools' own variable (which node `shoal status` and friends talk to), not the daemon's. */
export const CLIENT_ENV_VARIABLES: readonly string[] = ['SHOAL_NODE'];

/** Secrets the daemon reads from the environment only (never a flag: flags show in `ps`). */
export const SECRET_ENV_VARIABLES = {
  /** At-rest keys, as in a --data-key-file. */
  dataKey: 'SHOAL_DATA_KEY',
} as const;

/** The default in words: the literal default, how it is computed, or '' for none. */
export function defaultText(spec: OptionSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.default === undefined) return '';
  return spec.default === '' ? 'none' : spec.default;
}

/** The values an option accepts, in words (for help and docs); '' for any text. */
export function valuesText(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'string':
      return spec.patternText ?? '';
    case 'list':
      return spec.patternText ?? 'comma-separated list';
    case 'choice':
      return spec.choices!.join(', ');
    case 'integer':
    case 'duration':
    case 'bytes': {
      const what = spec.kind === 'integer' ? 'whole number' : spec.kind === 'duration' ? 'duration' : 'size';
      if (spec.min !== undefined && spec.max !== undefined) return `${what}, ${spec.min} to ${spec.max}`;
      if (spec.min !== undefined) return `${what}, at least ${spec.min}`;
      return what;
    }
  }
}

/** The options table of docs/OPERATIONS.md (`npm run docs:options` writes it; a test compares). */
export function optionsMarkdown(): string {
  // A literal default as code; one computed from something else in words.
  const cell = (spec: OptionSpec): string => (spec.defaultText === undefined && spec.default !== undefined ? `\`${defaultText(spec)}\`` : defaultText(spec));
  const rows = OPTION_NAMES.map((name) => {
    const spec = optionSpec(name);
    const key = spec.notInFile ? `\`--${name}\` (not a file key)` : `\`--${name}\``;
    return `| ${key} | \`${envName(name)}\` | ${cell(spec)} | ${valuesText(spec)} | ${spec.description} |`;
  });
  return ['| flag / file key | environment | default | values | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

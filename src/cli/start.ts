/**
 * `shoal start`: run one node in the foreground. Configuration problems (a bad value, an unknown
 * option, an unreadable file, a port in use) print one line and exit with status 2. SIGTERM or
 * SIGINT stops the node gracefully; the exit status says whether that finished in time.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, resolveConfig, type DaemonConfig } from '../daemon/config.ts';
import { startDaemon } from '../daemon/daemon.ts';
import { ExitStatus, StartupError } from '../daemon/errors.ts';
import { consistencyFor } from '../daemon/node-host.ts';
import { defaultText, envName, OPTION_NAMES, optionSpec, valuesText } from '../daemon/options.ts';
import { createLogger } from '../runtime/real.ts';
import { parseArgs, UsageError, type FlagSpecs } from './args.ts';

const USAGE = 'Usage: shoal start [options]\n\nRuns one Shoal node. Every option is also a SHOAL_* environment variable and a key of the --config file.';

/**
 * The command line's flags, from the daemon's option schema. Every value is kept as text: the
 * daemon reads flags, variables and file keys alike (src/daemon/config.ts).
 */
const START_FLAGS: FlagSpecs = {
  // --insecure needs no value (`--insecure` is `--insecure true`); every other option takes one.
  ...Object.fromEntries(OPTION_NAMES.map((name) => [name, { kind: name === 'insecure' ? 'boolean' : 'string', description: optionSpec(name).description }])),
  help: { kind: 'boolean', description: 'show this help' },
};

export function help(): string {
  const rows = OPTION_NAMES.map((name) => {
    const spec = optionSpec(name);
    const def = defaultText(spec);
    const details = [valuesText(spec), def === '' ? '' : `default: ${def}`].filter((d) => d !== '').join('; ');
    return `  --${name.padEnd(18)} ${envName(name).padEnd(24)} ${spec.description}${details === '' ? '' : ` (${details})`}`;
  });
  rows.push(`  --${'help'.padEnd(18)} ${''.padEnd(24)} show this help`);
  return `${USAGE}\n\nOptions (flag, environment variable):\n${rows.join('\n')}\n\nSee docs/OPERATIONS.md.\n`;
}

/** `--insecure` may stand alone or take true/false as the next argument, as every other option takes its value. */
function joinInsecureValue(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--insecure' && (next === 'true' || next === 'false')) {
      out.push(`--insecure=${next}`);
      i++;
    } else {
      out.push(argv[i]!);
    }
  }
  return out;
}

/** The configuration from a `shoal start` command line and the environment; a ConfigError for anything wrong. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, isTerminal = false): DaemonConfig {
  let parsed;
  try {
    parsed = parseArgs(joinInsecureValue(argv), START_FLAGS);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    throw new ConfigError(e.message);
  }
  if (parsed.positionals.length > 0) throw new ConfigError(`unexpected argument "${parsed.positionals[0]}"`);
  const { help: _help, ...flags } = parsed.flags;
  return resolveConfig({ flags: Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, String(v)])), env, isTerminal });
}

function packageVersion(): string {
  try {
    return String((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help());
    return ExitStatus.ok;
  }
  let config;
  try {
    config = loadConfig(argv, process.env, process.stdout.isTTY === true);
    // Counts the node cannot express as a consistency level fail here, before any port is bound.
    consistencyFor('read-quorum', config.readQuorum, config.replicas);
    consistencyFor('write-quorum', config.writeQuorum, config.replicas);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`shoal start: ${error.message}\n`);
    return ExitStatus.badConfig;
  }
  const log = createLogger({ level: config.logLevel, pretty: config.logFormat === 'pretty', name: config.name });

  const supervisor = watchSupervisor();
  let daemon;
  try {
    daemon = await startDaemon({ config, log, version: packageVersion() });
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    process.stderr.write(`shoal start: ${error.message}\n`);
    return ExitStatus.badConfig;
  }

  const status = await new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      // A second signal (Ctrl-C reaches `shoal dev` and its nodes alike, and dev then sends
      // SIGTERM) must not cut the handoff short; --shutdown-timeout bounds the stop instead.
      log.info({ signal }, daemonStopping ? 'already stopping' : 'signal received');
      if (daemonStopping) return;
      daemonStopping = true;
      void daemon.shutdown(signal).then(resolve);
    };
    let daemonStopping = false;
    // A node its cluster refuses (another partition count) cannot serve: say why and exit 2.
    void daemon.refused.then((reason) => {
      if (daemonStopping) return;
      daemonStopping = true;
      process.stderr.write(`shoal start: ${reason}\n`);
      void daemon.shutdown('refused').then(() => resolve(ExitStatus.badConfig));
    });
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    supervisor.onGone(() => onSignal('SIGHUP'));
  });
  // Exit now rather than wait for stray handles: the stop has closed everything that matters,
  // and the deadline must hold even if some socket lingers. pino writes stdout synchronously.
  process.exit(status);
}

/**
 * A supervisor that started this node with an IPC channel (`shoal dev`) and died: the node stops
 * with it. Watched from before the daemon starts, since the channel can close while the node is
 * still starting (dev killed, or Ctrl-C'd before it took the signal, in its first second), and
 * its 'disconnect' event is not repeated for a listener added later: the node would run on alone.
 */
function watchSupervisor(): { onGone: (stop: () => void) => void } {
  let gone = false;
  let stopNode: (() => void) | null = null;
  // process.send stays a function once the channel has closed; process.connected says whether it has.
  if (process.send !== undefined) {
    process.channel?.unref();
    if (!process.connected) gone = true;
    else
      process.once('disconnect', () => {
        gone = true;
        stopNode?.();
      });
  }
  return {
    onGone(stop) {
      stopNode = stop;
      if (gone) stop();
    },
  };
}

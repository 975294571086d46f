/**
 * `shoal start`: run one node in the foreground. Configuration problems (a bad value, an unknown
 * option, an unreadable file, a port in use) print one line and exit with status 2. SIGTERM or
 * SIGINT stops the node gracefully; the exit status says whether that finished in time.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, DAEMON_OPTIONS, envName, loadConfig, type OptionSpec } from '../daemon/config.ts';
import { startDaemon } from '../daemon/daemon.ts';
import { ExitStatus, StartupError } from '../daemon/errors.ts';
import { consistencyFor } from '../daemon/node-host.ts';
import { createLogger } from '../runtime/real.ts';

const USAGE = 'Usage: shoal start [options]\n\nRuns one Shoal node. Every option is also a SHOAL_* environment variable and a key of the --config file.';

export function help(): string {
  const rows = Object.entries(DAEMON_OPTIONS as Record<string, OptionSpec>).map(([name, spec]) => {
    const def = spec.default === undefined ? '' : ` (default: ${spec.default === '' ? 'none' : spec.default})`;
    return `  --${name.padEnd(18)} ${envName(name).padEnd(22)} ${spec.description}${def}`;
  });
  return `${USAGE}\n\nOptions (flag, environment variable):\n${rows.join('\n')}\n  --help               show this help\n\nSee docs/OPERATIONS.md.\n`;
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
    config = loadConfig(argv, process.env);
    // Counts the node cannot express as a consistency level fail here, before any port is bound.
    consistencyFor('read-quorum', config.readQuorum, config.replicas);
    consistencyFor('write-quorum', config.writeQuorum, config.replicas);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`shoal start: ${error.message}\n`);
    return ExitStatus.badConfig;
  }
  const log = createLogger({ level: config.logLevel, pretty: config.logFormat === 'pretty', name: config.name });

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
    // Started by a supervisor with an IPC channel (`shoal dev`): if it dies, stop with it.
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', () => onSignal('SIGHUP'));
    }
  });
  // Exit now rather than wait for stray handles: the stop has closed everything that matters,
  // and the deadline must hold even if some socket lingers. pino writes stdout synchronously.
  process.exit(status);
}

/**
 * `shoal` command dispatch. Each command lives in its own module and is loaded only when used, so
 * `shoal sim` does not pay for the daemon's imports and vice versa.
 */
import { UsageError } from './args.ts';

export type CommandMain = (argv: string[]) => Promise<number>;

interface Command {
  summary: string;
  load: () => Promise<{ run: CommandMain }>;
}

export const COMMANDS: Record<string, Command> = {
  start: { summary: 'run one node of a cluster (the daemon)', load: () => import('./start.ts') },
  dev: { summary: 'run a local 3-node cluster on loopback until Ctrl-C (npm start)', load: () => import('./dev.ts') },
  status: { summary: "a node's view of the cluster: members, states, zones, partitions", load: () => import('./status.ts') },
  ring: { summary: 'the ring: partition ownership per node and its balance', load: () => import('./ring.ts') },
  hotkeys: { summary: 'the hottest keys with estimated ops/s, merged from every member, and hot-key alerts', load: () => import('./hotkeys.ts') },
  stats: { summary: 'access analytics, cluster-wide: hit ratio over time, key/value sizes, TTLs, top prefixes, evictions', load: () => import('./stats.ts') },
  get: { summary: 'get KEY: print the value of a key', load: () => import('./kv.ts').then((m) => ({ run: m.runGet })) },
  set: { summary: 'set KEY VALUE [--ttl 60s]: store a value', load: () => import('./kv.ts').then((m) => ({ run: m.runSet })) },
  del: { summary: 'del KEY [KEY ...]: delete keys; (integer) N, how many held a value, and exit status 1 if none did', load: () => import('./kv.ts').then((m) => ({ run: m.runDel })) },
  drain: { summary: 'drain NODE: the node hands its partitions to the others and keeps serving as a coordinator', load: () => import('./drain.ts') },
  undrain: { summary: 'undrain NODE: a drained node takes its share of partitions back', load: () => import('./drain.ts').then((m) => ({ run: m.runUndrain })) },
  keyring: { summary: 'the gossip keyring, on every member: list | install | use KEYID | remove KEYID (docs/SECURITY.md)', load: () => import('./keyring.ts') },
  acl: { summary: "acl setuser|getuser|deluser|list|users|whoami: the cluster's users, through a node's Redis port", load: () => import('./acl.ts') },
  sim: { summary: 'run the deterministic simulator (seeds, faults, scenarios)', load: () => import('./sim.ts') },
  bench: { summary: 'benchmarks: hitratio (cache traces through the storage engine)', load: () => import('./bench.ts') },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: shoal <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun "shoal <command> --help" for a command's options.\n`;
}

/**
 * Makes a closed pipe on `stream` end the process quietly with status 0 (`shoal sim --list | head`):
 * the reader has all it wanted, and nothing written now could reach anyone. Other write errors
 * still surface.
 */
export function exitQuietlyOnBrokenPipe(stream: NodeJS.WritableStream, exit: (status: number) => void = (status) => process.exit(status)): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    exit(0);
  });
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`shoal: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`shoal ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

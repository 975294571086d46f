/**
 * `shoal dev` (what `npm start` runs): a local cluster of real daemons on loopback, as child
 * processes. Prints each node's endpoints and how to talk to the cluster, says when every node
 * sees every other alive, runs until Ctrl-C (or SIGTERM), then stops the nodes one after another,
 * killing any that do not stop in time.
 *
 * The nodes run in their own process group, so Ctrl-C reaches only this process and the nodes
 * leave in turn (each hands its partitions to the ones still running) instead of all at once. An
 * IPC channel to each node stops it if this process dies without cleaning up. And this process
 * stops the nodes when the one that started it goes away without a word: `npm start` execs it (npm
 * passes SIGTERM and SIGINT on only to its script's shell, which would die of them or, for SIGINT,
 * wait for this process), but a SIGKILLed npm passes nothing on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseOption } from '../daemon/config.ts';
import { optionSpec, type OptionName } from '../daemon/options.ts';
import { formatHelp, parseArgs, UsageError, type FlagSpecs } from './args.ts';

export const DEV_BASE_PORT = 7400;
/** Ports per node: client port, then peer port. Nodes are spaced by 10 to leave room. */
const PORT_STRIDE = 10;
/** How long one node may take to stop gracefully before it is killed (15 s). */
export const STOP_GRACE_MS = 15_000;
/** How long to wait for every node to see the whole cluster alive before saying so anyway (30 s). */
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 200;
/** How often to check that the process that started this one is still there (1 s). */
const PARENT_CHECK_MS = 1000;
/** Signals this soon after the first are the same one delivered twice, not a second Ctrl-C (1 s). */
const SAME_SIGNAL_MS = 1000;

/** Options of `shoal start` that dev takes and passes on to every node, with dev's defaults. */
const PASSED_ON = { 'log-level': 'warn', 'max-memory': '64mb' } as const satisfies Partial<Record<OptionName, string>>;

const FLAGS: FlagSpecs = {
  nodes: { kind: 'number', description: 'how many nodes', default: 3 },
  'base-port': { kind: 'number', description: 'client port of the first node; node i uses base + 10*i', default: DEV_BASE_PORT },
  ...Object.fromEntries(
    Object.entries(PASSED_ON).map(([name, def]) => [name, { kind: 'string', description: `${optionSpec(name as OptionName).description}, of every node`, default: def }]),
  ),
  help: { kind: 'boolean', description: 'show this help' },
};

/** The passed-on options as `shoal start` flags, checked here so a bad one fails once, not in every node. */
function passedOnArgs(flags: Record<string, string | number | boolean>): string[] {
  return Object.entries(PASSED_ON).flatMap(([name, def]) => {
    const text = String(flags[name] ?? def);
    try {
      parseOption(name as OptionName, text, `--${name}`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new UsageError(e.message);
    }
    return [`--${name}`, text];
  });
}

const SHOAL_BIN = fileURLToPath(new URL('../../bin/shoal.js', import.meta.url));

interface DevNode {
  name: string;
  port: number;
  peerPort: number;
  child: ChildProcess;
}

const isRunning = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatHelp('Usage: shoal dev [--nodes 3] [--base-port 7400]', FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const count = Number(flags.nodes ?? 3);
  const basePort = Number(flags['base-port'] ?? DEV_BASE_PORT);
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new UsageError('--nodes must be from 1 to 9');
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort + PORT_STRIDE * (count - 1) + 1 > 65535) throw new UsageError('--base-port must leave room for every node below 65536');
  const passedOn = passedOnArgs(flags);
  const replicas = Math.min(3, count);
  const quorum = Math.floor(replicas / 2) + 1;
  const seed = `127.0.0.1:${basePort + 1}`;

  let stopping = false;
  let failed = false;
  const nodes: DevNode[] = [];
  let allExited!: () => void;
  const exited = new Promise<void>((resolve) => (allExited = resolve));

  /** Stops the nodes last-started first, each gracefully, then resolves. */
  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const node of [...nodes].reverse()) {
      if (!isRunning(node.child)) continue;
      const gone = new Promise((resolve) => node.child.once('exit', resolve));
      node.child.kill('SIGTERM');
      const killTimer = setTimeout(() => {
        process.stderr.write(`shoal dev: ${node.name} did not stop within ${STOP_GRACE_MS / 1000}s; killing it\n`);
        node.child.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await gone;
      clearTimeout(killTimer);
    }
  };
  const killAll = (): void => {
    for (const node of nodes) if (isRunning(node.child)) node.child.kill('SIGKILL');
  };
  // Whatever ends this process, no node outlives it.
  process.on('exit', killAll);

  for (let i = 0; i < count; i++) {
    const name = `node${i + 1}`;
    const port = basePort + PORT_STRIDE * i;
    const args = [
      SHOAL_BIN, 'start',
      '--name', name,
      '--port', String(port),
      '--peer-port', String(port + 1),
      '--replicas', String(replicas),
      '--read-quorum', String(quorum),
      '--write-quorum', String(quorum),
      '--gossip-profile', 'local',
      ...passedOn,
      '--log-format', 'json',
      ...(i === 0 ? [] : ['--seeds', seed]),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const node = { name, port, peerPort: port + 1, child };
    nodes.push(node);
    prefixLines(child.stdout!, `[${name}] `, process.stdout);
    prefixLines(child.stderr!, `[${name}] `, process.stderr);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        failed = true;
        process.stderr.write(`shoal dev: ${name} exited (${signal ?? `status ${code}`}); stopping the others\n`);
        void stopAll().then(allExited);
      } else if (!nodes.some((n) => isRunning(n.child))) {
        allExited();
      }
    });
  }

  process.stdout.write(
    `Shoal dev cluster: ${count} node${count === 1 ? '' : 's'} on loopback (N=${replicas}, R=W=${quorum})\n` +
      nodes.map((n) => `  ${n.name}  clients ws://127.0.0.1:${n.port}/shoal   peers 127.0.0.1:${n.peerPort}`).join('\n') +
      `\n\nTalk to it from another terminal:\n` +
      `  npx shoal status${basePort === DEV_BASE_PORT ? '' : ` --node 127.0.0.1:${basePort}`}\n` +
      `  npx shoal set greeting hello${basePort === DEV_BASE_PORT ? '' : ` --node 127.0.0.1:${basePort}`}\n` +
      `  npx shoal get greeting${basePort === DEV_BASE_PORT ? '' : ` --node 127.0.0.1:${basePort}`}\n\n` +
      `Ctrl-C stops every node.\n`,
  );
  void announceReady(nodes, count, () => stopping);

  let signals = 0;
  let firstSignalAt = 0;
  const onSignal = (): void => {
    // Under `npm start`, one Ctrl-C arrives twice: from the terminal, and from npm passing it on.
    if (signals > 0 && performance.now() - firstSignalAt < SAME_SIGNAL_MS) return;
    if (++signals === 1) firstSignalAt = performance.now();
    if (signals > 1) {
      process.stdout.write('\nshoal dev: killing every node now\n');
      killAll();
      return;
    }
    if (stopping) return;
    process.stdout.write('\nshoal dev: stopping every node (Ctrl-C again to kill them)...\n');
    void stopAll().then(allExited);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // An orphan is re-parented (to init or a subreaper), so a changed parent pid means it is gone.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(parentWatch);
    process.stderr.write(`shoal dev: the process that started it (pid ${parent}) is gone\n`);
    if (signals === 0) onSignal();
  }, PARENT_CHECK_MS);
  await exited;
  clearInterval(parentWatch);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  process.off('exit', killAll);
  process.stdout.write('shoal dev: all nodes stopped\n');
  return failed ? 1 : 0;
}

/** Polls each node's status until every one sees `count` alive members, then says so. */
async function announceReady(nodes: DevNode[], count: number, stopping: () => boolean): Promise<void> {
  const { fetchStatus } = await import('./target.ts');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!stopping() && Date.now() < deadline) {
    const views = await Promise.all(nodes.map((n) => fetchStatus(`127.0.0.1:${n.port}`, 1000).catch(() => null)));
    if (views.every((v) => v !== null && v.joined && v.members.filter((m) => m.state === 'alive').length === count)) {
      process.stdout.write(`shoal dev: cluster ready: every node sees ${count} alive member${count === 1 ? '' : 's'}\n`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  if (!stopping()) process.stderr.write(`shoal dev: the nodes do not all see each other after ${READY_TIMEOUT_MS / 1000}s; see their logs above\n`);
}

function prefixLines(input: NodeJS.ReadableStream, prefix: string, output: NodeJS.WritableStream): void {
  let partial = '';
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) output.write(prefix + line + '\n');
  });
  input.on('end', () => {
    if (partial) output.write(prefix + partial + '\n');
  });
}

/**
 * `shoal dev` (what `npm start` runs): a local cluster of real daemons on loopback, as child
 * processes. Prints each node's endpoints and how to talk to the cluster, says when every node
 * sees every other alive, runs until Ctrl-C (or SIGTERM), then stops the nodes one after another,
 * killing any that do not stop in time. A node that dies once the cluster was ready leaves the
 * others serving (killing one is how a person watches a failure); before that, it stops them all.
 *
 * Rolling restart: a `restart` line on stdin, or SIGUSR2, restarts the nodes one by one (see
 * rollingRestart): each leaves gracefully, is started again with the same name and ports, and the
 * next goes once the restarted node is back and the cluster has converged.
 *
 * The nodes run in their own process group, so Ctrl-C reaches only this process and the nodes
 * leave in turn (each hands its partitions to the ones still running) instead of all at once. An
 * IPC channel to each node stops it if this process dies without cleaning up. And this process
 * stops the nodes when the one that started it goes away without a word: `npm start` execs it (npm
 * passes SIGTERM and SIGINT on only to its script's shell, which would die of them or, for SIGINT,
 * wait for this process), but a SIGKILLed npm passes nothing on. Its terminal closing (SIGHUP, then
 * failed writes) stops the nodes the same way, says why on stderr, and dev ends by SIGHUP
 * (dev-hang-up.ts).
 */
import { Progress } from './progress.ts';
import { endByHangUp, guardOutput } from './dev-hang-up.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join, resolve } from 'node:path';
import { ConfigError, resolveConfig } from '../daemon/config.ts';
import { envName, optionSpec, PORT_OFFSETS, type OptionName } from '../daemon/options.ts';
import type { NodeStatus } from '../protocol/index.ts';
import type { DevCertificatePaths } from '../security/dev-certs.ts';
import { formatHelp, parseArgs, UsageError, type FlagSpecs } from './args.ts';
import { isPortFree } from '../daemon/ports.ts';
import { liveLockHolder } from '../daemon/dir-lock.ts';

/** Waiting for the cluster (start, rolling restart): one line on stderr when it is a terminal; node log lines clear it first. */
const progress = new Progress();

export const DEV_BASE_PORT = 7400;
/** Ports per node: client port, then peer port. Nodes are spaced by 10 to leave room. */
const PORT_STRIDE = 10;
/** The layout in words, for messages: the nodes are named from node1, which takes the base port itself. */
const PORT_LAYOUT = `node1 uses base to base + ${PORT_OFFSETS['admin-port']}, node2 base + ${PORT_STRIDE} to base + ${PORT_STRIDE + PORT_OFFSETS['admin-port']}, and so on`;
/** How long one node may take to stop gracefully before it is killed (15 s). */
export const STOP_GRACE_MS = 15_000;
/** How long to wait for every node to see the whole cluster alive and answer ready before naming the ones that do not (60 s: 1024 partitions catch up slowly on a loaded machine). */
const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 200;
/** How often to check that the process that started this one is still there (1 s). */
const PARENT_CHECK_MS = 1000;
/** Signals this soon after the first are the same one delivered twice, not a second Ctrl-C (1 s). */
const SAME_SIGNAL_MS = 1000;
/** How long a rolling restart waits for the cluster to converge after each node before giving up (2 min). */
export const ROLLING_CONVERGE_TIMEOUT_MS = 120_000;

/** Where the nodes' data directories go: the daemon's own default for a node named node1 is .shoal/data/node1. */
const DEV_DATA_DIR = '.shoal/data';

/**
 * Options of `shoal start` that dev takes and passes on to every node, with dev's defaults; null:
 * none, the node's own applies unless given (--allowed-origins: no default list, since an empty one
 * would refuse every page, and the node's own rule takes localhost pages).
 */
const PASSED_ON: Partial<Record<OptionName, string | null>> = { 'log-level': 'warn', 'max-memory': '64mb', 'replica-timeout': '500ms', 'allowed-origins': null };

const FLAGS: FlagSpecs = {
  nodes: { kind: 'integer', description: 'how many nodes (1-9)', default: 3 },
  'base-port': { kind: 'integer', description: `node1's client port: ${PORT_LAYOUT} (client, peer, RESP and admin ports)`, default: DEV_BASE_PORT },
  ...Object.fromEntries(
    Object.entries(PASSED_ON).map(([name, def]) => [name, { kind: 'string', description: `${optionSpec(name as OptionName).description}, of every node`, ...(def === null ? {} : { default: def }) }]),
  ),
  'data-dir': { kind: 'string', description: 'where the nodes keep their data directories (node1 in DIR/node1...); each dev cluster needs its own', default: DEV_DATA_DIR },
  tls: { kind: 'boolean', description: 'TLS on every port, with a throwaway CA and node certificates written to .shoal/tls (mutual TLS between nodes)' },
  help: { kind: 'boolean', description: 'show this help' },
};

/** Where `shoal dev --tls` writes its CA and certificates (beside the nodes' data directories, .shoal/data). */
export const DEV_TLS_DIR = '.shoal/tls';

/**
 * The passed-on options as `shoal start` flags, checked here as a node checks them (resolveConfig),
 * with their SHOAL_* variables, which the nodes inherit, so a bad one fails once, before any node
 * starts, not in every node.
 */
function passedOnArgs(flags: Record<string, string | number | boolean>): string[] {
  const given = Object.entries(PASSED_ON).flatMap(([name, def]) => {
    const text = flags[name] ?? def;
    return text === null ? [] : [[name, String(text)] as const];
  });
  try {
    const inherited = Object.keys(PASSED_ON).map((name) => envName(name));
    resolveConfig({ flags: Object.fromEntries(given), env: Object.fromEntries(inherited.map((variable) => [variable, process.env[variable]])) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new UsageError(e.message);
  }
  return given.flatMap(([name, text]) => [`--${name}`, text]);
}

const SHOAL_BIN = fileURLToPath(new URL('../../bin/shoal.js', import.meta.url));

interface DevNode {
  name: string;
  port: number;
  peerPort: number;
  /** The Redis protocol port (the client port + its offset, PORT_OFFSETS, as the default --resp-port). */
  respPort: number;
  /** The HTTP admin port (the client port + its offset). */
  adminPort: number;
  child: ChildProcess;
  /** Set while a rolling restart stops this node on purpose, so its exit is not a failure. */
  restarting: boolean;
}

const isRunning = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatHelp('Usage: shoal dev [--nodes 3] [--base-port 7400] [--data-dir .shoal/data] [--tls]\nWhile it runs, a `restart` line on stdin (or SIGUSR2) restarts the nodes one by one.', FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const count = Number(flags.nodes ?? 3);
  const basePort = Number(flags['base-port'] ?? DEV_BASE_PORT);
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new UsageError('--nodes must be from 1 to 9');
  const highestBase = 65535 - PORT_STRIDE * (count - 1) - 3;
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort > highestBase) {
    throw new UsageError(`--base-port must be from 1024 to ${highestBase}, not ${basePort}: it is node1's client port, and ${PORT_LAYOUT} (${count} node${count === 1 ? '' : 's'})`);
  }
  const passedOn = passedOnArgs(flags);
  // Before any node starts: a node on a port in use would exit, and another cluster there would
  // answer the readiness checks in its place.
  await checkPortsFree(basePort, count, flags['data-dir'] === undefined ? undefined : String(flags['data-dir']));
  const dataRoot = resolve(String(flags['data-dir'] ?? DEV_DATA_DIR));
  checkDataDirFree(dataRoot, count, basePort);
  const replicas = Math.min(3, count);
  const quorum = Math.floor(replicas / 2) + 1;
  const seed = `127.0.0.1:${basePort + PORT_OFFSETS['peer-port']}`;
  const names = Array.from({ length: count }, (_, i) => `node${i + 1}`);
  let tls: DevCertificatePaths | null = null;
  if (flags.tls === true) {
    const { writeDevCertificates } = await import('../security/dev-certs.ts');
    tls = await writeDevCertificates(resolve(DEV_TLS_DIR), names);
    // This process checks on its nodes over wss too.
    const { setTargetTls } = await import('./target.ts');
    setTargetTls({ ca: readFileSync(tls.ca, 'utf8') });
  }

  let stopping = false;
  let failed = false;
  /** dev's exit status when failed: 2 when a node refused to start (its status 2: a port taken meanwhile, a data directory in use) before the cluster was ever ready. */
  let failedStatus = 1;
  let everReady = false;
  const nodes: DevNode[] = [];
  let allExited!: () => void;
  const exited = new Promise<void>((resolve) => (allExited = resolve));

  /** Stops the nodes last-started first, each gracefully, then resolves. */
  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const node of [...nodes].reverse()) await stopNode(node);
  };
  const killAll = (): void => {
    for (const node of nodes) if (isRunning(node.child)) node.child.kill('SIGKILL');
  };
  // Whatever ends this process, no node outlives it.
  process.on('exit', killAll);

  /** Starts node `i`; a restarted node joins through every other node, the first one included. */
  const startNode = (i: number, restart: boolean): DevNode => {
    const name = `node${i + 1}`;
    const port = basePort + PORT_STRIDE * i;
    const others = Array.from({ length: count }, (_, j) => `127.0.0.1:${basePort + PORT_STRIDE * j + 1}`).filter((_, j) => j !== i);
    const seeds = restart ? others : i === 0 ? [] : [seed];
    const args = [
      SHOAL_BIN, 'start',
      '--name', name,
      '--port', String(port),
      '--peer-port', String(port + PORT_OFFSETS['peer-port']),
      '--resp-port', String(port + PORT_OFFSETS['resp-port']),
      '--admin-port', String(port + PORT_OFFSETS['admin-port']),
      '--replicas', String(replicas),
      '--read-quorum', String(quorum),
      '--write-quorum', String(quorum),
      '--gossip-profile', 'local',
      '--data-dir', join(dataRoot, name),
      ...passedOn,
      ...(tls === null ? [] : ['--tls-cert', tls.nodes[name]!.cert, '--tls-key', tls.nodes[name]!.key, '--tls-ca', tls.ca]),
      '--log-format', 'json',
      ...(seeds.length === 0 ? [] : ['--seeds', seeds.join(',')]),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const node: DevNode = { name, port, peerPort: port + PORT_OFFSETS['peer-port'], respPort: port + PORT_OFFSETS['resp-port'], adminPort: port + PORT_OFFSETS['admin-port'], child, restarting: false };
    prefixLines(child.stdout!, `[${name}] `, process.stdout);
    prefixLines(child.stderr!, `[${name}] `, process.stderr);
    child.on('exit', (code, signal) => {
      if (node.restarting) return;
      // Once the cluster was up, a node that dies (a crash, or a kill -9 to watch the others
      // detect it) leaves the others serving: that failure is what a person is trying out.
      if (!stopping && everReady && nodes.some((n) => n !== node && isRunning(n.child))) {
        process.stderr.write(`shoal dev: ${name} exited (${signal ?? `status ${code}`}); the others keep serving (type restart to start it again; Ctrl-C stops them)\n`);
        return;
      }
      if (!stopping) {
        failed = true;
        if (code === 2 && !everReady && !restart) failedStatus = 2;
        process.stderr.write(`shoal dev: ${name} exited (${signal ?? `status ${code}`}); stopping the others\n`);
        void stopAll().then(allExited);
      } else if (!nodes.some((n) => isRunning(n.child))) {
        allExited();
      }
    });
    return node;
  };
  for (let i = 0; i < count; i++) nodes.push(startNode(i, false));

  const nodeFlag = (basePort === DEV_BASE_PORT ? '' : ` --node 127.0.0.1:${basePort}`) + (tls === null ? '' : ` --tls-ca ${tls.ca}`);
  process.stdout.write(
    `Shoal dev cluster: ${count} node${count === 1 ? '' : 's'} on loopback (N=${replicas}, R=W=${quorum})${tls === null ? '' : ', TLS on every port'}\n` +
      nodes.map((n) => `  ${n.name}  clients ${tls === null ? 'ws' : 'wss'}://127.0.0.1:${n.port}/shoal   peers 127.0.0.1:${n.peerPort}   redis 127.0.0.1:${n.respPort}   admin ${tls === null ? 'http' : 'https'}://127.0.0.1:${n.adminPort}/`).join('\n') +
      (tls === null ? '' : `\n\nTLS: throwaway CA ${tls.ca}; node certificates beside it; nodes require each other's certificates (mutual TLS)`) +
      `\n\nTalk to it from another terminal:\n` +
      `  npx shoal status${nodeFlag}\n` +
      `  npx shoal set greeting hello${nodeFlag}\n` +
      `  npx shoal get greeting${nodeFlag}\n` +
      `  redis-cli${tls === null ? '' : ` --tls --cacert ${tls.ca}`} -c -p ${basePort + PORT_OFFSETS['resp-port']} GET greeting\n\n` +
      `Type restart (Enter) for a rolling restart; Ctrl-C stops every node.\n`,
  );
  void announceReady(nodes, count, () => stopping, tls === null ? null : tls.ca).then((ready) => (everReady ||= ready));

  let rolling: Promise<void> | null = null;
  const onRestart = (): void => {
    if (stopping) return;
    if (rolling !== null) {
      process.stdout.write('shoal dev: a rolling restart is already under way\n');
      return;
    }
    rolling = rollingRestart(nodes, { startNode, stopNode, stopping: () => stopping })
      .catch((error: Error) => {
        failed = true;
        process.stderr.write(`shoal dev: rolling restart failed: ${error.message}; stopping every node\n`);
        if (!stopping) void stopAll().then(allExited);
      })
      .finally(() => (rolling = null));
  };
  process.on('SIGUSR2', onRestart);
  // A `restart` line on stdin does the same (stdin closed or not a terminal: only SIGUSR2).
  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on('line', (line) => {
    const command = line.trim();
    if (command === 'restart') onRestart();
    else if (command !== '') process.stdout.write(`shoal dev: unknown command "${command}" (try: restart)\n`);
  });

  let signals = 0;
  let firstSignalAt = 0;
  /** Whether the terminal hung up (SIGHUP): dev then ends by SIGHUP. */
  let hungUp = false;
  /**
   * The terminal closed, or the output went away: the graceful stop, saying why (on stderr, which
   * may still be read: a log file, a supervisor). Never the kill a second Ctrl-C asks for: a window
   * closed during the stop is no one's impatience.
   */
  const onGone = (why: string): void => {
    if (stopping) return;
    process.stderr.write(`shoal dev: ${why}: stopping every node\n`);
    void stopAll().then(allExited);
  };
  const onHangUp = (): void => {
    hungUp = true;
    onGone('SIGHUP (its terminal closed, or whatever started it hung up)');
  };
  const output = guardOutput(onGone);
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
  process.on('SIGHUP', onHangUp);
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
  process.off('SIGUSR2', onRestart);
  lines.close();
  process.stdin.destroy();
  process.off('exit', killAll);
  process.stdout.write('shoal dev: all nodes stopped\n');
  // A gone terminal fails Node 20's own exit (dev-hang-up.ts): end as a hung-up process does.
  if (hungUp || output.terminalGone()) await endByHangUp();
  process.off('SIGHUP', onHangUp);
  // Output that went away stays ignored: the last line may fail yet.
  if (!output.outputGone()) output.release();
  return failed ? failedStatus : 0;
}

/** How far apart the base ports tried for the suggestion are, and how many are tried each way. */
const SUGGESTED_BASE_STEP = 100;
const SUGGESTED_BASE_TRIES = 20;
/** The lowest base suggested: ports below it need privileges. */
const LOWEST_SUGGESTED_BASE = 1024;

/** The ports `count` nodes from `basePort` listen on, each with what it is. */
function devPorts(basePort: number, count: number): { port: number; what: string }[] {
  const roles = ['client', 'peer', 'RESP', 'admin'];
  return Array.from({ length: count }, (_, i) => roles.map((role, d) => ({ port: basePort + PORT_STRIDE * i + d, what: `node${i + 1}'s ${role} port` }))).flat();
}

async function busyPorts(basePort: number, count: number): Promise<{ port: number; what: string }[]> {
  const wanted = devPorts(basePort, count);
  const free = await Promise.all(wanted.map(({ port }) => isPortFree(port)));
  return wanted.filter((_, i) => !free[i]);
}

/**
 * Refuses (a usage error, exit 2) when any port the nodes would listen on is taken, naming the
 * first few, with the command that runs this cluster beside the other: a base port whose ports are
 * all free now, with the data directory given (so the printed command is the one to run) or else
 * its own (the other cluster may hold .shoal/data), in the form that reaches dev through
 * `npm start` when that is how it was run.
 */
async function checkPortsFree(basePort: number, count: number, dataDir: string | undefined): Promise<void> {
  const busy = await busyPorts(basePort, count);
  if (busy.length === 0) return;
  const named = busy.slice(0, 3).map((b) => `127.0.0.1:${b.port} (${b.what})`).join(', ') + (busy.length > 3 ? ` and ${busy.length - 3} more` : '');
  const highestBase = 65535 - PORT_STRIDE * (count - 1) - 3;
  // Nearest first, above then below at each distance, so a base near the top of the port range still gets one.
  let other: number | null = null;
  for (let i = 1; i <= SUGGESTED_BASE_TRIES && other === null; i++) {
    for (const candidate of [basePort + SUGGESTED_BASE_STEP * i, basePort - SUGGESTED_BASE_STEP * i]) {
      if (other !== null || candidate > highestBase || candidate < LOWEST_SUGGESTED_BASE) continue;
      if ((await busyPorts(candidate, count)).length === 0) other = candidate;
    }
  }
  const flags = other === null ? '' : `--base-port ${other} --data-dir ${dataDir === undefined ? `.shoal/dev-${other}` : shellWord(dataDir)}`;
  const beside = other === null ? 'give another --base-port' : process.env.npm_lifecycle_event === 'start' ? `run this one beside it: npm start -- ${flags}` : `run this one beside it: shoal dev ${flags}`;
  throw new UsageError(`${named} ${busy.length === 1 ? 'is' : 'are'} already in use (another shoal dev cluster or node?): stop it, or ${beside} (${PORT_LAYOUT})`);
}

/**
 * Refuses (a usage error, exit 2) when a node's data directory under `dataRoot` is held by a
 * running Shoal node, such as another dev cluster started with the same --data-dir: otherwise
 * this one prints its banner, starts its nodes, and stops them all when that node refuses its
 * directory, with advice meant for `shoal start` (each node its own --data-dir).
 */
function checkDataDirFree(dataRoot: string, count: number, basePort: number): void {
  for (let i = 1; i <= count; i++) {
    const dir = join(dataRoot, `node${i}`);
    const holder = liveLockHolder(dir);
    if (holder === null) continue;
    const onHost = holder.host === hostname() ? '' : ` on host ${holder.host}`;
    throw new UsageError(`${dir} is in use by another Shoal node (pid ${holder.pid}${onHost}, since ${holder.since}; another shoal dev cluster?): stop it, or give this cluster its own data directory, such as --data-dir .shoal/dev-${basePort}`);
  }
}

/** `word` as one shell word: as it is when it holds no character a shell treats specially, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** Stops one node gracefully (SIGTERM: it leaves, handing its partitions off), killing it if it takes too long. */
async function stopNode(node: DevNode): Promise<void> {
  if (!isRunning(node.child)) return;
  const gone = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGTERM');
  const killTimer = setTimeout(() => {
    process.stderr.write(`shoal dev: ${node.name} did not stop within ${STOP_GRACE_MS / 1000}s; killing it\n`);
    node.child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  await gone;
  clearTimeout(killTimer);
}

/**
 * Restarts the nodes one by one, in order: each leaves gracefully (its partitions go to the
 * others), is started again with its name and ports, and the next waits until the cluster has
 * converged (see converged). Clients see no failed request: a leaving node finishes what it
 * coordinates, and the SDK moves to the nodes in the ring.
 */
async function rollingRestart(
  nodes: DevNode[],
  ops: { startNode: (i: number, restart: boolean) => DevNode; stopNode: (node: DevNode) => Promise<void>; stopping: () => boolean },
): Promise<void> {
  const started = Date.now();
  process.stdout.write(`shoal dev: rolling restart of ${nodes.length} node${nodes.length === 1 ? '' : 's'}\n`);
  // Nodes that are not running (one was killed) first: they are started, not stopped, and the
  // cluster cannot converge, nor should a live node leave, while one is missing.
  const order = [...nodes.keys()].sort((a, b) => Number(isRunning(nodes[a]!.child)) - Number(isRunning(nodes[b]!.child)));
  for (const [step, i] of order.entries()) {
    const old = nodes[i]!;
    const wasRunning = isRunning(old.child);
    old.restarting = true;
    if (wasRunning) {
      process.stdout.write(`shoal dev: rolling restart: ${old.name} leaving\n`);
      await ops.stopNode(old);
      if (ops.stopping()) return;
    }
    nodes[i] = ops.startNode(i, true);
    process.stdout.write(`shoal dev: rolling restart: ${old.name} ${wasRunning ? 'restarted' : 'was not running: started again'}; waiting for the cluster to converge\n`);
    await waitUntilConverged(nodes, ops.stopping);
    if (ops.stopping()) return;
    process.stdout.write(`shoal dev: rolling restart: ${old.name} back (${step + 1}/${nodes.length})\n`);
  }
  process.stdout.write(`shoal dev: rolling restart done in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}

/**
 * Every node joined, seeing every dev node alive, all on one ring, and none catching up or with
 * partitions left to hand off.
 */
function converged(views: readonly (NodeStatus | null)[], names: readonly string[]): boolean {
  if (views.some((v) => v === null)) return false;
  const ring = views[0]!.ringVersion;
  return views.every(
    (v) =>
      v!.joined && v!.ringVersion === ring && v!.catchingUp === 0 && v!.toHandOff === 0 && names.every((n) => v!.members.some((m) => m.name === n && m.state === 'alive')),
  );
}

async function waitUntilConverged(nodes: readonly DevNode[], stopping: () => boolean): Promise<void> {
  const { fetchStatus } = await import('./target.ts');
  const started = Date.now();
  const deadline = started + ROLLING_CONVERGE_TIMEOUT_MS;
  try {
    while (!stopping()) {
      const views = await Promise.all(nodes.map((n) => fetchStatus(`127.0.0.1:${n.port}`, 1000).catch(() => null)));
      if (converged(views, nodes.map((n) => n.name))) return;
      if (Date.now() > deadline) throw new Error(`the cluster did not converge within ${ROLLING_CONVERGE_TIMEOUT_MS / 1000}s`);
      const up = views.filter((v) => v !== null);
      const rings = new Set(up.map((v) => v.ringVersion)).size;
      const catchingUp = up.reduce((sum, v) => sum + v.catchingUp, 0);
      const toHandOff = up.reduce((sum, v) => sum + v.toHandOff, 0);
      progress.update(
        `shoal dev: converging: ${up.filter((v) => v.joined).length}/${nodes.length} joined, ${rings} ring version${rings === 1 ? '' : 's'}, ${catchingUp} partitions catching up, ${toHandOff} to hand off (${Math.round((Date.now() - started) / 1000)}s)`,
      );
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
  } finally {
    progress.done();
  }
}

/**
 * Says the cluster is ready once every node sees `count` alive members and answers ready on its
 * admin port's /readyz (joined, caught up, not stopping): before that a request can meet a node
 * still settling (CLUSTERDOWN on the Redis port). Gives up after READY_TIMEOUT_MS naming each node
 * that is not ready and why.
 */
async function announceReady(nodes: DevNode[], count: number, stopping: () => boolean, caFile: string | null): Promise<boolean> {
  const { fetchStatus } = await import('./target.ts');
  const ca = caFile === null ? null : readFileSync(caFile);
  const started = Date.now();
  const deadline = started + READY_TIMEOUT_MS;
  let notReady: string[] = [];
  while (!stopping() && Date.now() < deadline) {
    const [views, readiness] = await Promise.all([
      Promise.all(nodes.map((n) => fetchStatus(`127.0.0.1:${n.port}`, 1000).catch(() => null))),
      Promise.all(nodes.map((n) => readyz(n.adminPort, ca))),
    ]);
    const seeing = views.filter((v) => v !== null && v.joined && v.members.filter((m) => m.state === 'alive').length === count).length;
    // Only this dev's own nodes count: a node that has exited is not ready, whatever answers on its port.
    notReady = nodes.flatMap((n, i) => (!isRunning(n.child) ? [`${n.name}: exited`] : readiness[i]!.ready ? [] : [`${n.name}: ${readiness[i]!.reason}`]));
    progress.update(`shoal dev: starting: ${seeing}/${count} nodes see ${count} alive member${count === 1 ? '' : 's'}, ${count - notReady.length}/${count} ready (${Math.round((Date.now() - started) / 1000)}s)`);
    if (seeing === count && notReady.length === 0) {
      progress.done();
      process.stdout.write(`shoal dev: cluster ready: every node sees ${count} alive member${count === 1 ? '' : 's'} and answers ready on /readyz\n`);
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  progress.done();
  if (!stopping()) {
    const why = notReady.length === 0 ? 'every node is ready but they do not all see each other' : `not ready: ${notReady.join('; ')}`;
    process.stderr.write(`shoal dev: the nodes do not all see each other and serve after ${READY_TIMEOUT_MS / 1000}s (${why}); see their logs above\n`);
  }
  return false;
}

/** A node's /readyz on its admin port: ready, or why not (its answer, or why there was none). */
function readyz(adminPort: number, ca: Buffer | null): Promise<{ ready: boolean; reason: string }> {
  return new Promise((resolve) => {
    const url = `${ca === null ? 'http' : 'https'}://127.0.0.1:${adminPort}/readyz`;
    const request = (ca === null ? httpGet : httpsGet)(url, { timeout: 1000, ...(ca === null ? {} : { ca }) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        let reason = `HTTP ${response.statusCode}`;
        try {
          reason = String((JSON.parse(body) as { reason?: unknown }).reason ?? reason);
        } catch {
          // not JSON: the status code says enough
        }
        resolve({ ready: response.statusCode === 200, reason });
      });
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 1 s')));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ready: false, reason: `no answer on /readyz: ${error.code ?? error.message}` }));
  });
}

function prefixLines(input: NodeJS.ReadableStream, prefix: string, output: NodeJS.WritableStream): void {
  let partial = '';
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    if (lines.length > 0) progress.clear();
    for (const line of lines) output.write(prefix + line + '\n');
  });
  input.on('end', () => {
    progress.clear();
    if (partial) output.write(prefix + partial + '\n');
  });
}

/**
 * The servers the RESP benchmark measures: redis-server (persistence off) and Shoal daemons run
 * from the compiled package (packages/server/bin/shoal.js, plain node, as users run it), each on
 * free loopback ports with its RESP listener on a port of its own. One daemon can run under
 * `node --cpu-prof`; it writes its profile when it stops (SIGTERM: a graceful exit). Every
 * process started here is killed by an exit hook should the benchmark die first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePorts } from '../../src/daemon/ports.ts';
import { fetchStatus, setTargetTls } from '../../src/cli/target.ts';
import { writeDevCertificates } from '../../src/security/dev-certs.ts';

export const COMPILED_SHOAL = fileURLToPath(new URL('../../packages/server/bin/shoal.js', import.meta.url));
const COMPILED_MAIN = fileURLToPath(new URL('../../packages/server/dist/cli/main.js', import.meta.url));
/** Bounds a hang only: a loaded 2-core machine starts a node in seconds. */
const STARTUP_TIMEOUT_MS = 60_000;
const CLUSTER_SLOTS = 16_384;

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = STARTUP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      // A command the server does not have will not appear by waiting.
      if (/unknown command/i.test(String(error))) throw new Error(`${what}: ${String(error)}`, { cause: error });
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(100);
  }
}

/** Runs one command on a fresh connection and closes it (readiness checks only, not the load). */
/** The CA file of the TLS node being started or measured (bench:resp's TLS row), else null. */
let askCa: string | null = null;

function ask(port: number, ...command: string[]): Promise<unknown> {
  return askAs(port, null, ...command);
}

async function askAs(port: number, auth: { user: string; password: string } | null, ...command: string[]): Promise<unknown> {
  const r = new Redis({ host: '127.0.0.1', port, ...(auth === null ? {} : { username: auth.user, password: auth.password }), ...(askCa === null ? {} : { tls: { ca: readFileSync(askCa), servername: 'localhost' } }), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, enableReadyCheck: false });
  r.on('error', () => {}); // refused while the server starts; connect() rejects and says so
  try {
    await r.connect();
    return await r.call(command[0]!, ...command.slice(1));
  } finally {
    r.disconnect();
  }
}

export interface Endpoint {
  host: string;
  port: number;
  /** With TLS: the CA file that signed the server's certificate. */
  ca?: string;
  /** With ACLs: the user every client authenticates as, and its password. */
  user?: string;
  password?: string;
}

export interface RunningServers {
  /** The RESP endpoints, one per process. */
  resp: Endpoint[];
  /** Process ids, in the order of `resp`. */
  pids: number[];
  stop(): Promise<void>;
}

export function redisVersion(): string | null {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return null;
  return /v=(\S+)/.exec(probe.stdout)?.[1] ?? 'unknown';
}

/** redis-server on a free loopback port (or `atPort`), persistence off (a cache, as Shoal is). */
export async function startRedis(atPort?: number): Promise<RunningServers> {
  const [port] = atPort === undefined ? await freePorts(1) : [atPort];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  started.add(child);
  await until('redis-server to answer PING', async () => (await ask(port!, 'PING')) === 'PONG');
  return { resp: [{ host: '127.0.0.1', port: port! }], pids: [child.pid!], stop: () => stopChildren([child], 'SIGKILL') };
}

/** The user the ACL rows authenticate as. Throwaway: the node lives as long as the row. */
export const BENCH_USER = { user: 'bench', password: 'bench-password' };
/** A password, key patterns (what redis-benchmark's SET/GET/INCR/MSET touch) and categories. */
const BENCH_USER_RULES = ['on', `>${BENCH_USER.password}`, 'resetkeys', '~key:*', '~counter:*', '+@all', '-@dangerous'];

export interface ShoalShape {
  /** TLS on every port, with throwaway certificates (the TLS row). */
  tls?: boolean;
  /**
   * ACLs on (the ACL row): once the node is ready, a user BENCH_USER with a password and the key
   * patterns redis-benchmark's keys match, and the default user off, so every client must AUTH.
   */
  acl?: boolean;
  nodes: number;
  replicas: number;
  writeQuorum: number;
  readQuorum: number;
  /** Run the first node under `node --cpu-prof`, writing its profile into this directory when it stops. */
  cpuProfileDir?: string;
  /** The daemon to run (another build's packages/server/bin/shoal.js, to compare two); default COMPILED_SHOAL. */
  bin?: string;
  /** Ports firstPort .. firstPort + 3 x nodes - 1 (on a machine whose users share out port ranges); default: free ports drawn at random. */
  firstPort?: number;
  /** More `shoal start` options for every node (e.g. `--resp-max-arguments`). */
  extraArgs?: string[];
  /** Options for node itself, before the daemon's script, for every node (e.g. `--max-semi-space-size=32`). */
  nodeArgs?: string[];
}

/** Says how to build when the compiled daemon is missing (the benchmark measures what users run). */
export function compiledShoalMissing(): string | null {
  return existsSync(COMPILED_MAIN) ? null : `the compiled daemon is missing (${COMPILED_MAIN}); run \`npm run build\` first (npm run bench:resp does)`;
}

/**
 * Starts `shape.nodes` compiled daemons and waits until each sees all the others alive and its
 * RESP port answers; with more than one node, until every node's CLUSTER SLOTS covers all 16,384
 * slots (what redis-benchmark --cluster and cluster clients route by).
 */
export async function startShoal(shape: ShoalShape): Promise<RunningServers> {
  const ports = shape.firstPort === undefined ? await freePorts(3 * shape.nodes) : Array.from({ length: 3 * shape.nodes }, (_, i) => shape.firstPort! + i);
  const names = Array.from({ length: shape.nodes }, (_, i) => `resp${i + 1}`);
  const certs = shape.tls ? await writeDevCertificates(mkdtempSync(join(tmpdir(), 'shoal-bench-tls-')), names) : null;
  askCa = certs?.ca ?? null;
  setTargetTls(certs === null ? null : { ca: readFileSync(certs.ca, 'utf8') });
  const children: ChildProcess[] = [];
  const dataDirs: string[] = [];
  const clientAddresses: string[] = [];
  const resp: Endpoint[] = [];
  for (let i = 0; i < shape.nodes; i++) {
    const [clientPort, peerPort, respPort] = [ports[3 * i]!, ports[3 * i + 1]!, ports[3 * i + 2]!];
    const profile = i === 0 && shape.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', shape.cpuProfileDir] : [];
    const child = spawn(
      process.execPath,
      [
        ...(shape.nodeArgs ?? []),
        ...profile,
        shape.bin ?? COMPILED_SHOAL, 'start',
        '--name', `resp${i + 1}`,
        '--port', String(clientPort),
        '--peer-port', String(peerPort),
        '--resp-port', String(respPort),
        // No admin port: its default (--port + 3) may be another process's port.
        '--admin-port', '0',
        '--replicas', String(shape.replicas),
        '--read-quorum', String(shape.readQuorum),
        '--write-quorum', String(shape.writeQuorum),
        '--gossip-profile', 'local',
        '--shutdown-timeout', '10s',
        '--max-memory', '512mb',
        // A fresh data directory per node and run: users set by one row must not reach the next.
        '--data-dir', dataDirs[dataDirs.push(mkdtempSync(join(tmpdir(), 'shoal-bench-data-'))) - 1]!,
        '--log-level', 'warn',
        '--log-format', 'json',
        ...(i === 0 ? [] : ['--seeds', `127.0.0.1:${ports[1]}`]),
        ...(shape.extraArgs ?? []),
        ...(certs === null ? [] : ['--tls-cert', certs.nodes[names[i]!]!.cert, '--tls-key', certs.nodes[names[i]!]!.key, '--tls-ca', certs.ca]),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    started.add(child);
    children.push(child);
    clientAddresses.push(`127.0.0.1:${clientPort}`);
    resp.push({ host: '127.0.0.1', port: respPort, ...(certs === null ? {} : { ca: certs.ca }) });
  }
  try {
    await untilShoalReady(shape, children, clientAddresses, resp);
    if (shape.acl) await lockDown(resp);
  } catch (error) {
    // A cluster that did not come up must not keep its processes (and CPU) for the rest of the run.
    await stopChildren(children, 'SIGKILL');
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = async (): Promise<void> => {
    // The profiled node stops first, gracefully (its profile is written on exit), while its peers
    // still take its handoff; the rest are disposable.
    if (shape.cpuProfileDir) await stopChildren(children.slice(0, 1), 'SIGTERM');
    await stopChildren(children, 'SIGKILL');
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  };
  return { resp, pids: children.map((c) => c.pid!), stop };
}

async function untilShoalReady(shape: ShoalShape, children: ChildProcess[], clientAddresses: string[], resp: Endpoint[]): Promise<void> {
  await until(`${shape.nodes} Shoal nodes to see each other`, async () => {
    for (const child of children) if (child.exitCode !== null) throw new Error(`a Shoal node exited with status ${child.exitCode}`);
    for (const address of clientAddresses) {
      const status = await fetchStatus(address, 1000);
      if (!status.joined || status.catchingUp > 0 || status.members.filter((m) => m.state === 'alive').length !== shape.nodes) return false;
    }
    return true;
  });
  await until('every RESP port to answer PING', async () => {
    for (const endpoint of resp) if ((await ask(endpoint.port, 'PING')) !== 'PONG') return false;
    return true;
  });
  if (shape.nodes > 1) {
    await until('every node to list all 16384 slots in CLUSTER SLOTS', async () => {
      for (const endpoint of resp) if (slotsCovered(await ask(endpoint.port, 'CLUSTER', 'SLOTS')) !== CLUSTER_SLOTS) return false;
      return true;
    });
  }
}

/**
 * Creates BENCH_USER and turns the default user off, then checks that it holds: a connection
 * without AUTH is refused, and the endpoints carry the user for redis-benchmark.
 */
async function lockDown(resp: Endpoint[]): Promise<void> {
  if ((await ask(resp[0]!.port, 'ACL', 'SETUSER', BENCH_USER.user, ...BENCH_USER_RULES)) !== 'OK') throw new Error('ACL SETUSER failed');
  // The node may close the connection that turned its own user off: what counts is the check below.
  await ask(resp[0]!.port, 'ACL', 'SETUSER', 'default', 'off').catch((error: unknown) => {
    if (!/closed/i.test(String(error))) throw error;
  });
  // ioredis opens with HELLO 3, which the node refuses (NOAUTH), and then closes the connection.
  await ask(resp[0]!.port, 'GET', 'key:1').then(
    () => {
      throw new Error('the default user still works after ACL SETUSER default off');
    },
    (error: unknown) => {
      if (!/NOAUTH|closed/i.test(String(error))) throw error;
    },
  );
  for (const endpoint of resp) if ((await askAs(endpoint.port, BENCH_USER, 'SET', 'key:0', 'x')) !== 'OK') throw new Error(`${BENCH_USER.user} cannot SET`);
  for (const endpoint of resp) Object.assign(endpoint, BENCH_USER);
}

/** How many slots a CLUSTER SLOTS reply ([[start, end, [host, port, id], ...], ...]) covers. */
export function slotsCovered(reply: unknown): number {
  if (!Array.isArray(reply)) return 0;
  let covered = 0;
  for (const range of reply) {
    if (!Array.isArray(range) || typeof range[0] !== 'number' || typeof range[1] !== 'number') return 0;
    covered += range[1] - range[0] + 1;
  }
  return covered;
}

/**
 * SIGKILL for disposable benchmark data; SIGTERM when a profile must be written on the way out
 * (then SIGKILL after a bound, so a stuck stop cannot hang the run).
 */
async function stopChildren(children: ChildProcess[], signal: NodeJS.Signals): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill(signal);
        }),
    ),
  );
  for (const child of children) started.delete(child);
}

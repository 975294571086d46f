/**
 * The processes a cluster benchmark runs against: Shoal daemons (`shoal start` children on free
 * loopback ports) and a redis-server with persistence off. Every process started here is killed by
 * `stopAll`, and by an exit hook should the benchmark die first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../src/daemon/ports.ts';
import { fetchStatus } from '../../src/cli/target.ts';

const SHOAL_BIN = fileURLToPath(new URL('../../bin/shoal.js', import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = STARTUP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ShoalCluster {
  /** Client addresses (`host:port`). */
  addresses: string[];
  stop(): Promise<void>;
}

/** Starts `nodes` daemons with N = `replicas` (R = W = majority) and waits until all see each other. */
export async function startShoal(nodes: number, replicas: number): Promise<ShoalCluster> {
  const ports = await freePorts(2 * nodes);
  const quorum = Math.floor(replicas / 2) + 1;
  const children: ChildProcess[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const child = spawn(
      process.execPath,
      [
        SHOAL_BIN, 'start',
        '--name', `bench${i + 1}`,
        '--port', String(ports[2 * i]),
        '--peer-port', String(ports[2 * i + 1]),
        // Ports come from freePorts: the defaults (port + 2, + 3) may be another node's.
        '--resp-port', '0',
        '--admin-port', '0',
        '--replicas', String(replicas),
        '--read-quorum', String(quorum),
        '--write-quorum', String(quorum),
        '--gossip-profile', 'local',
        '--max-memory', '512mb',
        '--log-level', 'warn',
        '--log-format', 'json',
        ...(i === 0 ? [] : ['--seeds', `127.0.0.1:${ports[1]}`]),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    started.add(child);
    children.push(child);
    addresses.push(`127.0.0.1:${ports[2 * i]}`);
  }
  await until(`${nodes} Shoal nodes to see each other`, async () => {
    for (const address of addresses) {
      const status = await fetchStatus(address, 1000);
      if (!status.joined || status.members.filter((m) => m.state === 'alive').length !== nodes) return false;
    }
    return true;
  });
  return {
    addresses,
    stop: () => stopChildren(children),
  };
}

export interface RedisServer {
  address: { host: string; port: number };
  version: string;
  stop(): Promise<void>;
}

/** Starts redis-server on a free port, or returns the reason it cannot (not installed). */
export async function startRedis(): Promise<RedisServer | { skipped: string }> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { skipped: 'redis-server not found; install it with: sudo apt-get install -y redis-server (Debian/Ubuntu)' };
  }
  const version = /v=(\S+)/.exec(probe.stdout)?.[1] ?? 'unknown';
  const [port] = await freePorts(1);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  started.add(child);
  const { Redis } = await import('ioredis');
  await until('redis-server to answer', async () => {
    const r = new Redis({ host: '127.0.0.1', port: port!, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {}); // refused while redis-server starts; the connect() rejection says so
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } finally {
      r.disconnect();
    }
  });
  return { address: { host: '127.0.0.1', port: port! }, version, stop: () => stopChildren([child]) };
}

async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          // A benchmark's data is disposable: no graceful handoff needed.
          child.kill('SIGKILL');
        }),
    ),
  );
  for (const child of children) started.delete(child);
}

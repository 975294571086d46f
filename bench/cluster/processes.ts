/**
 * The processes a cluster benchmark runs against: Shoal daemons (`shoal start` children on free
 * loopback ports) and a redis-server with persistence off. Every process started here is killed by
 * `stopAll`, and by an exit hook should the benchmark die first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { ClientTlsOptions } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { fetchStatus, setTargetTls } from '../../src/cli/target.ts';
import { writeDevCertificates } from '../../src/security/dev-certs.ts';

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
  /** What the SDK connects with: the CA with TLS, the user with ACLs. */
  connectOptions: { tls?: ClientTlsOptions; username?: string; password?: string };
  stop(): Promise<void>;
}

/**
 * What a row turns on beyond a plain node: TLS on every port and/or ACLs (the default user off, a
 * user with a password and key patterns; issue 14), or the admin port with its metrics, scraped
 * every second while the row runs (issue 15; Prometheus usually scrapes every 15 s).
 */
export interface Security {
  tls?: boolean;
  acl?: boolean;
  metrics?: boolean;
}

/** How often the metrics row scrapes each node's /metrics. */
export const SCRAPE_INTERVAL_MS = 1000;

/** The user the ACL rows connect as; its key patterns cover the workload's keys (`bench:key:N`). */
export const BENCH_USER = { username: 'bench', password: 'bench-password' };

/** Starts `nodes` daemons with N = `replicas` (R = W = majority) and waits until all see each other. */
export async function startShoal(nodes: number, replicas: number, security: Security = {}): Promise<ShoalCluster> {
  const ports = await freePorts(4 * nodes);
  const quorum = Math.floor(replicas / 2) + 1;
  const children: ChildProcess[] = [];
  const addresses: string[] = [];
  // A fresh data directory per run: users set by one row must not reach the next.
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-bench-data-'));
  const names = Array.from({ length: nodes }, (_, i) => `bench${i + 1}`);
  const certs = security.tls ? await writeDevCertificates(join(dataDir, 'tls'), names) : null;
  const tls: ClientTlsOptions | undefined = certs === null ? undefined : { ca: readFileSync(certs.ca, 'utf8') };
  setTargetTls(tls ?? null);
  for (let i = 0; i < nodes; i++) {
    const child = spawn(
      process.execPath,
      [
        SHOAL_BIN, 'start',
        '--name', `bench${i + 1}`,
        '--port', String(ports[4 * i]),
        '--peer-port', String(ports[4 * i + 1]),
        '--resp-port', String(ports[4 * i + 2]),
        // The admin port (and with it the metrics) only for the metrics row; never its default
        // (--port + 3), which may be another process's port.
        '--admin-port', security.metrics ? String(ports[4 * i + 3]) : '0',
        '--data-dir', join(dataDir, names[i]!),
        ...(certs === null ? [] : ['--tls-cert', certs.nodes[names[i]!]!.cert, '--tls-key', certs.nodes[names[i]!]!.key, '--tls-ca', certs.ca]),
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
    addresses.push(`127.0.0.1:${ports[4 * i]}`);
  }
  let scraper: NodeJS.Timeout | undefined;
  const stop = async (): Promise<void> => {
    clearInterval(scraper);
    await stopChildren(children);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await until(`${nodes} Shoal nodes to see each other`, async () => {
      for (const address of addresses) {
        const status = await fetchStatus(address, 1000);
        if (!status.joined || status.members.filter((m) => m.state === 'alive').length !== nodes) return false;
      }
      return true;
    });
    if (security.acl) await lockDown(ports[2]!, tls);
    if (security.metrics) {
      const urls = Array.from({ length: nodes }, (_, i) => `http://127.0.0.1:${ports[4 * i + 3]}/metrics`);
      scraper = setInterval(() => {
        for (const url of urls) void fetch(url).then((r) => r.text(), () => '');
      }, SCRAPE_INTERVAL_MS);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { addresses, connectOptions: { ...(tls === undefined ? {} : { tls }), ...(security.acl ? BENCH_USER : {}) }, stop };
}

/**
 * Through the first node's Redis port: creates BENCH_USER (a password, the key pattern `~bench:key:*`,
 * every category but dangerous) and turns the default user off, so every client must authenticate.
 */
async function lockDown(respPort: number, tls: ClientTlsOptions | undefined): Promise<void> {
  const r = new Redis({ host: '127.0.0.1', port: respPort, ...(tls === undefined ? {} : { tls: { ca: tls.ca as string, servername: 'localhost' } }), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {}); // the rejection of the call says it
  try {
    await r.connect();
    await r.call('ACL', 'SETUSER', BENCH_USER.username, 'on', `>${BENCH_USER.password}`, 'resetkeys', '~bench:key:*', '+@all', '-@dangerous');
    await r.call('ACL', 'SETUSER', 'default', 'off');
  } finally {
    r.disconnect();
  }
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

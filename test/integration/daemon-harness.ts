/**
 * Real daemons for the integration tests: `shoal start` child processes on free loopback ports,
 * with their JSON logs captured, helpers to wait for a condition, and a cleanup that kills every
 * process a test started whatever happens (call `cleanup` from `t.after`; a process-exit hook is
 * the last resort).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimPorts, freePorts, isPortFree, randomPortOutsideEphemeral } from '../../src/daemon/ports.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { fetchStatus } from '../../src/cli/target.ts';

/**
 * The compiled `shoal` command (packages/server/bin/shoal.js): what `npm start` runs and the
 * published package installs, plain node over packages/server/dist. Not the repository's
 * bin/shoal.js, which runs src/ through tsx: a daemon started that way spent about 2.5 s of CPU in
 * its first 6 s against 0.8 s compiled, nearly all of it loading TypeScript, and the integration
 * tests start some 200 daemons and 80 commands (one run of test/integration, counted): about six
 * CPU-minutes of loading TypeScript. `npm test` builds first; a test run on its own after src/ changed without a build stops
 * at once and says so (assertBuildCurrent), rather than test the code before the change.
 */
export const SHOAL_BIN = fileURLToPath(new URL('../../packages/server/bin/shoal.js', import.meta.url));
assertBuildCurrent();

/** Throws unless packages/server/dist was built after the last change to any TypeScript file under src/. */
function assertBuildCurrent(): void {
  const src = fileURLToPath(new URL('../../src', import.meta.url));
  const buildInfo = fileURLToPath(new URL('../../packages/server/dist/.tsbuildinfo', import.meta.url));
  let builtMs: number;
  try {
    builtMs = statSync(buildInfo).mtimeMs;
  } catch {
    throw new Error('packages/server/dist is not built: run `npm run build` (npm install and npm test do it) before the integration tests');
  }
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    // The .js files beside them are the tests' own compile (tsconfig.tests.json), not the build's.
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    if (statSync(file).mtimeMs > builtMs) throw new Error(`${file} changed after packages/server/dist was built: run \`npm run build\` (npm test does it) so the daemons the integration tests start run the current code`);
  }
}

// The default deadlines below only bound a hang: a loaded 2-core machine can be five times slower
// than an idle one, and no test here measures how fast anything is.

const everyChild = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of everyChild) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Polls `check` every `everyMs` until it returns a non-undefined value; throws after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `node bin/shoal.js ARGS` to completion. */
export function runShoal(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000, stdin?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runNode([SHOAL_BIN, ...args], timeoutMs, env, stdin);
}

/**
 * The daemon's "node NAME ready: ..." line, once every listener is open. Not any line with "ready"
 * in it: "the default user already has the password" matched that, and once JSON logs were written
 * synchronously it came out first, so a test talked to a port that was not listening yet.
 */
export function isReadyLine(line: Record<string, unknown>): boolean {
  return typeof line.msg === 'string' && /^node \S+ ready: /.test(line.msg);
}

/** Runs `node ARGS` to completion, killing it after `timeoutMs`; its stdin is `stdin`, then closed (at once without it). */
function runNode(args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}, stdin?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'pipe', env: { ...cleanEnv(), ...env } });
    child.stdin.end(stdin ?? '');
    everyChild.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': by then every byte it wrote has been read (its exit can be seen first).
    child.on('close', (status) => {
      clearTimeout(timer);
      everyChild.delete(child);
      resolve({ status, stdout, stderr });
    });
  });
}

/**
 * Runs `node bin/shoal.js ARGS` to completion with its stdout and stderr on one file, as `2>&1`
 * would (or a journal): `output` shows the order in which the lines were written.
 */
export async function runShoalMerged(args: string[], timeoutMs = 60_000): Promise<{ status: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-merged-'));
  const path = join(dir, 'output');
  const fd = openSync(path, 'w');
  try {
    const child = spawn(process.execPath, [SHOAL_BIN, ...args], { stdio: ['ignore', fd, fd], env: cleanEnv() });
    everyChild.add(child);
    const status = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`shoal ${args.join(' ')} did not finish within ${timeoutMs} ms; output: ${readFileSync(path, 'utf8')}`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        everyChild.delete(child);
        resolve(code);
      });
    });
    return { status, output: readFileSync(path, 'utf8') };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `shoal ARGS` for each of `runs` in one process (shoal-each.ts: src/cli's main, as
 * bin/shoal.js runs it, one command after another), for tests that check many commands' messages
 * and statuses: one process start instead of one per command, which costs seconds each on a
 * loaded machine. A command that exits the process or never returns fails the whole call.
 */
export async function runShoalEach(runs: string[][], timeoutMs = 120_000): Promise<{ status: number; stdout: string; stderr: string }[]> {
  // Compiled (npm test), this harness is a .js file and shoal-each.js stands beside it: plain Node,
  // without tsx's loader thread; run from source, through tsx.
  const compiled = import.meta.url.endsWith('.js');
  const each = fileURLToPath(new URL(compiled ? './shoal-each.js' : './shoal-each.ts', import.meta.url));
  const r = await runNode([...(compiled ? [] : ['--import', 'tsx']), each, JSON.stringify(runs)], timeoutMs);
  if (r.status !== 0) throw new Error(`shoal-each exited with ${r.status}; stderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as { status: number; stdout: string; stderr: string }[];
}

/** The environment without SHOAL_* variables of whoever runs the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SHOAL_')));
}

export interface NodeSpec {
  name: string;
  port: number;
  peerPort: number;
  seeds: string[];
  extra: string[];
  /** The Redis protocol port; absent: no RESP listener (`--resp-port 0`). */
  respPort?: number;
  /** The HTTP admin port; absent: none (`--admin-port 0`). */
  adminPort?: number;
  /**
   * Where it runs, when not on loopback in the test's own network namespace: the address it
   * listens on (`--host`, with `--insecure`: no password is set) in the network namespace `netns`
   * (started with `ip netns exec`, which execs in place, so signals reach the daemon itself).
   * test/integration/netns.ts makes both.
   */
  placement?: { host: string; netns: string };
}

/** One `shoal start` process (restartable with the same name and ports). */
export class DaemonProcess {
  child: ChildProcess | null = null;
  /** Parsed JSON log lines of the current process. */
  logs: Record<string, unknown>[] = [];
  stderr = '';
  private exitWaiters: ((code: number | null) => void)[] = [];
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  /** No process, or the last one has exited and closed its output. */
  private closed = true;

  constructor(readonly spec: NodeSpec) {}

  /** The address its ports listen on: 127.0.0.1 unless placed elsewhere. */
  get host(): string {
    return this.spec.placement?.host ?? '127.0.0.1';
  }

  get clientAddress(): string {
    return `${this.host}:${this.spec.port}`;
  }

  get peerAddress(): string {
    return `${this.host}:${this.spec.peerPort}`;
  }

  get respAddress(): string | null {
    return this.spec.respPort === undefined ? null : `${this.host}:${this.spec.respPort}`;
  }

  /** `http://HOST:PORT`, or null without an admin port. */
  get adminUrl(): string | null {
    return this.spec.adminPort === undefined ? null : `http://${this.host}:${this.spec.adminPort}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** This process's --data-dir: its own temporary directory, kept across restarts, removed when the test process exits. */
  private dataDir: string | null = null;

  private ownDataDir(): string {
    return (this.dataDir ??= tempDir(`shoal-${this.spec.name}-`));
  }

  /** Spawns the process and resolves once it logs that it is ready (rejects if it exits first). */
  async start(timeoutMs = 60_000): Promise<void> {
    const s = this.spec;
    const args = [
      SHOAL_BIN, 'start',
      '--name', s.name,
      '--port', String(s.port),
      '--peer-port', String(s.peerPort),
      // A RESP port only where a test asked for one: port + 2 may be another test's port.
      '--resp-port', String(s.respPort ?? 0),
      // Likewise the admin port (port + 3).
      '--admin-port', String(s.adminPort ?? 0),
      '--gossip-profile', 'local',
      '--log-format', 'json',
      '--log-level', 'info',
      '--max-memory', '32mb',
      ...(s.seeds.length > 0 ? ['--seeds', s.seeds.join(',')] : []),
      ...(s.placement === undefined ? [] : ['--host', s.placement.host, '--insecure']),
      // Concurrent test files start nodes with the same names: each gets its own data directory.
      ...(s.extra.includes('--data-dir') ? [] : ['--data-dir', this.ownDataDir()]),
      ...s.extra,
    ];
    this.logs = [];
    this.stderr = '';
    this.exitCode = null;
    this.exitSignal = null;
    this.closed = false;
    const command = s.placement === undefined ? [process.execPath, ...args] : ['ip', 'netns', 'exec', s.placement.netns, process.execPath, ...args];
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    this.child = child;
    everyChild.add(child);
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.logs.push({ msg: line });
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    // 'close', not 'exit': by then its last log lines and stderr have been read (a test that
    // checks them after exited() would otherwise race the exit against the pipes).
    child.on('close', (code, signal) => {
      everyChild.delete(child);
      this.exitCode = code;
      this.exitSignal = signal;
      this.closed = true;
      for (const w of this.exitWaiters.splice(0)) w(code);
    });
    await until(`${s.name} to be ready`, () => {
      if (!this.running) throw new Error(`${s.name} exited (${child.signalCode ?? child.exitCode}): ${this.stderr}`);
      return this.logs.some(isReadyLine) ? true : undefined;
    }, timeoutMs, 50).catch((error: Error) => {
      // A start that failed must not leave its process behind.
      this.kill('SIGKILL');
      throw error;
    });
  }

  /** Resolves with the exit code once the process has exited and its output is read (null after a signal). */
  exited(): Promise<number | null> {
    if (this.closed) return Promise.resolve(this.exitCode);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child!.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.running) return this.exited();
    const gone = this.exited();
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const code = await gone;
    clearTimeout(timer);
    return code;
  }

  status(timeoutMs = 2000): Promise<NodeStatus> {
    return fetchStatus(this.clientAddress, timeoutMs);
  }
}

/** A set of daemons that join through the first one's peer port. */
export class TestCluster {
  readonly nodes: DaemonProcess[] = [];

  /**
   * Allocates ports for `count` nodes n1, n2... (started later with `start`); `resp`: each with a
   * RESP port too; `admin`: each with an HTTP admin port too; `placements`: node i placed at
   * `placements[i]` (NodeSpec.placement).
   */
  static async create(count: number, extra: string[] = [], options: { resp?: boolean; admin?: boolean; placements?: NodeSpec['placement'][] } = {}): Promise<TestCluster> {
    const resp = options.resp === true;
    const admin = options.admin === true;
    const perNode = 2 + (resp ? 1 : 0) + (admin ? 1 : 0);
    const ports = await freePorts(perNode * count);
    const cluster = new TestCluster();
    const seedHost = options.placements?.[0]?.host ?? '127.0.0.1';
    for (let i = 0; i < count; i++) {
      const own = ports.slice(perNode * i, perNode * (i + 1));
      const placement = options.placements?.[i];
      cluster.nodes.push(
        new DaemonProcess({
          name: `n${i + 1}`,
          port: own[0]!,
          peerPort: own[1]!,
          ...(resp ? { respPort: own[2]! } : {}),
          ...(admin ? { adminPort: own[perNode - 1]! } : {}),
          seeds: i === 0 ? [] : [`${seedHost}:${ports[1]!}`],
          extra,
          ...(placement === undefined ? {} : { placement }),
        }),
      );
    }
    return cluster;
  }

  get clientAddresses(): string[] {
    return this.nodes.map((n) => n.clientAddress);
  }

  async startAll(): Promise<void> {
    // The seed first, then the rest together.
    await this.nodes[0]!.start();
    await Promise.all(this.nodes.slice(1).map((n) => n.start()));
  }

  /**
   * Waits until every running node sees every running node alive and announcing its own ring
   * (`onAnotherRing` in its status). Until a node has seen a peer on its ring, the rings the cluster
   * passed through while its nodes joined stay in its writes' joint quorum (docs/REPLICATION.md,
   * "Ring changes"), and that peer dying then holds QUORUM writes until it is forgotten.
   */
  async untilConverged(timeoutMs = 120_000): Promise<void> {
    const running = this.nodes.filter((n) => n.running);
    const names = running.map((n) => n.spec.name).sort();
    await until(
      `${names.length} nodes to see each other alive on one ring and catch up`,
      async () => {
        for (const node of running) {
          const status = await node.status();
          // Joined, and every replica caught up: until then its reads do not count towards R.
          if (!status.joined || status.catchingUp > 0) return undefined;
          const alive = status.members.filter((m) => m.state === 'alive').map((m) => m.name).sort();
          if (alive.join() !== names.join()) return undefined;
          if (status.members.some((m) => names.includes(m.name) && m.onAnotherRing)) return undefined;
        }
        return true;
      },
      timeoutMs,
      200,
    );
  }

  /** Waits until every running node sees `victim` (killed, not yet restarted) as dead. */
  async untilSeenDead(victim: DaemonProcess, timeoutMs = 60_000): Promise<void> {
    const survivors = this.nodes.filter((n) => n !== victim && n.running);
    await until(
      `the survivors to mark ${victim.spec.name} dead`,
      async () => {
        for (const node of survivors) {
          const m = (await node.status()).members.find((x) => x.name === victim.spec.name);
          if (m?.state !== 'dead') return undefined;
        }
        return true;
      },
      timeoutMs,
      200,
    );
  }

  /** Kills every process this cluster started (the tests' `t.after`): SIGKILL, and waits for each to be gone. */
  async cleanup(): Promise<void> {
    await Promise.all(
      this.nodes.map((n) => {
        const gone = n.exited();
        n.kill('SIGKILL');
        return gone;
      }),
    );
  }
}

/** Directories tempDir made, removed by one exit hook (one hook each went past Node's 10-listener warning). */
const tempDirs: string[] = [];

/** A new temporary directory, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (tempDirs.length === 0) process.once('exit', () => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  tempDirs.push(dir);
  return dir;
}

/** The ports `shoal dev --base-port base` gives `nodes` nodes: base + 10i and the three after it (peer, RESP, admin). */
export function devPorts(base: number, nodes: number): number[] {
  return Array.from({ length: nodes }, (_, i) => [0, 1, 2, 3].map((d) => base + 10 * i + d)).flat();
}

/**
 * A base port for `shoal dev` whose ports for `nodes` nodes are all free now, outside the ephemeral
 * range as freePorts' are (src/daemon/ports.ts says why).
 */
export async function freeDevBase(nodes = 3): Promise<number> {
  const span = Math.max(...devPorts(0, nodes)) + 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = randomPortOutsideEphemeral(span);
    const ports = devPorts(base, nodes);
    if ((await Promise.all(ports.map((port) => isPortFree(port)))).every(Boolean) && claimPorts(ports)) return base;
  }
  throw new Error('no free range of dev ports found');
}

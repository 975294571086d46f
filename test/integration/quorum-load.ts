/**
 * The QUORUM write-and-read loop the tests of cluster operations under load run (rolling restart,
 * drain): each worker owns its keys, waits for each write, and checks every read against the
 * latest value it had acknowledged for that key; and `devUnderLoad`, shoal dev's cluster with the
 * loop running through one client.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TestContext } from 'node:test';
import { connect, type ShoalClient } from '../../src/client/index.ts';
import { freeDevBase, SHOAL_BIN, tempDir, until } from './daemon-harness.ts';

export const KEYS_PER_WORKER = 8;

export interface Worker {
  ops: number;
  /** Latest acknowledged value per key: each key has one writer, which waits for each write. */
  acked: Map<string, string>;
  failures: string[];
  stale: string[];
}

export function newWorker(): Worker {
  return { ops: 0, acked: new Map(), failures: [], stale: [] };
}

/** One client loop: write a key, read a key it wrote, until told to stop. */
export async function work(client: ShoalClient<string>, id: number, w: Worker, stop: () => boolean): Promise<void> {
  for (let seq = 1; !stop(); seq++) {
    const key = `w${id}:k${seq % KEYS_PER_WORKER}`;
    const value = `w${id}:${seq}`;
    try {
      await client.set(key, value, { consistency: 'quorum' });
      w.acked.set(key, value);
      const probe = `w${id}:k${(seq * 5) % KEYS_PER_WORKER}`;
      const read = await client.get(probe, { consistency: 'quorum' });
      const expected = w.acked.get(probe) ?? null;
      if (read !== expected) w.stale.push(`${probe}: read ${String(read)}, latest acknowledged ${String(expected)}`);
    } catch (error) {
      w.failures.push(`${key}: ${(error as Error).name}: ${(error as Error).message}`);
    }
    w.ops++;
  }
}

/** Every acknowledged write read back at QUORUM: the ones that do not come back. */
export async function lostWrites(client: ShoalClient<string>, workers: readonly Worker[]): Promise<string[]> {
  const lost: string[] = [];
  for (const w of workers) {
    for (const [key, value] of w.acked) {
      const read = await client.get(key, { consistency: 'quorum' });
      if (read !== value) lost.push(`${key}: read ${String(read)}, acknowledged ${value}`);
    }
  }
  return lost;
}

/** `shoal dev`'s cluster with a client running the QUORUM loop: what the cluster-operation tests drive. */
export interface DevUnderLoad {
  /** Each node's client address, node1 first. */
  nodes: string[];
  /** shoal dev's base port (node i's client port is base + 10 (i - 1); its admin port that + 3). */
  base: number;
  dev: ChildProcessWithoutNullStreams;
  client: ShoalClient<string>;
  workers: Worker[];
  /** Everything shoal dev printed so far. */
  output(): string;
  /** Waits until shoal dev prints `pattern`; fails at once if dev says a node exited or a step failed. */
  said(pattern: RegExp, what: string): Promise<void>;
  /** Requests the workers have made. */
  opsNow(): number;
  /** Waits until each worker has made `perWorker` more requests (a bounded count, not a time). */
  runFor(what: string, perWorker: number): Promise<void>;
  /** Stops the workers and waits for their last requests. */
  stopLoad(): Promise<void>;
  /** Closes the client and Ctrl-Cs shoal dev; resolves with dev's exit code. */
  close(): Promise<number | null>;
}

/**
 * Starts `shoal dev` with `nodes` nodes and `replicaTimeout` (generous: one answer stalled by a
 * busy shared machine must not fail a QUORUM request), waits for "cluster ready", and starts
 * `workers` QUORUM loops through one client. Cleans up after the test, whatever happens.
 */
export async function devUnderLoad(t: TestContext, options: { nodes: number; workers: number; replicaTimeout: string; hangMs: number }): Promise<DevUnderLoad> {
  const base = await freeDevBase(options.nodes);
  const nodes = Array.from({ length: options.nodes }, (_, i) => `127.0.0.1:${base + 10 * i}`);
  const dev = spawn(process.execPath, [SHOAL_BIN, 'dev', '--nodes', String(options.nodes), '--base-port', String(base), '--replica-timeout', options.replicaTimeout, '--data-dir', tempDir('shoal-dev-')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  dev.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  dev.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  // 'close', not 'exit': the tests check dev's last lines once it has stopped.
  const devExit = new Promise<number | null>((resolve) => dev.once('close', (code) => resolve(code)));
  let client: ShoalClient<string> | null = null;
  let stopping = false;
  let running: Promise<void>[] = [];
  t.after(async () => {
    stopping = true;
    await Promise.all(running);
    await client?.close();
    // SIGKILL reaches dev only; its exit handler kills its nodes (they are in their own group).
    if (dev.exitCode === null && dev.signalCode === null) dev.kill('SIGKILL');
  });
  const said = async (pattern: RegExp, what: string): Promise<void> => {
    await until(what, () => {
      if (/rolling restart failed|exited \(/.test(output)) throw new Error(`shoal dev failed:\n${output}`);
      return pattern.test(output) ? true : undefined;
    }, options.hangMs, 100);
  };
  await said(/cluster ready/, 'shoal dev to say its cluster is ready');
  const connected = await connect<string>({ seeds: nodes });
  client = connected;
  const workers: Worker[] = Array.from({ length: options.workers }, newWorker);
  running = workers.map((w, i) => work(connected, i, w, () => stopping));
  const opsNow = () => workers.reduce((s, w) => s + w.ops, 0);
  return {
    nodes,
    base,
    dev,
    client: connected,
    workers,
    output: () => output,
    said,
    opsNow,
    runFor: async (what, perWorker) => {
      const from = opsNow();
      await until(what, () => (opsNow() >= from + workers.length * perWorker ? true : undefined), options.hangMs, 50);
    },
    stopLoad: async () => {
      stopping = true;
      await Promise.all(running);
    },
    close: async () => {
      await connected.close();
      client = null;
      dev.kill('SIGINT');
      return devExit;
    },
  };
}

/**
 * `shoal dev` (what `npm start` runs): a local cluster of real daemons on loopback, as child
 * processes. Prints each node's endpoints and how to talk to the cluster, runs until Ctrl-C (or
 * SIGTERM), then stops every child gracefully, and kills any that do not stop in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatHelp, parseArgs, UsageError, type FlagSpecs } from './args.ts';

export const DEV_BASE_PORT = 7400;
/** Ports per node: client port, then peer port. Nodes are spaced by 10 to leave room. */
const PORT_STRIDE = 10;
const STOP_GRACE_MS = 15_000;

const FLAGS: FlagSpecs = {
  nodes: { kind: 'number', description: 'how many nodes', default: 3 },
  'base-port': { kind: 'number', description: 'client port of the first node; node i uses base + 10*i', default: DEV_BASE_PORT },
  'log-level': { kind: 'string', description: "the nodes' log level", default: 'warn' },
  'max-memory': { kind: 'string', description: 'memory budget per node', default: '64mb' },
  help: { kind: 'boolean', description: 'show this help' },
};

const SHOAL_BIN = fileURLToPath(new URL('../../bin/shoal.js', import.meta.url));

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
  const replicas = Math.min(3, count);
  const quorum = Math.floor(replicas / 2) + 1;

  const nodes = Array.from({ length: count }, (_, i) => ({
    name: `node${i + 1}`,
    port: basePort + PORT_STRIDE * i,
    peerPort: basePort + PORT_STRIDE * i + 1,
  }));
  const seed = `127.0.0.1:${nodes[0]!.peerPort}`;
  const children: ChildProcess[] = [];
  let stopping = false;
  let failed = false;

  const stopAll = (): Promise<void> =>
    new Promise((resolve) => {
      stopping = true;
      const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
      if (alive.length === 0) return resolve();
      let left = alive.length;
      const killTimer = setTimeout(() => alive.forEach((c) => c.kill('SIGKILL')), STOP_GRACE_MS);
      for (const child of alive) {
        child.once('exit', () => {
          if (--left === 0) {
            clearTimeout(killTimer);
            resolve();
          }
        });
        child.kill('SIGTERM');
      }
    });

  const exited = new Promise<void>((resolve) => {
    for (const node of nodes) {
      const args = [
        SHOAL_BIN, 'start',
        '--name', node.name,
        '--port', String(node.port),
        '--peer-port', String(node.peerPort),
        '--replicas', String(replicas),
        '--read-quorum', String(quorum),
        '--write-quorum', String(quorum),
        '--gossip-profile', 'local',
        '--max-memory', String(flags['max-memory'] ?? '64mb'),
        '--log-level', String(flags['log-level'] ?? 'warn'),
        '--log-format', 'json',
        ...(node === nodes[0] ? [] : ['--seeds', seed]),
      ];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      prefixLines(child.stdout!, `[${node.name}] `, process.stdout);
      prefixLines(child.stderr!, `[${node.name}] `, process.stderr);
      child.on('exit', (code, signal) => {
        if (!stopping) {
          failed = true;
          process.stderr.write(`shoal dev: ${node.name} exited (${signal ?? `status ${code}`}); stopping the others\n`);
          void stopAll().then(resolve);
        } else if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
          resolve();
        }
      });
    }
  });

  process.stdout.write(
    `Shoal dev cluster: ${count} nodes on loopback (N=${replicas}, R=W=${quorum})\n` +
      nodes.map((n) => `  ${n.name}  clients ws://127.0.0.1:${n.port}   peers 127.0.0.1:${n.peerPort}`).join('\n') +
      `\n\nTalk to it from another terminal:\n` +
      `  npx shoal status\n  npx shoal set greeting hello && npx shoal get greeting\n\nCtrl-C stops every node.\n`,
  );

  const onSignal = () => {
    if (stopping) return;
    process.stdout.write('\nshoal dev: stopping every node...\n');
    void stopAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await exited;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.stdout.write('shoal dev: all nodes stopped\n');
  return failed ? 1 : 0;
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

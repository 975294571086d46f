/**
 * What a node's process needs beyond --max-memory, measured on a real `shoal start`: the resident
 * set (RSS) idle, and after writing 1.5x as many entries as the budget holds (so the store is full
 * and evicting), for each --max-memory given. docs/DEPLOY.md ("Capacity planning") quotes it.
 *
 *   node --import tsx deploy/capacity/measure-memory.ts [64mib,256mib]
 *
 * Entries are 16-byte keys with 100-byte values (as bench/store/memory.ts), written by the SDK
 * through one node of one (so N is 1 and every entry lands in this process). Prints one JSON line
 * per budget: {maxMemoryBytes, entriesWritten, rssIdleBytes, rssFullBytes, rssOverBudget}.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBytes } from '../../src/daemon/units.ts';
import { bytesCodec, connect } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { ENTRY_OVERHEAD_BYTES } from '../../src/store/store.ts';

const SHOAL = fileURLToPath(new URL('../../bin/shoal.js', import.meta.url));
const KEY_LENGTH = 16;
const VALUE_LENGTH = 100;
/** Writes in flight at once: enough to keep the node busy, few enough to bound the client's memory. */
const WINDOW = 256;

function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS for ${pid}`);
  return Number(line.split(/\s+/)[1]) * 1024;
}

async function measure(maxMemory: string): Promise<Record<string, number>> {
  const [port, peerPort] = await freePorts(2);
  const node = spawn(process.execPath, [SHOAL, 'start', '--port', String(port), '--peer-port', String(peerPort), '--max-memory', maxMemory, '--log-format', 'json', '--gossip-profile', 'local'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      node.once('exit', (code) => reject(new Error(`shoal start exited with ${code}`)));
      node.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve());
    });
    const client = await connect({ seeds: [`127.0.0.1:${port}`], codec: bytesCodec });
    // Settle: the first ring, the SDK's connection.
    await client.set('warm-up', new Uint8Array(1));
    const rssIdle = rss(node.pid!);
    const budget = parseBytes(maxMemory);
    const entries = Math.ceil((1.5 * budget) / (ENTRY_OVERHEAD_BYTES + KEY_LENGTH + VALUE_LENGTH));
    const value = new Uint8Array(VALUE_LENGTH).fill(7);
    let next = 0;
    const worker = async () => {
      while (next < entries) {
        const i = next++;
        await client.set(`key:${String(i).padStart(KEY_LENGTH - 4, '0')}`, value);
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, worker));
    const rssFull = rss(node.pid!);
    await client.close();
    return { maxMemoryBytes: budget, entriesWritten: entries, rssIdleBytes: rssIdle, rssFullBytes: rssFull, rssOverBudget: Number((rssFull / budget).toFixed(3)) };
  } finally {
    node.kill('SIGKILL');
  }
}

for (const budget of (process.argv[2] ?? '64mib,256mib').split(',')) {
  process.stdout.write(`${JSON.stringify({ maxMemory: budget, ...(await measure(budget)) })}\n`);
}

/**
 * `shoal ring`: the ring a node routes by (fetched through the SDK, as clients see it): how many
 * partitions each node holds and leads, how balanced that is, and with --partitions the
 * preference list of every range of partitions.
 */
import type { Topology } from '../client/index.ts';
import { summarize, type RingSummary } from '../ring/summary.ts';
import { UsageError, type FlagSpecs } from './args.ts';
import { table } from './status.ts';
import { connectTo, startTargetCommand, TARGET_FLAGS } from './target.ts';

const FLAGS: FlagSpecs = {
  ...TARGET_FLAGS,
  partitions: { kind: 'boolean', description: 'also list the preference list of every range of partitions' },
};

const USAGE = 'Usage: shoal ring [--node HOST:PORT] [--user NAME] [--partitions] [--json]';

export function formatRing(s: RingSummary, withPartitions: boolean): string {
  const rows = [['NODE', 'ZONE', 'REPLICAS', 'SHARE', 'PRIMARIES', 'CLIENTS']];
  const slots = s.nodes.reduce((sum, n) => sum + n.replicas, 0);
  for (const n of s.nodes) {
    rows.push([n.name, n.zone, String(n.replicas), `${((100 * n.replicas) / Math.max(1, slots)).toFixed(1)}%`, String(n.primaries), n.clientAddress || '-']);
  }
  let out =
    `ring ${s.version}: ${s.partitions} partitions x N=${s.replicas} on ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}\n\n` +
    table(rows) +
    `\nbalance: busiest node holds ${s.replicaImbalance.toFixed(3)}x the fair share of replicas, ${s.primaryImbalance.toFixed(3)}x of primaries (1.000 is perfect)\n`;
  if (withPartitions) {
    const partitionRows = [['PARTITIONS', 'PREFERENCE LIST (primary first)']];
    for (const r of s.ranges) partitionRows.push([r.first === r.last ? String(r.first) : `${r.first}-${r.last}`, r.owners.join(', ')]);
    out += `\n${table(partitionRows)}`;
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const command = startTargetCommand(argv, USAGE, FLAGS);
  if (command === null) return 0;
  const { flags, positionals, node } = command;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  let topology: Topology;
  try {
    const client = await connectTo(node);
    try {
      topology = await client.topology();
    } finally {
      await client.close();
    }
  } catch (error) {
    process.stderr.write(`shoal ring: ${(error as Error).message}\n`);
    return 1;
  }
  const summary = summarize(topology);
  if (flags.json) {
    const { ranges, ...rest } = summary;
    process.stdout.write(`${JSON.stringify(flags.partitions ? { ...rest, ranges } : rest, null, 2)}\n`);
  } else {
    process.stdout.write(formatRing(summary, flags.partitions === true));
  }
  return 0;
}

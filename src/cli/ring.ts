/**
 * `shoal ring`: the ring a node routes by (fetched through the SDK, as clients see it): how many
 * partitions each node holds and leads, how balanced that is, and with --partitions the
 * preference list of every range of partitions. Each node's state (alive, suspect, dead...) comes
 * from the same node's status, which only operators may read: without it the ring is shown alone.
 */
import type { Topology } from '../client/index.ts';
import type { NodeStatus } from '../protocol/index.ts';
import { summarize, type RingSummary } from '../ring/summary.ts';
import { UsageError, type FlagSpecs } from './args.ts';
import { table } from './status.ts';
import { connectTo, fetchStatus, startTargetCommand, TARGET_FLAGS } from './target.ts';

const FLAGS: FlagSpecs = {
  ...TARGET_FLAGS,
  partitions: { kind: 'boolean', description: 'also list the preference list of every range of partitions' },
};

const USAGE = 'Usage: shoal ring [--node HOST:PORT] [--user NAME] [--partitions] [--json]';

/**
 * Each ring node's state as the answering node's status has it (`alive`, `suspect`, `dead`...,
 * with `, drained` while it is drained or draining), or, where the status could not be read, why.
 */
export type MemberStates = { states: ReadonlyMap<string, string> } | { unavailable: string };

export function memberStates(status: NodeStatus): MemberStates {
  return { states: new Map(status.members.map((m) => [m.name, m.state + (m.draining ? ', drained' : '')])) };
}

export function formatRing(s: RingSummary, withPartitions: boolean, members?: MemberStates): string {
  const states = members !== undefined && 'states' in members ? members.states : null;
  const rows = [['NODE', ...(states ? ['STATE'] : []), 'ZONE', 'REPLICAS', 'SHARE', 'PRIMARIES', 'CLIENTS']];
  const slots = s.nodes.reduce((sum, n) => sum + n.replicas, 0);
  for (const n of s.nodes) {
    const state = states ? [states.get(n.name) ?? 'unknown'] : [];
    rows.push([n.name, ...state, n.zone, String(n.replicas), `${((100 * n.replicas) / Math.max(1, slots)).toFixed(1)}%`, String(n.primaries), n.clientAddress || '-']);
  }
  let out =
    `ring ${s.version}: ${s.partitions} partitions x N=${s.replicas} on ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}\n\n` +
    table(rows) +
    `\nbalance: busiest node holds ${s.replicaImbalance.toFixed(3)}x the fair share of replicas, ${s.primaryImbalance.toFixed(3)}x of primaries (1.000 is perfect)\n`;
  if (members !== undefined && 'unavailable' in members) out += `states not shown: ${members.unavailable}\n`;
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
  // Asked together; the ring is what the command is for, so a status it may not read only leaves the states out.
  const status = fetchStatus(node).then(memberStates, (error: Error): MemberStates => ({ unavailable: error.message }));
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
  const members = await status;
  if (flags.json) {
    const { ranges, ...rest } = summary;
    // `state` on each node when the status was read (absent, as from older versions, when not).
    const nodes = 'states' in members ? rest.nodes.map((n) => ({ ...n, state: members.states.get(n.name) ?? 'unknown' })) : rest.nodes;
    process.stdout.write(`${JSON.stringify({ ...rest, nodes, ...(flags.partitions ? { ranges } : {}) }, null, 2)}\n`);
  } else {
    process.stdout.write(formatRing(summary, flags.partitions === true, members));
  }
  return 0;
}

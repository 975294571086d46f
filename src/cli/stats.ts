/**
 * `shoal stats`: access analytics, cluster-wide: hit ratio over the last minutes, key and value
 * sizes and TTLs of writes, top key prefixes by traffic, and why entries left the stores.
 *
 * Each member is asked over its client port, in the `status` reply's `analytics` field: the node
 * given with --node lists the members and their client addresses (gossip carries them), whereas
 * admin ports are not advertised, so the client port is the one address of every member a CLI can
 * reach. The snapshots are merged with mergeAnalytics (counts summed, prefix tables merged as
 * Space-Saving summaries); members that do not answer are listed, not fatal.
 */
import type { AccessAnalytics, NodeStatus } from '../protocol/index.ts';
import { hitRatioOf, mergeAnalytics, sizeBucketFloor, TTL_LABELS } from '../store/index.ts';
import { UsageError, type FlagSpecs } from './args.ts';
import { fetchStatus, startTargetCommand, TARGET_FLAGS } from './target.ts';
import { table } from './status.ts';

const USAGE = 'Usage: shoal stats [--node HOST:PORT] [--user NAME] [--local] [--json] [--prefixes N]';

const FLAGS: FlagSpecs = {
  ...TARGET_FLAGS,
  local: { kind: 'boolean', description: 'only the node given with --node, not the whole cluster' },
  prefixes: { kind: 'number', description: 'top prefixes shown in the table', default: 15 },
};

/** What `shoal stats --json` prints: the merged view, each node's, and members that did not answer. */
export interface ClusterStats {
  /** Every answering node's analytics merged (null when none reports any). */
  cluster: AccessAnalytics | null;
  nodes: Record<string, AccessAnalytics>;
  /** Members that did not answer (or run without analytics), and why. */
  missing: { node: string; reason: string }[];
}

/**
 * Asks `node` for the members, then every live member for its analytics, and merges them (the
 * dashboard can call this too, with a status fetcher of its own).
 */
export async function clusterStats(node: string, fetch: (address: string) => Promise<NodeStatus> = (a) => fetchStatus(a), local = false): Promise<ClusterStats> {
  const first = await fetch(node);
  const answers: { name: string; status: NodeStatus | null; reason?: string }[] = [{ name: first.node, status: first }];
  if (!local) {
    const others = first.members.filter((m) => m.name !== first.node && (m.state === 'alive' || m.state === 'suspect'));
    const fetched = await Promise.all(
      others.map(async (m) => {
        if (!m.clientAddress) return { name: m.name, status: null, reason: 'no client address known' };
        try {
          return { name: m.name, status: await fetch(m.clientAddress) };
        } catch (error) {
          return { name: m.name, status: null, reason: (error as Error).message };
        }
      }),
    );
    answers.push(...fetched);
  }
  const nodes: Record<string, AccessAnalytics> = {};
  const missing: ClusterStats['missing'] = [];
  for (const a of answers) {
    if (a.status?.analytics) nodes[a.name] = a.status.analytics;
    else missing.push({ node: a.name, reason: a.reason ?? 'reports no analytics (off, or an older shoal)' });
  }
  const list = Object.values(nodes);
  return { cluster: list.length === 0 ? null : mergeAnalytics(list), nodes, missing };
}

export async function run(argv: string[]): Promise<number> {
  const command = startTargetCommand(argv, USAGE, FLAGS);
  if (command === null) return 0;
  const { flags, positionals, node } = command;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const prefixes = flags.prefixes === undefined ? 15 : Number(flags.prefixes);
  if (!Number.isInteger(prefixes) || prefixes < 0) throw new UsageError(`--prefixes must be a whole number, 0 or more, got ${String(flags.prefixes)}`);
  let stats: ClusterStats;
  try {
    stats = await clusterStats(node, (a) => fetchStatus(a), flags.local === true);
  } catch (error) {
    process.stderr.write(`shoal stats: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(flags.json ? `${JSON.stringify(stats, null, 2)}\n` : formatStats(stats, prefixes));
  return stats.cluster === null ? 1 : 0;
}

function percent(hits: number, misses: number): string {
  const r = hitRatioOf(hits, misses);
  return r === null ? '-' : `${(r * 100).toFixed(1)}%`;
}

/** A log2 bucket's range: '0', '1', '2-3', '64-127', '1Ki-2Ki' (upper bound excluded from 1Ki on). */
function sizeLabel(bucket: number): string {
  if (bucket <= 1) return String(bucket);
  const lo = sizeBucketFloor(bucket);
  const short = (n: number): string => (n >= 1 << 30 ? `${n / (1 << 30)}Gi` : n >= 1 << 20 ? `${n / (1 << 20)}Mi` : `${n / 1024}Ki`);
  return lo < 1024 ? `${lo}-${2 * lo - 1}` : `${short(lo)}-${short(2 * lo)}`;
}

/** A histogram as rows of label, count, share and a bar, skipping empty buckets. */
function histogram(title: string, counts: readonly number[], label: (i: number) => string): string {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return `${title}: none\n`;
  const max = Math.max(...counts);
  const rows = [[title.toUpperCase(), 'COUNT', 'SHARE', '']];
  counts.forEach((c, i) => {
    if (c > 0) rows.push([label(i), String(c), `${((c / total) * 100).toFixed(1)}%`, '#'.repeat(Math.max(1, Math.round((c / max) * 30)))]);
  });
  return table(rows);
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export function formatStats(s: ClusterStats, topPrefixes = 15): string {
  const a = s.cluster;
  const names = Object.keys(s.nodes).sort();
  let out = '';
  const missing = s.missing.map((m) => `  ${m.node}: ${m.reason}\n`).join('');
  if (a === null) return `no node reported access analytics\n${missing}`;
  const t = a.totals;
  out += `access analytics of ${a.nodes} node${a.nodes === 1 ? '' : 's'} (${names.join(', ')}), counted by each store since it started\n`;
  out += `reads: ${t.hits} hits, ${t.misses} misses, hit ratio ${percent(t.hits, t.misses)}; writes: ${t.writes}; deletes: ${t.deletes}\n`;
  out += '(a write counts on every replica that stores it; a read on every replica it asks)\n\n';
  if (names.length > 1) {
    const rows = [['NODE', 'HITS', 'MISSES', 'HIT RATIO', 'WRITES', 'DELETES']];
    for (const name of names) {
      const n = s.nodes[name]!.totals;
      rows.push([name, String(n.hits), String(n.misses), percent(n.hits, n.misses), String(n.writes), String(n.deletes)]);
    }
    out += table(rows) + '\n';
  }
  const rows = [[`HIT RATIO PER ${a.bucketMs / 1000}s (UTC)`, 'HITS', 'MISSES', 'RATIO', 'WRITES']];
  for (const b of a.hitRatio) rows.push([clock(b.startMs), String(b.hits), String(b.misses), percent(b.hits, b.misses), String(b.writes)]);
  out += table(rows) + '\n';
  out += histogram('key size (chars)', a.keySizes, sizeLabel) + '\n';
  out += histogram('value size (bytes)', a.valueSizes, sizeLabel) + '\n';
  out += histogram('ttl of writes', a.ttls, (i) => TTL_LABELS[i] ?? String(i)) + '\n';
  if (a.prefixCapacity === 0) out += 'top prefixes: off (--stats-prefix-delimiter "")\n\n';
  else {
    const shown = a.prefixes.slice(0, topPrefixes);
    const p = [[`PREFIX (up to "${a.prefixDelimiter}")`, 'ACCESSES', '±', 'HITS', 'MISSES', 'HIT RATIO', 'WRITES', 'DELETES']];
    for (const x of shown) p.push([x.prefix === '' ? '(none)' : x.prefix, String(x.count), String(x.error), String(x.hits), String(x.misses), percent(x.hits, x.misses), String(x.writes), String(x.deletes)]);
    out += table(p);
    out += `${shown.length} of ${a.prefixes.length} tracked (at most ${a.prefixCapacity} per node; ± = possible overestimate)\n\n`;
  }
  const r = a.removals;
  out += `removals: ${r.capacity} evicted for room, ${r.admissionRejected} refused by admission, ${r.tooLarge} too large for the budget, `;
  out += `${r.expiredOnRead + r.expiredBySweep} expired (${r.expiredOnRead} on read, ${r.expiredBySweep} by the sweep), ${r.deleted} deleted, ${r.partitionDropped} dropped with partitions handed off\n`;
  if (missing) out += `not included:\n${missing}`;
  return out;
}

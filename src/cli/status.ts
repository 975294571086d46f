/**
 * `shoal status`: one node's view of the cluster: members with their states, zones and partition
 * counts, the ring version, and what the node holds and still has to hand off.
 */
import type { CatchUpStatus, DrainStatus, NodeStatus } from '../protocol/index.ts';
import { UsageError } from './args.ts';
import { fetchStatus, startTargetCommand } from './target.ts';

const USAGE = 'Usage: shoal status [--node HOST:PORT] [--user NAME] [--json]';

export async function run(argv: string[]): Promise<number> {
  const command = startTargetCommand(argv, USAGE);
  if (command === null) return 0;
  const { flags, positionals, node } = command;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  let status: NodeStatus;
  try {
    status = await fetchStatus(node);
  } catch (error) {
    process.stderr.write(`shoal status: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
  return 0;
}

export function formatStatus(s: NodeStatus): string {
  const states = new Map<string, number>();
  for (const m of s.members) states.set(m.state, (states.get(m.state) ?? 0) + 1);
  const summary = [...states].map(([state, n]) => `${n} ${state}`).join(', ');
  const header =
    `node ${s.node} (cluster ${s.cluster}, zone ${s.zone}, shoal ${s.version}), up ${formatDuration(s.uptimeMs)}${s.joined ? '' : ', still joining'}\n` +
    (s.joining ? `waiting for: ${s.joining.waitingFor}\n` : '') +
    formatRingLine(s) +
    `held here: ${s.held} partition replicas (${s.catchingUp} catching up, ${s.toHandOff} to hand off); ${s.clientConnections} client connection${s.clientConnections === 1 ? '' : 's'}\n` +
    formatMemory(s.memory) +
    (s.hints ? `hints held here: ${s.hints.held} (${formatBytes(s.hints.heldBytes)}) for owners that missed writes, delivered when they answer again\n` : '') +
    `${formatCatchUp(s.catchUp)}${s.drain ? `${formatDrain(s.node, s.drain)}\n` : ''}\n`;
  const rows = [['NAME', 'STATE', 'ZONE', 'INCARNATION', 'PARTITIONS', 'PRIMARIES', 'CLIENTS', 'PEERS']];
  for (const m of s.members) {
    rows.push([m.name + (m.name === s.node ? ' *' : ''), m.state + (m.draining ? ', drained' : '') + (m.onAnotherRing ? ', on another ring' : ''), m.zone, String(m.incarnation), String(m.partitions), String(m.primaries), m.clientAddress || '-', m.address]);
  }
  const reasons = s.members.filter((m) => m.reason).map((m) => `${m.name} (${m.address}) is refused: ${m.reason}\n`);
  // Peer verdicts (docs/OPERATIONS.md, "Node health"): only members the others see degraded are named.
  const degraded = s.members.filter((m) => m.health?.degraded).map((m) => `${m.name} is degraded: health score ${m.health!.score.toFixed(2)} (its peers find it slow, erroring or silent)\n`);
  // Failure prediction (docs/OPERATIONS.md, "Failure prediction"): members that predict their own failure.
  const failing = s.members
    .filter((m) => (m.health?.failureProbability ?? 0) >= 0.5)
    .map((m) => `${m.name} predicts its own failure: probability ${m.health!.failureProbability!.toFixed(2)}${m.health!.secondsToFailure === undefined ? '' : `, in about ${m.health!.secondsToFailure} s`}\n`);
  return `${header}${formatRequests(s)}${table(rows)}\n${s.members.length} member${s.members.length === 1 ? '' : 's'}: ${summary}   (* = the node that answered)\n${reasons.join('')}${degraded.join('')}${failing.join('')}${formatDisk(s.disk)}`;
}

/**
 * The ring line. N is the replicas keys have now, so R and W are the quorums in effect with it (a
 * one-member ring read N=1 R=2 W=2). A node still joining has an empty ring: no quorum is in effect
 * yet (the line read N=0 R=1 W=1), so it gives what is configured.
 */
function formatRingLine(s: NodeStatus): string {
  const ring = `ring ${s.ringVersion}: ${s.partitions} partitions`;
  const configuredN = s.requests ? `N=${s.requests.configuredReplicas} ` : '';
  if (s.replicas === 0) return `${ring}, no replicas yet (${configuredN}R=${s.readQuorum} W=${s.writeQuorum} configured)\n`;
  return `${ring}, N=${s.replicas} R=${s.requests?.effectiveReadQuorum ?? s.readQuorum} W=${s.requests?.effectiveWriteQuorum ?? s.writeQuorum}\n`;
}

/** The answering node's store against its memory budget; nothing from a node that does not report it. */
function formatMemory(m: NodeStatus['memory']): string {
  if (!m) return '';
  const held = m.maxBytes === 0 ? formatBytes(m.bytes) : `${formatBytes(m.bytes)} of ${formatBytes(m.maxBytes)} (${Math.round((100 * m.bytes) / m.maxBytes)}%)`;
  const evicted = m.evicted === 0 ? 'nothing evicted yet' : `${m.evicted} evicted to stay under the budget`;
  return `memory: ${held} in ${m.entries} entr${m.entries === 1 ? 'y' : 'ies'}, eviction policy ${m.policy}; ${evicted}\n`;
}

/** The answering node's disk tier, when it has one (docs/STORE.md, "Disk tier"). */
function formatDisk(d: NodeStatus['disk']): string {
  if (!d) return '';
  const amplification = d.appBytes === 0 ? '-' : (d.deviceBytesWritten / d.appBytes).toFixed(2);
  const failed = d.writeErrors ? `; ${d.writeErrors} device writes FAILED (their entries left the tier: see the node's disk-write-failed log lines)` : '';
  return `disk tier: ${d.entries} entries; ${d.puts} taken, ${d.hits} hits of ${d.deviceReads} device reads, ${d.corrupt} unreadable; write amplification ${amplification}${failed}\n`;
}

/**
 * The quorums in effect when they differ from R and W (fewer members than N), and the reads that
 * missed by reason; nothing for a node that does not report them.
 */
export function formatRequests(s: NodeStatus): string {
  const r = s.requests;
  if (r === undefined) return '';
  let out = '';
  // A node still joining (no replicas yet) has no quorum in effect: its ring line says so.
  if (s.replicas > 0 && (r.effectiveReadQuorum !== s.readQuorum || r.effectiveWriteQuorum !== s.writeQuorum)) {
    out +=
      `effective quorum: R=${r.effectiveReadQuorum} W=${r.effectiveWriteQuorum} (R=${s.readQuorum} W=${s.writeQuorum} of N=${r.configuredReplicas} configured, ` +
      `but keys have ${s.replicas} replica${s.replicas === 1 ? '' : 's'} while the ring has fewer than N members)\n`;
  }
  const m = r.misses;
  out += `reads that missed: ${m.absent} absent, ${m.deleted} deleted, ${m.expired} expired, ${m.evicted} evicted\n\n`;
  return out;
}

/** One line about the node's catch-up while it lasts (its reads do not count), or the last one; none if there was none. */
export function formatCatchUp(c: CatchUpStatus | undefined): string {
  if (!c || c.partitions === 0) return '';
  const received = `${c.keysReceived} key${c.keysReceived === 1 ? '' : 's'} (${formatBytes(c.bytesReceived)}) received, ${c.keysEvictedAtSource} evicted at their source (versions kept, values gone)`;
  if (c.partitionsLeft === 0) return `last catch-up: ${c.partitions} partitions in ${formatDuration(c.elapsedMs)}; ${received}\n`;
  return `catching up: ${c.partitionsLeft} of ${c.partitions} partitions left after ${formatDuration(c.elapsedMs)} (their reads do not count yet); ${received}\n`;
}

/** The answering node's drain (`shoal drain`): partitions moved of those it had, keys and bytes handed off. */
export function formatDrain(node: string, d: DrainStatus): string {
  const moved = `${d.partitionsAtStart - Math.min(d.partitionsLeft, d.partitionsAtStart)} of ${d.partitionsAtStart} partitions moved, ${d.keysHandedOff} key${d.keysHandedOff === 1 ? '' : 's'} (${formatBytes(d.bytesHandedOff)}) handed off`;
  const seconds = `${(d.elapsedMs / 1000).toFixed(1)} s`;
  if (d.state === 'drained') return `${node} is drained: ${moved} in ${seconds}; it still coordinates requests (\`shoal undrain ${node}\` gives its share back)`;
  return `${node} is ${d.state}: ${moved}, ${d.partitionsLeft} left after ${seconds}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Left-aligned columns separated by two spaces. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

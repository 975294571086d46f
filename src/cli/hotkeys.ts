/**
 * `shoal hotkeys`: the cluster's hottest keys with estimated rates (ops/s), in the spirit of
 * `redis-cli --hotkeys`: each member's hot-key tracker (the store's Space-Saving counters, sampled)
 * asked over its client port and merged (src/daemon/cluster-hot-keys.ts: a key's rate is the one
 * at its busiest node), plus the hot-key alerts in force (--hot-key-alert-rate).
 */
import type { WireHotKeys } from '../protocol/index.ts';
import { clusterHotKeys, mergeHotKeys, requestHotKeys, type ClusterHotKeys } from '../daemon/cluster-hot-keys.ts';
import { UsageError, type FlagSpecs } from './args.ts';
import { table } from './status.ts';
import { COMMAND_TIMEOUT_MS, fetchStatus, startTargetCommand, TARGET_FLAGS, targetLogin, targetTlsOptions } from './target.ts';

const USAGE = 'Usage: shoal hotkeys [--node HOST:PORT] [--user NAME] [--count N] [--local] [--json]';

const FLAGS: FlagSpecs = {
  ...TARGET_FLAGS,
  count: { kind: 'number', description: 'how many keys (1-64)', default: 10 },
  local: { kind: 'boolean', description: 'only the node --node names (default: every member, merged)' },
};

export async function run(argv: string[]): Promise<number> {
  const command = startTargetCommand(argv, USAGE, FLAGS);
  if (command === null) return 0;
  const { flags, positionals, node } = command;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const count = flags.count === undefined ? 10 : Number(flags.count);
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new UsageError(`--count takes a whole number from 1 to 64, not ${String(flags.count)}`);
  let result: ClusterHotKeys;
  try {
    result = flags.local ? await localHotKeys(node, count) : await everyMember(node, count);
  } catch (error) {
    process.stderr.write(`shoal hotkeys: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatHotKeys(result));
  return result.unreachable.length > 0 && result.nodes.length === 0 ? 1 : 0;
}

async function localHotKeys(node: string, count: number): Promise<ClusterHotKeys> {
  // fetchStatus first: its errors say what is at the address (no node, a peer port, TLS).
  await fetchStatus(node);
  const report: WireHotKeys = await requestHotKeys(node, count, { timeoutMs: COMMAND_TIMEOUT_MS, tls: targetTlsOptions(), credentials: targetLogin() }).catch((error: Error) => {
    throw new Error(`${node}: ${error.message}`);
  });
  return mergeHotKeys([report], count);
}

/** Every live member the node knows, by the client address it advertises. */
async function everyMember(node: string, count: number): Promise<ClusterHotKeys> {
  const status = await fetchStatus(node);
  const addresses = status.members.filter((m) => (m.state === 'alive' || m.state === 'suspect') && m.clientAddress).map((m) => (m.name === status.node ? node : m.clientAddress));
  return clusterHotKeys(addresses, count, { timeoutMs: COMMAND_TIMEOUT_MS, tls: targetTlsOptions(), credentials: targetLogin() });
}

export function formatHotKeys(r: ClusterHotKeys): string {
  const nodes = r.nodes;
  let out = `hot keys on ${nodes.length} node${nodes.length === 1 ? '' : 's'} (${nodes.join(', ')}); rate = estimated ops/s at the key's busiest node over the last second\n`;
  for (const u of r.unreachable) out += `not answered: ${u.address}: ${u.error}\n`;
  if (r.keys.length === 0) {
    out += 'no key has traffic now\n';
  } else {
    const rows = [['#', 'KEY', 'OPS/S', 'PER NODE']];
    r.keys.forEach((k, i) => {
      const perNode = Object.entries(k.nodes)
        .sort((a, b) => b[1] - a[1])
        .map(([n, rate]) => `${n}=${formatRate(rate)}`)
        .join(' ');
      rows.push([String(i + 1), JSON.stringify(k.key), formatRate(k.rate), perNode]);
    });
    out += table(rows);
  }
  if (r.alerts.length > 0) {
    out += `\nhot-key alerts in force:\n`;
    for (const a of r.alerts) out += `  ${JSON.stringify(a.key)} on ${a.node}: ${formatRate(a.rate)} ops/s (threshold ${a.threshold}) since ${new Date(a.sinceMs).toISOString()}\n`;
  }
  return out;
}

function formatRate(rate: number): string {
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1);
}

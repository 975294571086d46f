/**
 * Cluster-wide hot keys for `shoal hotkeys`: ask every member for its own (the `hotkeys` request
 * on its client port, beside `status`) and merge them. The admin port's `/hotkeys` merges with the
 * same `mergeHotKeys`, but asks the members over the node-to-node channel (cluster-views.ts).
 *
 * Why the client port for the CLI: every member advertises its client address through gossip (the
 * topology and `status` list it), the request is one WebSocket round trip (ask-node.ts, as
 * `shoal status` asks), and the CLI is not a member, so the node-to-node channel is not its to use.
 *
 * Merging: each node's tracker counts what its own replicas serve, so a write reaches every replica
 * and a read only those it asks. A key's cluster rate is therefore the rate at its busiest node
 * (the load that makes a key a problem), with every node's own rate beside it; summing would count
 * each write N times.
 */
import type { Credentials, WireHotKeyAlert, WireHotKeys } from '../protocol/index.ts';
import { askNode } from './ask-node.ts';

/** How long one member may take to answer. */
export const HOT_KEYS_TIMEOUT_MS = 3000;

export interface ClusterHotKey {
  key: string;
  /** ops/s at the busiest node for this key. */
  rate: number;
  /** Each node's own estimate, ops/s, by node name. */
  nodes: Record<string, number>;
}

export interface ClusterHotKeys {
  atMs: number;
  /** Nodes that answered, and those that did not (with why). */
  nodes: string[];
  unreachable: { address: string; error: string }[];
  keys: ClusterHotKey[];
  /** Alerts in force on any node. */
  alerts: WireHotKeyAlert[];
}

export interface HotKeysDial {
  timeoutMs?: number;
  /** TLS options for `ws` (wss), or null. */
  tls?: object | null;
  credentials?: Credentials | null;
}

/** Merges per-node reports (see the module comment); the `count` hottest keys. */
export function mergeHotKeys(reports: readonly WireHotKeys[], count: number, unreachable: ClusterHotKeys['unreachable'] = [], atMs = Date.now()): ClusterHotKeys {
  const byKey = new Map<string, ClusterHotKey>();
  for (const report of reports) {
    for (const k of report.keys) {
      let entry = byKey.get(k.key);
      if (entry === undefined) byKey.set(k.key, (entry = { key: k.key, rate: 0, nodes: {} }));
      entry.nodes[report.node] = k.rate;
      entry.rate = Math.max(entry.rate, k.rate);
    }
  }
  const keys = [...byKey.values()].sort((a, b) => b.rate - a.rate || (a.key < b.key ? -1 : 1)).slice(0, count);
  const alerts = reports.flatMap((r) => r.alerts).sort((a, b) => b.rate - a.rate);
  return { atMs, nodes: reports.map((r) => r.node).sort(), unreachable, keys, alerts };
}

/**
 * Asks each client address for its hot keys and merges the answers with `own` (reports already at
 * hand: the asking node's); members that fail are listed as unreachable.
 */
export async function clusterHotKeys(addresses: readonly string[], count: number, dial: HotKeysDial = {}, own: readonly WireHotKeys[] = []): Promise<ClusterHotKeys> {
  const answers = await Promise.allSettled(addresses.map((a) => requestHotKeys(a, count, dial)));
  const reports: WireHotKeys[] = [...own];
  const unreachable: ClusterHotKeys['unreachable'] = [];
  answers.forEach((a, i) => {
    if (a.status === 'fulfilled') reports.push(a.value);
    else unreachable.push({ address: addresses[i]!, error: withoutAddress((a.reason as Error).message, addresses[i]!) });
  });
  return mergeHotKeys(reports, count, unreachable);
}

/** askNode's messages start with the address, which the unreachable entry already holds. */
function withoutAddress(message: string, address: string): string {
  return message.startsWith(address) ? message.slice(address.length).replace(/^:?\s*/, '') : message;
}

/** A failed connection in few words, without the address the entry names: `connect ECONNREFUSED`. */
function connectionProblem(cause: Error): Error {
  const { code, syscall } = cause as NodeJS.ErrnoException;
  return new Error(typeof code === 'string' && /^E[A-Z]+$/.test(code) ? `${syscall === undefined ? '' : `${syscall} `}${code}` : cause.message);
}

/** One `hotkeys` request to one node's client port (it is about that node). */
export async function requestHotKeys(address: string, count: number, dial: HotKeysDial = {}): Promise<WireHotKeys> {
  const reply = await askNode(address, { op: 'hotkeys', count, subscribe: false }, 'hotkeys', {
    timeoutMs: dial.timeoutMs ?? HOT_KEYS_TIMEOUT_MS,
    tls: dial.tls ?? null,
    credentials: dial.credentials ?? null,
    client: 'shoal-hotkeys',
    unreachable: connectionProblem,
  });
  return reply.hotkeys;
}

/**
 * The admin port's cluster-wide views, read from every live member through one helper
 * (member-ask.ts: over the node-to-node channel, so they work with a password, TLS and the gossip
 * keyring alike): `/hotkeys` (merged as `shoal hotkeys` merges: cluster-hot-keys.ts), `/stats`
 * (merged with mergeAnalytics, the JSON of `shoal stats --json`) and the dashboard's samples of the
 * other members. This node answers the same questions when other members ask.
 */
import type { NodeSample, PeerSample } from '../admin/dashboard-data.ts';
import { MAX_HOT_KEYS_COUNT, type HotKeysRouteSources } from '../admin/hot-keys-route.ts';
import type { AccessAnalytics, WireHotKeys } from '../protocol/index.ts';
import { mergeAnalytics } from '../store/index.ts';
import { mergeHotKeys } from './cluster-hot-keys.ts';
import { MemberAsk } from './member-ask.ts';
import type { HostedNode } from './node-host.ts';

export interface ClusterViews {
  hotKeys: HotKeysRouteSources;
  /** Every member's analytics merged (`cluster`, null when none has them), each node's, and who is missing and why. */
  stats(): Promise<{ cluster: AccessAnalytics | null; nodes: Record<string, AccessAnalytics>; missing: { node: string; reason: string }[] }>;
  /** The dashboard's samples of the other members. */
  peerSamples(): Promise<PeerSample[]>;
  close(): void;
}

/** `dashboardSample`: this node's dashboard sample, or null when its admin port (and dashboard) is off. */
export function clusterViews(node: HostedNode, dashboardSample: () => NodeSample | null): ClusterViews {
  const self = node.shoal.name;
  const ask = new MemberAsk({
    channel: node.askChannel,
    members: () => node.clusterMembers().filter((m) => m.name !== self && (m.state === 'alive' || m.state === 'suspect')).map((m) => ({ name: m.name, address: m.peerAddress })),
    answer: (kind, count) => {
      if (kind === 'hotkeys') return node.hotKeys(Math.min(Math.max(1, count), MAX_HOT_KEYS_COUNT));
      if (kind === 'stats') return node.analytics();
      const sample = dashboardSample();
      if (sample === null) throw new Error('the admin port (and its dashboard) is off on this node');
      return sample;
    },
  });
  return {
    hotKeys: {
      local: (count) => node.hotKeys(count),
      cluster: async (count) => {
        const { answers, unreachable } = await ask.askAll<WireHotKeys>('hotkeys', count);
        return mergeHotKeys(
          [node.hotKeys(count), ...answers.map((a) => a.body)],
          count,
          unreachable.map((u) => ({ address: u.address, error: `${u.name}: ${u.error}` })),
        );
      },
    },
    stats: async () => {
      const { answers, unreachable } = await ask.askAll<AccessAnalytics | null>('stats');
      const nodes: Record<string, AccessAnalytics> = {};
      const missing = unreachable.map((u) => ({ node: u.name, reason: u.error }));
      for (const { name, body } of [{ name: self, body: node.analytics() }, ...answers]) {
        if (body === null) missing.push({ node: name, reason: 'access analytics are off on this node' });
        else nodes[name] = body;
      }
      const list = Object.values(nodes);
      return { cluster: list.length === 0 ? null : mergeAnalytics(list), nodes, missing };
    },
    peerSamples: async () => {
      const { answers, unreachable } = await ask.askAll<NodeSample>('dashboard');
      return [...answers.map((a) => ({ name: a.name, sample: a.body, error: null })), ...unreachable.map((u) => ({ name: u.name, sample: null, error: u.error }))];
    },
    close: () => ask.close(),
  };
}

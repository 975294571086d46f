/**
 * The admin port's `/stats`: the cluster's access analytics, every member's merged (the JSON of
 * `shoal stats --json`: `cluster`, `nodes`, `missing`; src/daemon/cluster-views.ts asks the
 * members), or with `?local=1` this node's own (what `shoal stats --node` shows).
 */
import type { AccessAnalytics } from '../protocol/index.ts';
import { flagParam, sendJson, type AdminRoute } from './server.ts';

export interface StatsRouteSources {
  node: string;
  /** The node's analytics (ShoalNode.analytics), null when the store runs without them. */
  analytics(): AccessAnalytics | null;
  /** Every member's, merged. */
  cluster(): Promise<unknown>;
}

export function statsRoutes(s: StatsRouteSources): AdminRoute[] {
  return [
    {
      path: '/stats',
      description: 'access analytics merged from every member (`shoal stats --json`): hit ratio over time, key/value size and TTL histograms, top prefixes, removal reasons; ?local=1 this node only',
      handle: async ({ response, query }) => {
        const local = flagParam(query, 'local', response);
        if (local === undefined) return;
        if (!local) return sendJson(response, 200, await s.cluster());
        const analytics = s.analytics();
        if (analytics === null) return sendJson(response, 404, { error: 'access analytics are off on this node' });
        sendJson(response, 200, { node: s.node, analytics });
      },
    },
  ];
}

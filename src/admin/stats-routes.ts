/**
 * The admin port's `/stats`: this node's access analytics (what `shoal stats --node` shows, as
 * JSON). The cluster-wide view merges every member's with mergeAnalytics (src/store/analytics.ts);
 * `shoal stats` does that over the members' client ports.
 */
import type { AccessAnalytics } from '../protocol/index.ts';
import { sendJson, type AdminRoute } from './server.ts';

export interface StatsRouteSources {
  node: string;
  /** The node's analytics (ShoalNode.analytics), null when the store runs without them. */
  analytics(): AccessAnalytics | null;
}

export function statsRoutes(s: StatsRouteSources): AdminRoute[] {
  return [
    {
      path: '/stats',
      description: "this node's access analytics: hit ratio over time, key/value size and TTL histograms, top prefixes, removal reasons (`shoal stats --json`)",
      handle: ({ response }) => {
        const analytics = s.analytics();
        if (analytics === null) return sendJson(response, 404, { error: 'access analytics are off on this node' });
        sendJson(response, 200, { node: s.node, analytics });
      },
    },
  ];
}

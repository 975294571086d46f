/**
 * The admin port's node routes: the health probes (also on the client port, src/server/health.ts)
 * and the JSON behind `shoal status` and `shoal ring`, so that scripts and dashboards need no SDK.
 */
import type { NodeStatus } from '../protocol/index.ts';
import type { TopologySnapshot } from '../replication/api.ts';
import { summarize } from '../ring/summary.ts';
import { LIVENESS_PATH, READINESS_PATH, readinessOf } from '../server/health.ts';
import { flagParam, sendJson, type AdminRoute } from './server.ts';

export interface NodeRouteSources {
  status(): NodeStatus;
  topology(): TopologySnapshot;
  /** Whether the node is stopping (leaving, draining clients). */
  draining(): boolean;
}

export function nodeRoutes(s: NodeRouteSources): AdminRoute[] {
  return [
    { path: LIVENESS_PATH, description: 'liveness: 200 while the process answers', open: true, handle: ({ response }) => sendJson(response, 200, { alive: true }) },
    {
      path: READINESS_PATH,
      description: 'readiness: 200 while the node serves (joined, caught up, not stopping), else 503 and why',
      open: true,
      handle: ({ response }) => {
        const readiness = readinessOf(s.status(), s.draining());
        sendJson(response, readiness.ready ? 200 : 503, readiness);
      },
    },
    { path: '/status', description: "the node's status, as `shoal status --json` prints it", handle: ({ response }) => sendJson(response, 200, s.status()) },
    {
      path: '/ring',
      description: 'the ring: state, share and primaries per node, balance; ?partitions=1 adds every preference list',
      handle: ({ response, query }) => {
        const partitions = flagParam(query, 'partitions', response);
        if (partitions === undefined) return;
        const { ranges, ...summary } = summarize(s.topology());
        // Each node's state as this node's status has it, as `shoal ring --json` shows it (src/cli/ring.ts).
        const states = new Map(s.status().members.map((m) => [m.name, m.state + (m.draining ? ', drained' : '')]));
        const nodes = summary.nodes.map((n) => ({ ...n, state: states.get(n.name) ?? 'unknown' }));
        sendJson(response, 200, partitions ? { ...summary, nodes, ranges } : { ...summary, nodes });
      },
    },
  ];
}

/**
 * What the node's Prometheus metrics (src/admin/metrics.ts) read at each scrape, gathered from the
 * counters the node, its servers and the auth guard already keep, and the latency observers it
 * installs on the node. Cheap reads only: one status and one stats snapshot per scrape, no
 * per-key work.
 */
import { createNodeMetrics, HOT_KEY_RANKS, MEMBER_STATES, type MetricsSnapshot, type NodeMetrics } from '../admin/metrics.ts';
import { memberHealth } from '../node/peer-verdicts.ts';
import type { RespServer } from '../resp/server.ts';
import type { AdmissionGate } from '../replication/admission-gate.ts';
import type { AuthGuard } from '../security/auth-guard.ts';
import type { ClientServer } from '../server/client-server.ts';
import type { HostedNode } from './node-host.ts';

export interface MetricsSources {
  node: HostedNode;
  server: () => ClientServer | null;
  resp: () => RespServer | null;
  /** The node's admission gate, shared by its SDK and RESP listeners. */
  admission: AdmissionGate;
  authGuard: AuthGuard;
}

/** The node's metrics; installs the request and replica latency observers (`timings: false` leaves them out). */
export function nodeMetrics(sources: MetricsSources, options: { timings?: boolean; process?: boolean } = {}): NodeMetrics {
  const shoal = sources.node.shoal;
  let ringChanges = 0;
  const unsubscribe = sources.node.onTopologyChange(() => ringChanges++);
  // This node's share of the ring, counted once per ring (a loop over every partition).
  let owned = { placement: null as ReturnType<typeof shoal.placement> | null, partitionsOwned: 0, primaries: 0 };
  const ownership = (): typeof owned => {
    const placement = shoal.placement();
    if (owned.placement === placement) return owned;
    let partitionsOwned = 0;
    let primaries = 0;
    for (let p = 0; p < placement.partitions; p++) {
      const owners = placement.owners(p);
      const i = owners.indexOf(shoal.name);
      if (i >= 0) partitionsOwned++;
      if (i === 0) primaries++;
    }
    owned = { placement, partitionsOwned, primaries };
    return owned;
  };
  const snapshot = (): MetricsSnapshot => {
    const stats = shoal.stats();
    const placement = shoal.placement();
    const mine = ownership();
    const members = Object.fromEntries(MEMBER_STATES.map((state) => [state, 0])) as MetricsSnapshot['members'];
    for (const m of shoal.membership.members()) members[m.state]++;
    const server = sources.server();
    const resp = sources.resp();
    const gate = sources.admission;
    const g = shoal.membership.stats;
    return {
      coordinator: stats.coordinator,
      clockCeiling: stats.clockCeiling,
      pendingRequests: stats.pendingRequests,
      replica: stats.replica,
      hints: stats.hints,
      store: shoal.store.stats(),
      sync: stats.sync,
      handoff: stats.handoff,
      catchUp: shoal.catchUpProgress(),
      mailboxes: stats.mailboxes,
      rmw: { attempts: stats.rmw.attempts, retries: stats.rmw.retries, claims: stats.rmw.claims, claimsFailed: stats.rmw.claimsFailed, fenced: stats.rmw.fenced, expired: stats.rmw.expired, resultWrites: stats.rmw.resultWrites, batches: stats.rmw.batches, batchedOps: stats.rmw.batchedOps },
      ring: {
        version: placement.version,
        partitions: placement.partitions,
        replicas: placement.width,
        members: placement.members.length,
        partitionsOwned: mine.partitionsOwned,
        primaries: mine.primaries,
        partitionsHeld: shoal.heldPartitions().size,
        changes: ringChanges,
      },
      joined: shoal.joined,
      members,
      memberHealth: memberHealth(shoal.membership.members()).map((m) => ({ node: m.name, score: m.score, degraded: m.state === 'degraded', failureProbability: m.failureProbability, secondsToFailure: m.secondsToFailure })),
      drain: shoal.drainProgress(),
      disk: shoal.disk?.stats() ?? null,
      gossip: { ...g, healthScore: shoal.membership.healthScore() },
      clients: {
        sdkConnections: server?.connectionCount ?? 0,
        sdkRequests: server?.stats.requestsReceived ?? 0,
        sdkRateLimited: server?.stats.requestsRateLimited ?? 0,
        sdkExpired: server?.stats.requestsExpired ?? 0,
        respConnections: resp?.state.clients.size ?? 0,
        respCommands: resp?.state.totalCommands ?? 0,
        respRateLimited: resp?.state.rateLimitedCommands ?? 0,
        respConnectionsTotal: resp?.state.totalConnections ?? 0,
      },
      admission: { limit: gate.limit, inFlight: gate.inFlight, waiting: gate.waitingCount, waited: gate.waited, shrinks: gate.shrinks, abandoned: gate.abandoned },
      auth: { failures: sources.authGuard.failures, refused: sources.authGuard.refused },
      // The per-key rate over the last store tick, as `shoal hotkeys` and the alerts read it: the
      // decayed Space-Saving count (overestimate included) named idle keys hot for a minute after.
      hotKeyRates: shoal.hotKeys(HOT_KEY_RANKS).keys.map((k) => k.rate),
      hotKeyAlerts: { fired: stats.hotKeyAlerts, active: stats.hotKeyAlertsActive },
    };
  };
  const metrics = createNodeMetrics({ snapshot }, { process: options.process ?? true });
  if (options.timings !== false) shoal.observe(metrics.timer.request, metrics.timer.replica);
  return {
    ...metrics,
    close: () => {
      unsubscribe();
      shoal.observe(null, null);
      metrics.close();
    },
  };
}

/**
 * `NodeStatus.health` on the wire (docs/OPERATIONS.md, "Node health"): the answering node's
 * verdict on each peer it uses, its demotion counters, every live member's health as the gossiped
 * views add up, its own signals and trends, and its failure prediction. The node's own types
 * (src/health, src/node/peer-verdicts.ts) sit above this layer; these are their wire shapes,
 * which src/daemon/status.ts fills. Verdicts and states are strings, so a newer node's decode; a
 * field this decoder does not know is dropped; older nodes send no `health` at all.
 */

export interface WirePeerHealth {
  name: string;
  /** 'healthy' | 'slow' | 'erroring' | 'silent' (src/health/peer-health.ts). */
  verdict: string;
  latencyMs: number;
  latencyStdDevMs: number;
  /** The median round trip of the peer's last judged window; null before the first. */
  windowMedianMs: number | null;
  lossRate: number;
  phi: number;
  samples: number;
}

export interface WireMemberHealth {
  name: string;
  /** 'healthy' | 'degraded'. */
  state: string;
  score: number;
  reportedBy: { observer: string; verdict: string }[];
  selfDeclared: boolean;
  failureProbability: number | null;
  secondsToFailure: number | null;
}

export interface WireTrend {
  value: number | null;
  fittedValue: number | null;
  slopePerSecond: number | null;
  secondsToThreshold: number | null;
}

export interface WireNodeHealth {
  /** Whether reads leave demoted replicas out of their first round (`--health-routing`). */
  routing: boolean;
  peers: WirePeerHealth[];
  counters: { demotions: number; recoveries: number; reprobes: number; lost: number; silentTimeouts: number };
  members: WireMemberHealth[];
  self: {
    samples: number;
    eventLoopUtilisation: number | null;
    rssBytes: number | null;
    hintBacklog: number;
    heap: WireTrend;
    eventLoopLag: WireTrend;
    errorRate: WireTrend;
  };
  prediction: { probability: number; secondsToFailure: number | null; horizonSeconds: number } | null;
}

/** Peers and members listed at most (a cluster larger than this is not one Shoal runs). */
const MAX_LISTED = 10_000;
const COUNTERS = ['demotions', 'recoveries', 'reprobes', 'lost', 'silentTimeouts'] as const;
const TRENDS = ['heap', 'eventLoopLag', 'errorRate'] as const;

export function healthStatusFromWire(v: unknown, fail: (message: string) => Error): WireNodeHealth {
  const map = (x: unknown, what: string): Record<string, unknown> => {
    if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array) throw fail(`${what} must be a map`);
    return x as Record<string, unknown>;
  };
  const num = (x: unknown, what: string): number => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw fail(`${what} must be a number`);
    return x;
  };
  const numOrNull = (x: unknown, what: string): number | null => (x === null || x === undefined ? null : num(x, what));
  const str = (x: unknown, what: string): string => {
    if (typeof x !== 'string') throw fail(`${what} must be a string`);
    return x;
  };
  const bool = (x: unknown, what: string): boolean => {
    if (typeof x !== 'boolean') throw fail(`${what} must be a boolean`);
    return x;
  };
  const list = (x: unknown, what: string): unknown[] => {
    if (!Array.isArray(x) || x.length > MAX_LISTED) throw fail(`${what} must be an array of at most ${MAX_LISTED}`);
    return x;
  };
  const trend = (x: unknown, what: string): WireTrend => {
    const t = map(x, what);
    return {
      value: numOrNull(t['value'], `${what}.value`),
      fittedValue: numOrNull(t['fittedValue'], `${what}.fittedValue`),
      slopePerSecond: numOrNull(t['slopePerSecond'], `${what}.slopePerSecond`),
      secondsToThreshold: numOrNull(t['secondsToThreshold'], `${what}.secondsToThreshold`),
    };
  };
  const m = map(v, 'status.health');
  const peers = list(m['peers'], 'status.health.peers').map((x): WirePeerHealth => {
    const p = map(x, 'status.health.peers[]');
    return {
      name: str(p['name'], 'peer.name'),
      verdict: str(p['verdict'], 'peer.verdict'),
      latencyMs: num(p['latencyMs'], 'peer.latencyMs'),
      latencyStdDevMs: num(p['latencyStdDevMs'], 'peer.latencyStdDevMs'),
      windowMedianMs: numOrNull(p['windowMedianMs'], 'peer.windowMedianMs'),
      lossRate: num(p['lossRate'], 'peer.lossRate'),
      phi: num(p['phi'], 'peer.phi'),
      samples: num(p['samples'], 'peer.samples'),
    };
  });
  const c = map(m['counters'], 'status.health.counters');
  const counters = Object.fromEntries(COUNTERS.map((k) => [k, num(c[k], `status.health.counters.${k}`)])) as WireNodeHealth['counters'];
  const members = list(m['members'], 'status.health.members').map((x): WireMemberHealth => {
    const h = map(x, 'status.health.members[]');
    return {
      name: str(h['name'], 'member.name'),
      state: str(h['state'], 'member.state'),
      score: num(h['score'], 'member.score'),
      reportedBy: list(h['reportedBy'], 'member.reportedBy').map((r) => {
        const o = map(r, 'member.reportedBy[]');
        return { observer: str(o['observer'], 'reportedBy.observer'), verdict: str(o['verdict'], 'reportedBy.verdict') };
      }),
      selfDeclared: bool(h['selfDeclared'], 'member.selfDeclared'),
      failureProbability: numOrNull(h['failureProbability'], 'member.failureProbability'),
      secondsToFailure: numOrNull(h['secondsToFailure'], 'member.secondsToFailure'),
    };
  });
  const s = map(m['self'], 'status.health.self');
  const self = {
    samples: num(s['samples'], 'self.samples'),
    eventLoopUtilisation: numOrNull(s['eventLoopUtilisation'], 'self.eventLoopUtilisation'),
    rssBytes: numOrNull(s['rssBytes'], 'self.rssBytes'),
    hintBacklog: num(s['hintBacklog'], 'self.hintBacklog'),
    ...(Object.fromEntries(TRENDS.map((k) => [k, trend(s[k], `self.${k}`)])) as Record<(typeof TRENDS)[number], WireTrend>),
  };
  let prediction: WireNodeHealth['prediction'] = null;
  if (m['prediction'] !== null && m['prediction'] !== undefined) {
    const p = map(m['prediction'], 'status.health.prediction');
    prediction = { probability: num(p['probability'], 'prediction.probability'), secondsToFailure: numOrNull(p['secondsToFailure'], 'prediction.secondsToFailure'), horizonSeconds: num(p['horizonSeconds'], 'prediction.horizonSeconds') };
  }
  return { routing: bool(m['routing'], 'status.health.routing'), peers, counters, members, self, prediction };
}

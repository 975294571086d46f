/** A node's whole health view (NodeStatus.health in src/node/node.ts), for status tests: `members` as given. */
import type { NodeHealthStatus } from '../../src/node/node.ts';

const trend = (value: number | null) => ({ value, fittedValue: value, slopePerSecond: value === null ? null : 0.5, secondsToThreshold: null });

export function fullHealth(members: NodeHealthStatus['members']): NodeHealthStatus {
  return {
    routing: true,
    peers: [{ name: 'a', verdict: 'slow', latencyMs: 12.5, latencyStdDevMs: 3.25, windowMedianMs: 11.75, lossRate: 0, phi: 0.301, samples: 420 }],
    counters: { demotions: 1, recoveries: 0, reprobes: 3, lost: 0, silentTimeouts: 2 },
    members,
    self: { samples: 12, eventLoopUtilisation: 0.125, rssBytes: 1 << 26, hintBacklog: 0, heap: trend(1 << 24), eventLoopLag: trend(1.5), errorRate: trend(null) },
    prediction: { probability: 0.05, secondsToFailure: null, horizonSeconds: 60 },
  };
}


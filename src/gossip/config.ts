/**
 * Every knob of SWIM + Lifeguard, as named and documented defaults grouped into profiles, after
 * memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig. A node picks a profile and
 * overrides single fields: `{ ...LAN_PROFILE, clusterName: 'prod' }`. The fixed constants of the
 * protocol (not tunable per cluster) are named here too, below the profiles, so every number the
 * gossip layer runs on is in this one file.
 */
import { GossipConfigError } from './errors.ts';

export interface GossipConfig {
  /** Messages carrying another cluster name are dropped and counted, so two clusters on one network never merge. */
  clusterName: string;
  /** Time between failure-detection probes of one member (one SWIM protocol period). */
  probeIntervalMs: number;
  /** How long a direct ping waits for its ack before asking others to probe indirectly. */
  probeTimeoutMs: number;
  /** How many members are asked to probe a silent member on our behalf (SWIM's k). */
  indirectChecks: number;
  /** Suspicion lasts suspicionMult * max(1, log10(n)) * probeInterval at minimum. */
  suspicionMult: number;
  /** Lifeguard: a suspicion nobody confirms lasts up to this multiple of the minimum. */
  suspicionMaxTimeoutMult: number;
  /** Each update is piggybacked about retransmitMult * ceil(log10(n + 1)) times. */
  retransmitMult: number;
  /** How often pending updates are pushed to `gossipNodes` random members. */
  gossipIntervalMs: number;
  /** Gossip fanout per gossip interval. */
  gossipNodes: number;
  /** Recently dead members still receive gossip this long, so a wrongly declared member hears it and refutes. */
  gossipToTheDeadMs: number;
  /** Period of full-state push-pull sync with one random member (stretched for large clusters, as memberlist does). */
  pushPullIntervalMs: number;
  /** Lifeguard local health awareness: probe interval and timeout are stretched up to this factor. */
  awarenessMaxMultiplier: number;
  /** Dead and left members are remembered this long, so stale full-state syncs cannot revive them. */
  deadReclaimMs: number;
  /** First retry delay of the seed join; it doubles up to joinRetryMaxMs and never gives up. */
  joinRetryInitialMs: number;
  joinRetryMaxMs: number;
  /** Byte budget of one control-lane datagram (UDP-like); piggybacked updates fill what the header leaves. */
  maxPacketBytes: number;
  /** Largest inbound message accepted at all (push-pull state travels on the bulk lane); bigger ones are dropped and counted. */
  maxMessageBytes: number;
  /** Hard cap on remembered members, so a flood of made-up names cannot exhaust memory. */
  maxMembers: number;
  /**
   * Lifeguard on (default) or off. Off disables local health awareness, dynamic suspicion timeouts
   * (suspicion lasts the minimum) and the buddy system: plain SWIM as memberlist ran it before 2017.
   */
  lifeguard: boolean;
  /** Test-only: re-injects fixed gossip bugs, so a test can show the simulator catches them. Never set it in production. */
  bugs?: GossipBugs;
}

/** Fixed gossip bugs a simulation may switch back on; each names the run that found it. */
export interface GossipBugs {
  /**
   * A member told an accusation older than what it knows of the accused (a refutation the sender
   * missed) ignores it, as memberlist does, instead of answering the sender with its newer state:
   * the sender keeps the stale suspicion until its timer or a push-pull (kv-rmw seed 106, keyed draws).
   */
  ignoreStaleAccusations?: boolean;
  /**
   * A member that holds the sender of a message as suspect or dead does not tell it so: the accused
   * learns of it only from the buddy system's probe or a push-pull (kv-sdk seed 147, 3 nodes, 10 s).
   */
  silentToAccused?: boolean;
}

/** Low-latency data-center network; the values the issue names. */
export const LAN_PROFILE: Readonly<GossipConfig> = Object.freeze({
  clusterName: 'shoal',
  probeIntervalMs: 1_000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  awarenessMaxMultiplier: 8,
  deadReclaimMs: 120_000,
  joinRetryInitialMs: 500,
  joinRetryMaxMs: 10_000,
  maxPacketBytes: 1_400,
  maxMessageBytes: 8 * 1024 * 1024,
  maxMembers: 10_000,
  lifeguard: true,
});

/** Across regions: slower, lossier links; longer timeouts and more patience before suspicion ends. */
export const WAN_PROFILE: Readonly<GossipConfig> = Object.freeze({
  ...LAN_PROFILE,
  probeIntervalMs: 5_000,
  probeTimeoutMs: 3_000,
  suspicionMult: 6,
  gossipIntervalMs: 500,
  gossipNodes: 4,
  gossipToTheDeadMs: 60_000,
  pushPullIntervalMs: 60_000,
  deadReclaimMs: 300_000,
  joinRetryMaxMs: 30_000,
});

/** One machine (loopback, tests, `shoal dev`): fast probes, short suspicion. */
export const LOCAL_PROFILE: Readonly<GossipConfig> = Object.freeze({
  ...LAN_PROFILE,
  probeIntervalMs: 1_000,
  probeTimeoutMs: 200,
  suspicionMult: 3,
  gossipIntervalMs: 100,
  gossipToTheDeadMs: 15_000,
  pushPullIntervalMs: 15_000,
  deadReclaimMs: 60_000,
  joinRetryInitialMs: 200,
  joinRetryMaxMs: 2_000,
});

export const PROFILES = { lan: LAN_PROFILE, wan: WAN_PROFILE, local: LOCAL_PROFILE } as const;
export type ProfileName = keyof typeof PROFILES;

// ---- fixed constants ---------------------------------------------------------------------------

/** An intermediary of a ping-req sends a nack when the target stayed silent for this fraction of the probe timeout. */
export const NACK_AFTER_FRACTION = 0.8;

/** Candidate draws per wanted member when sampling random members from a large table. */
export const SAMPLE_TRIES_PER_PICK = 8;

/** Each failed join attempt multiplies the retry delay by this, from joinRetryInitialMs up to joinRetryMaxMs. */
export const JOIN_BACKOFF_FACTOR = 2;

/**
 * A join retry waits base * (JOIN_JITTER_MIN + a uniform draw in [0, 1)): 0.5-1.5x, mean 1x, as this
 * loop always was (the client's and the transport's backoffs jitter only below the base).
 */
export const JOIN_JITTER_MIN = 0.5;

/**
 * A condition that lasts (an unreachable seed, a foreign peer that keeps knocking) is logged again
 * at most this often per seed or peer, so it stays visible without flooding the log.
 */
export const PROBLEM_LOG_INTERVAL_MS = 15_000;

/** Peers of other clusters remembered for status, at most (they are outside input). */
export const MAX_FOREIGN_PEERS = 16;

/** Above this many members the push-pull period grows with log2(n), as memberlist's pushPullScale does. */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/** The push-pull period for a cluster of `members`: the base period, times 1 + ceil(log2(n / threshold)) above the threshold. */
export function scaledPushPullIntervalMs(config: Pick<GossipConfig, 'pushPullIntervalMs'>, members: number): number {
  if (members <= PUSH_PULL_SCALE_THRESHOLD) return config.pushPullIntervalMs;
  return config.pushPullIntervalMs * (Math.ceil(Math.log2(members) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1);
}

/** Checks a configuration once, at construction, so a bad value fails loudly instead of oddly at runtime. */
export function validateConfig(config: GossipConfig): GossipConfig {
  const positive: (keyof GossipConfig)[] = [
    'probeIntervalMs',
    'probeTimeoutMs',
    'suspicionMult',
    'suspicionMaxTimeoutMult',
    'retransmitMult',
    'gossipIntervalMs',
    'pushPullIntervalMs',
    'awarenessMaxMultiplier',
    'deadReclaimMs',
    'joinRetryInitialMs',
    'joinRetryMaxMs',
    'maxPacketBytes',
    'maxMessageBytes',
    'maxMembers',
  ];
  for (const key of positive) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new GossipConfigError(`${key} must be a positive number, got ${String(v)}`);
    }
  }
  for (const key of ['indirectChecks', 'gossipNodes', 'gossipToTheDeadMs'] as const) {
    if (!Number.isFinite(config[key]) || config[key] < 0) throw new GossipConfigError(`${key} must be >= 0, got ${config[key]}`);
  }
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    throw new GossipConfigError(
      `probeTimeoutMs (${config.probeTimeoutMs}) must be shorter than probeIntervalMs (${config.probeIntervalMs}): indirect probes need the rest of the period`,
    );
  }
  if (config.suspicionMaxTimeoutMult < 1) throw new GossipConfigError('suspicionMaxTimeoutMult must be >= 1');
  if (config.maxPacketBytes < 256) throw new GossipConfigError(`maxPacketBytes must be at least 256, got ${config.maxPacketBytes}`);
  if (config.clusterName.length === 0 || config.clusterName.length > 64) {
    throw new GossipConfigError('clusterName must be 1..64 characters');
  }
  return config;
}

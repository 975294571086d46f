/**
 * Probes: how core code tells the simulator about itself, at no cost in production.
 *
 * - `cover(env, path)`: a rare path (an error branch of replication, handoff or gossip) ran. The
 *   simulator counts them per run, so a sweep shows which rare paths its seeds reached and a CI
 *   gate fails when a listed one stops being reached (test/sim/coverage-gate.test.ts).
 * - `buggify(env, point)`: FoundationDB's BUGGIFY. True when the simulator wants this fault point
 *   to misbehave now (an extra delay, a spurious timeout, a handoff stopping halfway). Only a
 *   simulated run with buggify switched on ever says yes; production never does.
 * - `invariant(env, holds, name, detail)`: TigerBeetle-style assertions where state changes. In
 *   the simulator a failure fails the run with the assertion's name and the seed. In production
 *   it is logged as an error (`assertion-failed`, the first of each name and every 1000th after)
 *   and counted (`assertionFailures`), and the node carries on: a cache node that stopped on a
 *   broken invariant would turn one bug into lost availability for every key it holds.
 *
 * Without probes (production: the Env has none) `cover` and `buggify` are one property test.
 */
import type { Env, Logger } from './env.ts';

/** What the simulator hangs on each node's Env; absent in production. */
export interface Probes {
  cover(path: RarePath): void;
  buggify(point: BuggifyPoint): boolean;
  assertionFailed(name: AssertionName, detail: string): void;
}

/** The rare paths counted, each one error or recovery branch (docs/SIMULATION.md, "Rare-path coverage"). */
export const RARE_PATHS = [
  'replica-timeout', // a coordinator's replicas did not answer in time (coordinator.ts)
  'sloppy-stand-in-write', // a write went to a stand-in past the preference list (coordinator.ts)
  'hint-delivered', // an owner acknowledged a hint its coordinator kept (hinted-handoff.ts)
  'stand-in-hint-delivered', // an owner acknowledged a hint a sloppy-quorum stand-in kept for it (hinted-handoff.ts)
  'read-repair-sent', // a read found a stale replica and repaired it (coordinator.ts)
  'joint-quorum-waited', // a write met its quorum but waited for its joint quorum on the previous ring (coordinator.ts)
  'retry-on-newer-ring', // a replica refused a request routed by an older ring (coordinator.ts)
  'sync-repaired', // anti-entropy or catch-up carried records a replica lacked (sync.ts)
  'handoff-finished', // a partition the ring moved away was handed off and dropped (sync.ts)
  'suspect-refuted', // a member suspected of failure refuted it (gossip)
  'indirect-probe-ack', // a probe answered only through another member (gossip)
  'member-declared-dead', // a suspicion timed out (gossip)
] as const;
export type RarePath = (typeof RARE_PATHS)[number];

/** The fault points buggify may fire (docs/SIMULATION.md, "BUGGIFY"). */
export const BUGGIFY_POINTS = [
  'replica-request-lost', // a coordinator's request to one replica is never sent: it times out (coordinator.ts)
  'hint-delivery-fails', // a hint delivery round sends nothing (hinted-handoff.ts)
  'sync-stops-halfway', // a sync or handoff stops sending records partway, its last batch never sent (sync.ts)
  'send-delayed', // a node-to-node replication message leaves BUGGIFY_DELAY_MS late (node.ts)
] as const;

/** How late a buggified send leaves: half the default replica timeout, so two in a row time a request out. */
export const BUGGIFY_DELAY_MS = 250;
export type BuggifyPoint = (typeof BUGGIFY_POINTS)[number];

export const ASSERTIONS = [
  'hlc-monotone', // a node's HLC never goes back
  'hlc-remote-bounded', // a remote HLC folded in is at most MAX_REMOTE_CLOCK_AHEAD_MS ahead of the wall clock
  'ring-epochs-monotone', // a partition's ownership epoch never goes back, and moves when its owners change
  'one-primary-per-epoch', // a replica never promises one read-modify-write fencing epoch to two primaries
  'hint-bytes-exact', // the hint store's byte count is the sum of its hints' costs
  'store-bytes-exact', // the store's byte count is the sum of its entries' costs
] as const;
export type AssertionName = (typeof ASSERTIONS)[number];

/**
 * How far ahead of this node's wall clock a remote HLC may be. Beyond it the remote clock (or
 * ours) is broken: the HLC still folds it in (refusing would order a write before what it read),
 * but the assertion reports it. The simulator's clock faults stay well inside it (offsets up to 5 s,
 * steps of 2 s).
 */
export const MAX_REMOTE_CLOCK_AHEAD_MS = 60_000;

export function cover(env: Pick<Env, 'probes'>, path: RarePath): void {
  env.probes?.cover(path);
}

export function buggify(env: Pick<Env, 'probes'>, point: BuggifyPoint): boolean {
  return env.probes?.buggify(point) === true;
}

/** Production's count of failed assertions, by name (the daemon may export it as a metric). */
export const assertionFailures = new Map<AssertionName, number>();

/** Checks an invariant; `detail` is only built when it failed. */
export function invariant(env: Pick<Env, 'probes' | 'log'>, holds: boolean, name: AssertionName, detail: () => string): void {
  if (holds) return;
  if (env.probes) return env.probes.assertionFailed(name, detail());
  logFailure(env.log, name, detail());
}

const LOG_EVERY = 1000;

function logFailure(log: Logger, name: AssertionName, detail: string): void {
  const count = (assertionFailures.get(name) ?? 0) + 1;
  assertionFailures.set(name, count);
  if (count === 1 || count % LOG_EVERY === 0) log.error({ assertion: name, detail, count }, 'assertion-failed');
}

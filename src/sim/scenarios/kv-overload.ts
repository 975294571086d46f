/**
 * `kv-overload`: the kv scenario (workload, swarm faults, checkers) on partition actors that are
 * slow and have small mailboxes, driven by more clients, so that mailboxes fill and replicas answer
 * busy all the time. It exercises backpressure end to end: a full mailbox refuses the job, the
 * replica answers `nb`, the coordinator answers the client a retryable `overloaded` once the
 * consistency level is out of reach, and a write refused that way is hinted to the replica. The
 * kv checkers judge it as they judge `kv`: in particular no acknowledged strict write is lost, and
 * no mailbox grows past its bound (bounded-resources).
 *
 * Slow processing is the actors' pacing (src/actors/scheduler.ts): every turn waits
 * OVERLOAD_TURN_DELAY_MS and runs one job, so a node's actors handle about 1,000 / 2 = 500 jobs
 * per simulated second between them, a fraction of what 24 clients ask of them.
 */
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { DEFAULT_KV_WORKLOAD } from './kv-workload.ts';
import { runKv, type KvTuning } from './kv.ts';

export const OVERLOAD_MAILBOX_CAPACITY = 2;
export const OVERLOAD_TURN_DELAY_MS = 2;

export const OVERLOAD_TUNING: KvTuning = {
  mailboxCapacity: OVERLOAD_MAILBOX_CAPACITY,
  replication: { partitionJobsPerTurn: 1, partitionTurnDelayMs: OVERLOAD_TURN_DELAY_MS },
  workload: { ...DEFAULT_KV_WORKLOAD, clients: 24, meanThinkMs: 10 },
};

export function runKvOverload(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  return runKv(options, trace, OVERLOAD_TUNING);
}

export const kvOverloadScenario: Scenario = {
  name: 'kv-overload',
  summary: 'kv on slow partition actors with tiny mailboxes: busy replicas, `overloaded` answers, and still no lost acknowledged write',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  keyedDraws: true,
  run: runKvOverload,
};

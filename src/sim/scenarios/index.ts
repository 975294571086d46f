/** Every scenario `shoal sim --scenario NAME` can run. Add a scenario here, in its own module. */
import type { AsyncScenario, Scenario } from '../scenario.ts';
import { heartbeatScenario } from './heartbeat.ts';
import { kvBucketsScenario } from './kv-buckets.ts';
import { kvDrainScenario } from './kv-drain.ts';
import { kvJoinScenario } from './kv-join.ts';
import { kvOverloadScenario } from './kv-overload.ts';
import { kvDiskScenario, kvPressureDiskScenario, kvPressureForgetfulScenario, kvPressureScenario } from './kv-pressure.ts';
import { kvPressureRingScenario } from './kv-pressure-ring.ts';
import { kvRmwCrashPressureScenario, kvRmwHotScenario, kvRmwPressureScenario, kvRmwScenario } from './kv-rmw.ts';
import { kvScenario } from './kv.ts';
import { kvRestartSkewScenario } from './kv-restart-skew.ts';
import { kvSdkScenario } from './kv-sdk.ts';
import { kvWarmScenario } from './kv-warm.ts';
import { nearCacheScenario } from './near-cache.ts';
import { nearHotKeyScenario } from './near-hot-key.ts';
import { ringBalanceScenario, ringMoveScenario } from './ring.ts';
import { blueGreenScenario, drainScenario, rollingRestartScenario, rollingUpgradeScenario } from './rolling.ts';
import { GRAY_SCENARIOS } from './gray.ts';
import { slowDeathDrainScenario, slowDeathScenario } from './slow-death.ts';
import { gossipScenario } from './swim-gossip.ts';
import { SWIM_SCENARIOS } from './swim.ts';

export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  [heartbeatScenario, kvScenario, kvJoinScenario, kvDrainScenario, kvPressureScenario, kvPressureDiskScenario, kvPressureForgetfulScenario, kvPressureRingScenario, kvDiskScenario, kvOverloadScenario, kvBucketsScenario, kvRmwScenario, kvRmwHotScenario, kvRmwPressureScenario, kvRmwCrashPressureScenario, kvRestartSkewScenario, kvWarmScenario, nearCacheScenario, nearHotKeyScenario, ringBalanceScenario, ringMoveScenario, rollingRestartScenario, rollingUpgradeScenario, blueGreenScenario, drainScenario, ...SWIM_SCENARIOS, gossipScenario, ...GRAY_SCENARIOS, slowDeathScenario, slowDeathDrainScenario].map((s) => [s.name, s]),
);

/** Scenarios whose runs are asynchronous (runAnyScenario runs them; shrinking and hunting do not yet). */
export const ASYNC_SCENARIOS: ReadonlyMap<string, AsyncScenario> = new Map([kvSdkScenario].map((s) => [s.name, s]));

export const DEFAULT_SCENARIO = 'heartbeat';

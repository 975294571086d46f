// Two replicas of one partition (n1, n2) wired through the real codec on a hand-cranked clock:
// the rig of the anti-entropy unit tests (replication-sync-buckets.test.ts) and of
// bench/replication/sync-large-partition.ts.
import { replicationConfig, type ReplicationConfig } from '../../src/replication/config.ts';
import type { Placement, ReplicationContext } from '../../src/replication/context.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock, nodeIdOf, type Version } from '../../src/replication/hlc.ts';
import { decodeKvMessage, encodeKvMessage, type KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { PartitionSync } from '../../src/replication/sync.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Store } from '../../src/store/index.ts';
import { fakeEnv } from './replication-fakes.ts';

export const PAIR = ['n1', 'n2'] as const;

export interface SyncPairOptions {
  config?: Partial<ReplicationConfig>;
  /** The protocol version each node sees its peer announce (default 2: buckets). */
  protocolOf?: (peer: string) => number;
  /** Each store's memory budget (default 256 MiB). */
  maxMemory?: number;
  /** Called with every message a node sends, and its encoded size. */
  onSend?: (message: KvMessage, bytes: number) => void;
  /** The clock's start (default fakeEnv's); versions taken from it encode larger as it grows. */
  startMs?: number;
}

/**
 * The pair, caught up with each other (no pending catch-up sources) and not yet syncing: start a
 * node's rounds with `nodes.get(name).sync.start()`. Each message is encoded, then decoded and
 * delivered 1 ms later; `flush(untilMs)` runs the clock.
 */
export function syncPair(o: SyncPairOptions = {}) {
  const { env: base, flush, now } = fakeEnv(o.startMs);
  const placement: Placement = {
    version: 'v',
    partitions: 1,
    width: 2,
    members: PAIR.map((name) => ({ name, zone: '' })),
    owners: () => PAIR,
    ranking: () => PAIR,
    partitionOfKey: () => 0,
  };
  const nodes = new Map<string, { host: ReplicaHost; sync: PartitionSync }>();
  for (const name of PAIR) {
    const env: Env = { ...base, address: name };
    const ctx: ReplicationContext = {
      env,
      config: replicationConfig(o.config ?? {}),
      selfName: name,
      placement: () => placement,
      isAlive: () => true,
      ringConfirmed: () => true,
      protocolOf: o.protocolOf ?? (() => 2),
      send: (to, m) => {
        const bytes = encodeKvMessage(m);
        o.onSend?.(m, bytes.length);
        base.timers.setTimer(1, () => {
          const target = nodes.get(to)!;
          const message = decodeKvMessage(bytes);
          if (!target.host.onMessage(name, message)) target.sync.onMessage(name, message);
        });
      },
    };
    const store = new Store({ maxMemory: o.maxMemory ?? 1 << 28, clock: env.clock, seed: 1 });
    const host = new ReplicaHost(ctx, store, new HintStore(10, 10_000, 60_000), new HybridLogicalClock(env.clock, nodeIdOf(name)), 1024);
    const sync = new PartitionSync(ctx, host);
    sync.onPlacement(null, placement);
    for (const actor of host.partitions.values()) for (const source of [...actor.pendingSources]) actor.sourceDone(source);
    nodes.set(name, { host, sync });
  }
  /** Puts a record (a value, or a tombstone when `value` is null) on one replica, as a write it alone took. */
  const put = (name: string, key: string, version: Version, value: Uint8Array | null): void => {
    nodes.get(name)!.host.run(0, (actor) => void actor.replica.apply(key, makeRecord(version, value, 0)));
  };
  return { nodes, put, flush, now };
}

/** The (key, version) entries a sync message lists: an `sr` answer's lists, an `sl` bucket list. */
export function listedEntries(m: KvMessage): number {
  if (m.t === 'sr') return m.df.reduce((n, [, keys]) => n + keys.length, 0);
  return (m as { t: string }).t === 'sl' ? (m as unknown as { k: string[] }).k.length : 0;
}

/**
 * What the parts of one SWIM member share (the probe loop, dissemination, push-pull, joining,
 * member updates): its Env, configuration, name, counters, member table and lifecycle flags. The
 * Swim class (swim.ts) builds one and hands it to each part, as memberlist's parts share its
 * *Memberlist.
 */
import type { Env } from '../runtime/env.ts';
import type { GossipConfig } from './config.ts';
import type { MemberTable } from './member-table.ts';
import type { VersionGate } from './protocol-version.ts';
import type { SwimStats } from './stats.ts';

export interface Lifecycle {
  /** start() ran: timers are armed and the transport delivers to us. */
  started: boolean;
  /** We announced our leave: no more probing, syncing or refuting. */
  leaving: boolean;
  /** Every timer is cancelled; late callbacks and messages are ignored. */
  stopped: boolean;
  /**
   * A peer's full table (a push-pull, ours answered or its own) has been merged since start: our
   * member list is the cluster's, not the few members gossip's piggyback happened to carry.
   */
  heardFullState: boolean;
}

export interface SwimContext {
  readonly env: Env;
  readonly config: GossipConfig;
  /** Our own member name. */
  readonly name: string;
  readonly stats: SwimStats;
  readonly table: MemberTable;
  readonly life: Lifecycle;
  /** Admission by protocol version: a member it refuses never enters the table. */
  readonly versions: VersionGate;
}

// A hand-cranked environment and a three-owner context for replication unit tests.
import type { Env } from '../../src/runtime/env.ts';
import { replicationConfig } from '../../src/replication/config.ts';
import type { Placement, ReplicationContext } from '../../src/replication/context.ts';
import type { KvMessage } from '../../src/replication/messages.ts';

/** A hand-cranked Env starting at `startMs`: timers run when `flush` is called, sends are recorded. */
export function fakeEnv(startMs = 1_000) {
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  let now = startMs;
  const env: Env = {
    address: 'n1',
    clock: { wallMs: () => now, monoMs: () => now },
    timers: {
      setTimer: (delay, fn) => {
        const id = nextId++;
        timers.push({ at: now + delay, fn, id });
        return id;
      },
      cancelTimer: (id) => {
        const i = timers.findIndex((t) => t.id === id);
        if (i >= 0) timers.splice(i, 1);
      },
    },
    random: { next: () => 0.5, int: (n) => Math.floor(n / 2) },
    transport: { send: () => {}, onReceive: () => {} },
    log: { debug() {}, info() {}, warn() {}, error() {} },
  } as Env;
  const flush = (untilMs = now) => {
    for (;;) {
      timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = timers[0];
      if (!next || next.at > untilMs) break;
      timers.shift();
      now = Math.max(now, next.at);
      next.fn();
    }
    now = Math.max(now, untilMs);
  };
  return { env, flush, now: () => now };
}

export const OWNERS = ['n1', 'n2', 'n3'];
const placement: Placement = {
  version: 'v',
  partitions: 4,
  width: 3,
  members: OWNERS.map((name) => ({ name, zone: '' })),
  owners: () => OWNERS,
  ranking: () => OWNERS,
  partitionOfKey: () => 1,
};

export function context(env: Env, sent: [string, KvMessage][], overrides: Partial<ReplicationContext> = {}): ReplicationContext {
  return { env, config: replicationConfig(), selfName: 'n1', placement: () => placement, isAlive: () => true, ringConfirmed: () => true, send: (to, m) => void sent.push([to, m]), ...overrides };
}


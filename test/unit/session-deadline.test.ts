// Request deadlines on the client session (src/server/session.ts; docs/PROTOCOL.md, `deadlineMs`):
// a request taken up at or after its client's deadline, by the node's wall clock, is answered
// `timeout` and never reaches the service, so a write that waited out a freeze of its node cannot
// be applied after its client reported it failed (probe-sdk finding 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import {
  DEFAULT_WIRE_LIMITS,
  FrameType,
  OpCode,
  PROTOCOL_VERSION,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  type Reply,
  type Request,
} from '../../src/protocol/index.ts';
import type { Callback, GetResult, KvService, RmwOp, RmwOptions, RmwResult, RmwService, WriteResult } from '../../src/replication/api.ts';
import { ClientSession, type ClientServerStats, type SessionSocket } from '../../src/server/session.ts';
import { AdmissionGate } from '../../src/replication/admission-gate.ts';

/** A socket that keeps what the session sends, and lets the test deliver frames. */
class FakeSocket implements SessionSocket {
  bufferedAmount = 0;
  isPaused = false;
  readonly sent: Uint8Array[] = [];
  private onMessage: ((data: Uint8Array, isBinary: boolean) => void) | null = null;
  send(data: Uint8Array, callback?: (error?: Error) => void): void {
    this.sent.push(data);
    callback?.();
  }
  close(): void {}
  pause(): void {
    this.isPaused = true;
  }
  resume(): void {
    this.isPaused = false;
  }
  on(event: string, listener: (...args: never[]) => void): this {
    if (event === 'message') this.onMessage = listener as (data: Uint8Array, isBinary: boolean) => void;
    return this;
  }
  deliver(bytes: Uint8Array): void {
    this.onMessage!(bytes, true);
  }
}

/** Timers run by hand: the session's reply flush is a zero-delay timer. */
class ManualTimers {
  private next = 1;
  private readonly due = new Map<number, () => void>();
  setTimer(delayMs: number, fn: () => void): number {
    const id = this.next++;
    if (delayMs === 0) this.due.set(id, fn);
    return id;
  }
  cancelTimer(id: number): void {
    this.due.delete(id);
  }
  runDue(): void {
    for (const [id, fn] of [...this.due]) {
      this.due.delete(id);
      fn();
    }
  }
}

const NODE_WALL_MS = 1_767_225_600_000;
const key = new Uint8Array([107]);

/**
 * A session on a fake socket and clock. `admission`: the node's gate its get/set/delete pass;
 * `hold`: the service keeps their callbacks (in `held`) instead of answering at once.
 */
function harness(options: { admission?: AdmissionGate; hold?: boolean; unreadLimitBytes?: number } = {}) {
  const socket = new FakeSocket();
  const held: (() => void)[] = [];
  const answer = (fn: () => void): void => {
    if (options.hold === true) held.push(fn);
    else fn();
  };
  const timers = new ManualTimers();
  const clock = { wall: NODE_WALL_MS, wallMs: () => clock.wall, monoMs: () => 0 };
  const calls: string[] = [];
  const rmwOptions: RmwOptions[] = [];
  const kv: KvService = {
    topology: () => ({ version: 'v1', partitions: 1024, replicas: 1, nodes: [], owners: [] }),
    get: (_k, _o, done: Callback<GetResult>) => {
      calls.push('get');
      answer(() => done(null, { value: null, expiresAtMs: null, acks: 1, version: null }));
    },
    set: (_k, _v, _o, done: Callback<WriteResult>) => {
      calls.push('set');
      answer(() => done(null, { acks: 1 }));
    },
    delete: (_k, _o, done: Callback<WriteResult>) => {
      calls.push('delete');
      answer(() => done(null, { acks: 1 }));
    },
  };
  const rmw: RmwService = {
    rmw: (_keys: Uint8Array[], _op: RmwOp, options: RmwOptions, done: Callback<RmwResult>) => {
      calls.push('rmw');
      rmwOptions.push(options);
      done(null, { kind: 'ok' });
    },
  };
  const stats: ClientServerStats = { framesReceived: 0, requestsReceived: 0, replyFramesSent: 0, connectionsFailed: 0, connectionsClosedUnread: 0, repliesRefusedUnread: 0 };
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  new ClientSession(
    socket,
    {
      stats,
      timers,
      clock,
      kv,
      admission: options.admission ?? null,
      rmw,
      nodeName: 'n2',
      limits: DEFAULT_WIRE_LIMITS,
      maxInFlight: 100,
      helloTimeoutMs: 5_000,
      unreadLimitBytes: options.unreadLimitBytes ?? 1 << 20,
      unreadStallMs: 10_000,
      ownersOnly: false,
      status: null,
      hotKeys: null,
      invalidations: null,
      drain: null,
      log: quiet,
      acl: null,
      authGuard: null,
    },
    'test',
  );
  socket.deliver(encodeClientFrame({ type: 'hello', minVersion: 1, maxVersion: PROTOCOL_VERSION, client: 'test', credentials: null }));
  /** Sends one requests frame (as bytes) and returns the replies it got. */
  const exchange = (bytes: Uint8Array): Reply[] => {
    const before = socket.sent.length;
    socket.deliver(bytes);
    timers.runDue();
    return socket.sent.slice(before).flatMap((frame) => {
      const decoded = decodeServerFrame(frame);
      return decoded.type === 'replies' ? decoded.replies : [];
    });
  };
  /** Answers the oldest held call and returns the replies that left. */
  const answerOldest = (): Reply[] => {
    const before = socket.sent.length;
    held.shift()!();
    timers.runDue();
    return socket.sent.slice(before).flatMap((frame) => {
      const decoded = decodeServerFrame(frame);
      return decoded.type === 'replies' ? decoded.replies : [];
    });
  };
  return { clock, calls, rmwOptions, stats, exchange, held, answerOldest };
}

const requests = (list: Request[]): Uint8Array => encodeClientFrame({ type: 'requests', requests: list });

test('a request whose deadline has passed on the node is answered timeout and never reaches the service', () => {
  const h = harness();
  const past = h.clock.wall - 1;
  const replies = h.exchange(
    requests([
      { op: 'set', id: 1, key, value: new Uint8Array([1]), ttlMs: 0, consistency: null, deadlineMs: past },
      { op: 'delete', id: 2, key, consistency: null, deadlineMs: past },
      { op: 'get', id: 3, key, consistency: null, deadlineMs: past },
      { op: 'rmw', id: 4, keys: [key], rmw: { op: 'incrby', by: 1n }, requestId: null, consistency: null, deadlineMs: past },
      // At the deadline itself the client's timer is due: refused too.
      { op: 'set', id: 5, key, value: new Uint8Array([1]), ttlMs: 0, consistency: null, deadlineMs: h.clock.wall },
    ]),
  );
  assert.deepEqual(h.calls, [], 'nothing applied');
  assert.equal(replies.length, 5);
  for (const reply of replies) {
    assert.equal(reply.ok, false);
    if (!reply.ok) {
      assert.equal(reply.error.code, 'timeout');
      assert.match(reply.error.message, /deadline passed \d+ ms before n2 took it up.*not applied/);
    }
  }
  assert.equal(h.stats.requestsExpired, 5);
});

test('a request before its deadline, and one without a deadline (an older client), are served', () => {
  const h = harness();
  const future = h.clock.wall + 1_000;
  const replies = h.exchange(
    requests([
      { op: 'set', id: 1, key, value: new Uint8Array([1]), ttlMs: 0, consistency: null, deadlineMs: future },
      { op: 'set', id: 2, key, value: new Uint8Array([1]), ttlMs: 0, consistency: 'all' },
      { op: 'get', id: 3, key, consistency: null },
      { op: 'delete', id: 4, key, consistency: null },
      { op: 'rmw', id: 5, keys: [key], rmw: { op: 'incrby', by: 1n }, requestId: 'r1', consistency: null, deadlineMs: future },
    ]),
  );
  assert.deepEqual(h.calls, ['set', 'set', 'get', 'delete', 'rmw']);
  assert.ok(replies.every((r) => r.ok), JSON.stringify(replies));
  assert.equal(h.stats.requestsExpired ?? 0, 0);
  // The primary checks the deadline again when the operation leaves its queue.
  assert.deepEqual(h.rmwOptions, [{ requestId: 'r1', deadlineMs: future }]);
});

test('a request held while the client did not read is checked when it is taken up, not when it arrived', () => {
  const h = harness();
  // The same frame, decoded once before and once after its deadline: only the clock differs.
  const frame = requests([{ op: 'set', id: 1, key, value: new Uint8Array([1]), ttlMs: 0, consistency: null, deadlineMs: h.clock.wall + 10 }]);
  h.clock.wall += 10; // the node was frozen with the frame in its socket
  const [late] = h.exchange(frame);
  assert.equal(late?.ok, false);
  assert.deepEqual(h.calls, []);
});

test('an old-format request (no deadline element) decodes with no deadline; a new one round-trips its deadline', () => {
  const old = decodeClientFrame(encode([FrameType.requests, [[1, OpCode.set, key, new Uint8Array([1]), 0, null], [2, OpCode.get, key, null]]]));
  assert.equal(old.type, 'requests');
  if (old.type !== 'requests') return;
  for (const r of old.requests) assert.ok(!('deadlineMs' in r), JSON.stringify(r));
  const deadlineMs = NODE_WALL_MS + 5_000;
  const again = decodeClientFrame(requests([{ op: 'delete', id: 3, key, consistency: 'quorum', deadlineMs }]));
  assert.deepEqual(again, { type: 'requests', requests: [{ op: 'delete', id: 3, key, consistency: 'quorum', deadlineMs }] });
});

test('a request that waited in the admission gate past its deadline is answered timeout when its turn comes, and never reaches the service', () => {
  const admission = new AdmissionGate({ initial: 1, min: 1, max: 1, nowMs: () => 0 });
  // Room for replies: a get in flight counts as large as the largest value against the unread limit.
  const h = harness({ admission, hold: true, unreadLimitBytes: 1 << 30 });
  const deadlineMs = h.clock.wall + 100;
  const first = h.exchange(
    requests([
      { op: 'set', id: 1, key, value: new Uint8Array([1]), ttlMs: 0, consistency: null, deadlineMs },
      { op: 'set', id: 2, key, value: new Uint8Array([2]), ttlMs: 0, consistency: null, deadlineMs },
      { op: 'get', id: 3, key, consistency: null, deadlineMs },
      { op: 'delete', id: 4, key, consistency: null, deadlineMs: h.clock.wall + 10_000 },
      // No deadline (an older client): it waits as long as it takes.
      { op: 'delete', id: 5, key, consistency: null },
      // Read-modify-writes do not pass the gate (they queue on their keys' primary).
      { op: 'rmw', id: 6, keys: [key], rmw: { op: 'incrby', by: 1n }, requestId: null, consistency: null, deadlineMs },
    ]),
  );
  assert.deepEqual(h.calls, ['set', 'rmw'], 'one call in flight: the others wait in the gate');
  assert.deepEqual(first.map((r) => r.id), [6]);
  assert.equal(admission.waitingCount, 4);
  h.clock.wall = deadlineMs; // the client's deadline comes while they wait
  const second = h.answerOldest();
  // 1 answered; 2 and 3 are past their deadline when their turn comes: refused, unapplied; 4 starts.
  assert.deepEqual(h.calls, ['set', 'rmw', 'delete']);
  assert.deepEqual(
    second.map((r) => [r.id, r.ok ? 'ok' : r.error.code]).sort(([a], [b]) => Number(a) - Number(b)),
    [
      [1, 'ok'],
      [2, 'timeout'],
      [3, 'timeout'],
    ],
  );
  for (const reply of second) if (!reply.ok) assert.match(reply.error.message, /deadline passed 0 ms before n2 started it \(it waited for room in the admission gate\).*not applied/);
  assert.equal(h.stats.requestsExpired, 2);
  assert.equal(admission.abandoned, 2);
  h.answerOldest();
  assert.deepEqual(h.calls, ['set', 'rmw', 'delete', 'delete']);
  h.answerOldest();
  assert.equal(admission.inFlight, 0);
  assert.equal(admission.waitingCount, 0);
});

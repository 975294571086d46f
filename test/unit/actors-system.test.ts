import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ActorFailedError,
  ActorNotFoundError,
  ActorStoppedError,
  ActorSystem,
  AskTimeoutError,
  DuplicateActorError,
  MAX_MESSAGES_PER_DRAIN,
  MailboxFullError,
} from '../../src/actors/index.ts';
import type { ActorRef, AskResult, Reply } from '../../src/actors/index.ts';
import type { TimerId, Timers } from '../../src/runtime/env.ts';

/** Timers that fire only when the test advances time. */
class FakeTimers implements Timers {
  now = 0;
  private nextId = 1;
  private readonly pending = new Map<TimerId, { at: number; fn: () => void }>();
  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + delayMs, fn });
    return id;
  }
  cancelTimer(id: TimerId): void {
    this.pending.delete(id);
  }
  get size(): number {
    return this.pending.size;
  }
  /** Fires only the earliest pending timer. */
  fireNext(): void {
    const first = [...this.pending.entries()].sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
    if (!first) return;
    this.pending.delete(first[0]);
    this.now = Math.max(this.now, first[1].at);
    first[1].fn();
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
      const first = due[0];
      if (!first) break;
      this.pending.delete(first[0]);
      this.now = first[1].at;
      first[1].fn();
    }
    this.now = until;
  }
}

const newSystem = () => {
  const timers = new FakeTimers();
  return { timers, system: new ActorSystem({ node: 'n1', timers }) };
};

/** An actor that records what it receives into a shared log. */
const recorder = (log: string[], label: string) => () => ({ receive: (m: string) => void log.push(`${label}:${m}`) });

test('messages to one actor are handled in the order they were told', () => {
  const { system } = newSystem();
  const log: string[] = [];
  const ref = system.spawn('a', recorder(log, 'a'));
  for (let i = 0; i < 50; i++) assert.equal(ref.tell(String(i)), true);
  assert.deepEqual(log, Array.from({ length: 50 }, (_, i) => `a:${i}`));
});

test('a tell from inside a handler is queued and handled after the current handler returns', () => {
  const { system } = newSystem();
  const log: string[] = [];
  const self: { ref?: ActorRef<string> } = {};
  self.ref = system.spawn('a', () => ({
    receive(m: string) {
      log.push(`begin ${m}`);
      if (m === 'first') {
        self.ref!.tell('second');
        self.ref!.tell('third');
      }
      log.push(`end ${m}`);
    },
  }));
  self.ref.tell('first');
  assert.deepEqual(log, ['begin first', 'end first', 'begin second', 'end second', 'begin third', 'end third']);
});

test('actors with queued mail take turns, one message each, in a fixed order', () => {
  const { system } = newSystem();
  const log: string[] = [];
  const a = system.spawn('a', recorder(log, 'a'));
  const b = system.spawn('b', recorder(log, 'b'));
  const kick = system.spawn('kick', () => ({
    receive() {
      for (const m of ['1', '2', '3']) a.tell(m);
      for (const m of ['1', '2', '3']) b.tell(m);
    },
  }));
  kick.tell('go');
  assert.deepEqual(log, ['a:1', 'b:1', 'a:2', 'b:2', 'a:3', 'b:3']);
});

test('an actor that throws is restarted with fresh state, the failure counted, the rest of its mail kept', () => {
  const { system } = newSystem();
  const seen: number[] = [];
  let built = 0;
  let retired = 0;
  const counter = system.spawn('counter', () => {
    built++;
    let count = 0;
    return {
      receive(m: string) {
        if (m === 'boom') throw new Error('boom');
        seen.push(++count);
      },
      stopped: () => void retired++,
    };
  });
  const driver = system.spawn('driver', () => ({
    receive() {
      for (const m of ['inc', 'inc', 'boom', 'inc']) counter.tell(m);
    },
  }));
  driver.tell('go');
  assert.deepEqual(seen, [1, 2, 1], 'state restarts from the factory; the message after the failure is still handled');
  assert.equal(built, 2);
  assert.equal(retired, 1);
  assert.equal(system.actorStats('counter')!.failures, 1);
  assert.equal(system.stats().failures, 1);
  assert.equal(system.stats().restarts, 1);
  assert.equal(counter.tell('inc'), true, 'the actor is alive after the restart');
});

type Echo = { text: string; reply: Reply<string> };
const echo = () => ({ receive: (m: Echo) => m.reply(m.text.toUpperCase()) });

test('ask delivers the reply to a callback, and as a Promise at the edge', async () => {
  const { system } = newSystem();
  const ref = system.spawn('echo', echo);
  let result: AskResult<string> | undefined;
  system.ask(ref, (reply: Reply<string>) => ({ text: 'hi', reply }), 1000, (r) => (result = r));
  assert.deepEqual(result, { ok: true, value: 'HI' });
  assert.equal(await system.askPromise(ref, (reply: Reply<string>) => ({ text: 'yo', reply }), 1000), 'YO');
});

test('ask times out through the injected timers; a late reply is ignored and counted', () => {
  const { system, timers } = newSystem();
  const held: Reply<string>[] = [];
  const slow = system.spawn('slow', () => ({ receive: (m: Echo) => void held.push(m.reply) }));
  const results: AskResult<string>[] = [];
  system.ask(slow, (reply: Reply<string>) => ({ text: 'x', reply }), 500, (r) => results.push(r));
  timers.advance(499);
  assert.equal(results.length, 0);
  timers.advance(1);
  assert.equal(results.length, 1);
  assert.ok(!results[0]!.ok && results[0]!.error instanceof AskTimeoutError);
  assert.equal(system.stats().askTimeouts, 1);
  held[0]!('too late');
  assert.equal(results.length, 1);
  assert.equal(system.stats().lateReplies, 1);
});

test('a reply cancels the ask timer', () => {
  const { system, timers } = newSystem();
  const ref = system.spawn('echo', echo);
  system.ask(ref, (reply: Reply<string>) => ({ text: 'a', reply }), 500, () => {});
  assert.equal(timers.size, 0);
});

test('an ask whose message makes the actor throw fails at once with ActorFailedError', () => {
  const { system, timers } = newSystem();
  const ref = system.spawn('bad', () => ({
    receive() {
      throw new TypeError('bug');
    },
  }));
  let result: AskResult<string> | undefined;
  system.ask(ref, (reply: Reply<string>) => ({ text: 'x', reply }), 500, (r) => (result = r));
  assert.ok(result && !result.ok && result.error instanceof ActorFailedError);
  assert.ok(result.error.cause instanceof TypeError);
  assert.equal(timers.size, 0);
});

test('a full mailbox refuses messages (tell returns false, tellOrThrow throws) and counts them', () => {
  const { system } = newSystem();
  const log: string[] = [];
  const consumer = system.spawn('consumer', recorder(log, 'c'), { mailboxCapacity: 2 });
  const accepted: boolean[] = [];
  let thrown: unknown;
  let asked: AskResult<string> | undefined;
  const producer = system.spawn('producer', () => ({
    receive() {
      for (let i = 0; i < 4; i++) accepted.push(consumer.tell(String(i)));
      try {
        consumer.tellOrThrow('x');
      } catch (err) {
        thrown = err;
      }
      system.ask(consumer as ActorRef<unknown>, () => 'q', 100, (r: AskResult<string>) => (asked = r));
    },
  }));
  producer.tell('go');
  assert.deepEqual(accepted, [true, true, false, false]);
  assert.ok(thrown instanceof MailboxFullError && thrown.capacity === 2);
  assert.ok(asked && !asked.ok && asked.error instanceof MailboxFullError);
  assert.deepEqual(log, ['c:0', 'c:1']);
  const stats = system.actorStats('consumer')!;
  assert.equal(stats.rejected, 4);
  assert.equal(stats.mailboxHighWater, 2);
  assert.equal(system.stats().rejected, 4);
});

test('a callback of an ask made by an actor runs as a turn of that actor, not inside the responder', () => {
  const { system } = newSystem();
  const log: string[] = [];
  const responder = system.spawn('echo', echo);
  const asker = system.spawn('asker', (ctx) => {
    let busy = false;
    return {
      receive(m: string) {
        busy = true;
        ctx.ask(responder, (reply: Reply<string>) => ({ text: m, reply }), 100, (r) => {
          log.push(`reply ${r.ok ? r.value : 'error'} while busy=${busy}`);
        });
        log.push(`asked ${m}`);
        busy = false;
      },
    };
  });
  asker.tell('ping');
  assert.deepEqual(log, ['asked ping', 'reply PING while busy=false']);
});

test('stopping an actor turns its queued and future messages into dead letters', () => {
  const { system } = newSystem();
  const log: string[] = [];
  const target = system.spawn('target', recorder(log, 't'));
  let queuedAsk: AskResult<string> | undefined;
  const driver = system.spawn('driver', () => ({
    receive() {
      target.tell('queued');
      system.ask(target as ActorRef<unknown>, () => 'q', 100, (r: AskResult<string>) => (queuedAsk = r));
      system.stop(target);
    },
  }));
  driver.tell('go');
  assert.deepEqual(log, []);
  assert.ok(queuedAsk && !queuedAsk.ok && queuedAsk.error instanceof ActorStoppedError);
  assert.equal(target.tell('later'), false);
  assert.throws(() => target.tellOrThrow('later'), ActorNotFoundError);
  let late: AskResult<string> | undefined;
  system.ask(target as ActorRef<unknown>, () => 'q', 100, (r: AskResult<string>) => (late = r));
  assert.ok(late && !late.ok && late.error instanceof ActorNotFoundError);
  assert.equal(system.stats().deadLetters, 5); // 2 queued at stop, 2 tells after, 1 ask after
  // The name is free again; the old ref stays dead.
  const again = system.spawn('target', recorder(log, 't2'));
  assert.equal(target.tell('old ref'), false);
  again.tell('new ref');
  assert.deepEqual(log, ['t2:new ref']);
});

test('spawning a taken name throws DuplicateActorError', () => {
  const { system } = newSystem();
  system.spawn('a', recorder([], 'a'));
  assert.throws(() => system.spawn('a', recorder([], 'a')), DuplicateActorError);
});

test('a message storm yields after MAX_MESSAGES_PER_DRAIN and resumes from a timer', () => {
  const { system, timers } = newSystem();
  const refs: ActorRef<number>[] = [];
  for (const name of ['ping', 'pong']) {
    refs.push(system.spawn(name, () => ({ receive: (n: number) => void refs[name === 'ping' ? 1 : 0]!.tell(n + 1) })));
  }
  refs[0]!.tell(0); // would ping-pong forever without the budget
  assert.equal(system.stats().processed, MAX_MESSAGES_PER_DRAIN);
  assert.equal(timers.size, 1);
  timers.fireNext();
  assert.equal(system.stats().processed, 2 * MAX_MESSAGES_PER_DRAIN);
  assert.equal(timers.size, 1);
  system.shutdown();
  assert.equal(timers.size, 0);
});

test('shutdown fails outstanding asks and stops every actor', () => {
  const { system, timers } = newSystem();
  const slow = system.spawn('slow', () => ({ receive() {} }));
  let result: AskResult<string> | undefined;
  system.ask(slow as ActorRef<unknown>, () => 'q', 1000, (r: AskResult<string>) => (result = r));
  system.shutdown();
  assert.ok(result && !result.ok && result.error instanceof ActorStoppedError);
  assert.equal(system.stats().actors, 0);
  assert.equal(timers.size, 0);
});

test('mail an actor sends itself from its factory waits until the actor is built', () => {
  const { system } = newSystem();
  const log: string[] = [];
  const ref = system.spawn<string>('self-starter', (ctx) => {
    ctx.self.tell('hello');
    return { receive: (m: string) => void log.push(m) };
  });
  assert.deepEqual(log, ['hello']);
  assert.equal(system.actorStats('self-starter')?.failures, 0);
  assert.equal(system.stats().restarts, 0);
  assert.equal(ref.tell('again'), true);
  assert.deepEqual(log, ['hello', 'again']);
});

test('a factory that throws at spawn leaves no actor, and the name stays free', () => {
  const { system } = newSystem();
  assert.throws(
    () =>
      system.spawn<string>('broken', (ctx) => {
        ctx.self.tell('lost');
        throw new Error('cannot build');
      }),
    /cannot build/,
  );
  assert.equal(system.lookup('broken'), undefined);
  assert.equal(system.stats().failures, 0);
  system.spawn('broken', recorder([], 'b'));
  assert.ok(system.lookup('broken'));
});

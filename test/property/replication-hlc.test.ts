import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Clock } from '../../src/runtime/env.ts';
import { compareVersions, HybridLogicalClock, type Version } from '../../src/replication/hlc.ts';
import { decodeRecord, encodeRecord, keyToStoreKey, storeKeyToKey } from '../../src/replication/record.ts';

class SteppingClock implements Clock {
  wall = 1_700_000_000_000;
  wallMs(): number {
    return this.wall;
  }
  monoMs(): number {
    return 0;
  }
}

const step = fc.oneof(
  fc.record({ kind: fc.constant('wall' as const), deltaMs: fc.integer({ min: -5_000, max: 5_000 }) }),
  fc.record({ kind: fc.constant('now' as const) }),
  fc.record({ kind: fc.constant('observe' as const), offsetMs: fc.integer({ min: -10_000, max: 10_000 }), logical: fc.integer({ min: 0, max: 5 }) }),
);

test('HLC versions strictly increase on one node, even when its wall clock steps back', () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
      const clock = new SteppingClock();
      const hlc = new HybridLogicalClock(clock, 7);
      let last: Version | null = null;
      for (const s of steps) {
        if (s.kind === 'wall') clock.wall += s.deltaMs;
        else if (s.kind === 'observe') hlc.observe({ wallMs: clock.wall + s.offsetMs, logical: s.logical, node: 9 });
        else {
          const v = hlc.now();
          if (last) assert.ok(compareVersions(v, last) > 0, `version went from ${JSON.stringify(last)} to ${JSON.stringify(v)}`);
          last = v;
        }
      }
    }),
  );
});

test('HLC orders a receive after the send that caused it, whatever the two clocks say', () => {
  fc.assert(
    fc.property(fc.integer({ min: -60_000, max: 60_000 }), fc.integer({ min: 0, max: 20 }), (skewMs, sends) => {
      const a = new SteppingClock();
      const b = new SteppingClock();
      b.wall += skewMs;
      const sender = new HybridLogicalClock(a, 1);
      const receiver = new HybridLogicalClock(b, 2);
      let sent = sender.now();
      for (let i = 0; i < sends; i++) sent = sender.now();
      receiver.observe(sent);
      assert.ok(compareVersions(receiver.now(), sent) > 0);
    }),
  );
});

test('records survive encode/decode, and store keys round-trip any bytes', () => {
  fc.assert(
    fc.property(
      fc.record({
        wallMs: fc.integer({ min: 0, max: 2 ** 52 }),
        logical: fc.integer({ min: 0, max: 0xffff_ffff }),
        node: fc.integer({ min: 0, max: 0xffff_ffff }),
      }),
      fc.option(fc.uint8Array({ maxLength: 64 })),
      fc.integer({ min: 0, max: 2 ** 50 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom(undefined, 'in-place' as const, 'float' as const),
      (version, value, expiresAtMs, key, writtenAs) => {
        const record = { version: { ...version }, tombstone: value === null, value: value ?? new Uint8Array(0), expiresAtMs, writtenAs };
        const back = decodeRecord(encodeRecord(record));
        assert.deepEqual({ ...back, value: [...back.value] }, { ...record, value: [...record.value] });
        assert.deepEqual([...storeKeyToKey(keyToStoreKey(key))], [...key]);
      },
    ),
  );
});

/**
 * MEMORY DOCTOR's report about the node's store against its budget: Redis's texts for an empty
 * instance and for no issue, and one issue line for each way the store is short of memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDoctorReport, type StoreMemory } from '../../src/resp/memory-command.ts';

const MiB = 1048576;
const healthy: StoreMemory = { entries: 10, bytes: 2 * MiB, maxMemory: 64 * MiB, evicted: 0, refusedOverBudget: 0, refusedTooLarge: 0 };

test('an empty store gets Redis\'s "empty instance" text; a healthy one its "no issue" text with the figures', () => {
  assert.match(memoryDoctorReport({ ...healthy, entries: 0, bytes: 0 }), /^Hi Sam, this instance is empty or is using very little memory.* as soon as I finished rebooting\.\n$/);
  assert.equal(
    memoryDoctorReport(healthy),
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base. (This node's store: 2.00M of its 64.00M budget (maxmemory) in use, 10 records.)\n",
  );
  // Evictions long ago, from a store that is not full now, are no issue.
  assert.match(memoryDoctorReport({ ...healthy, evicted: 5 }), /^Hi Sam, I can't find any memory issue/);
});

test('a full store that evicts, writes refused under noeviction and values over the budget are each an issue', () => {
  const report = memoryDoctorReport({ ...healthy, bytes: 60 * MiB, evicted: 1234, refusedOverBudget: 7, refusedTooLarge: 2 });
  assert.match(report, /^Sam, I detected a few issues in this Redis instance memory implants:\n\n/);
  assert.match(report, / \* Evictions: this node's store has evicted 1234 records for memory since it started, and it is full \(60\.00M of its 64\.00M budget/);
  assert.match(report, / \* Refused writes: 7 writes were refused \(OOM\)/);
  assert.match(report, / \* Values larger than the budget: 2 writes were refused/);
  assert.match(report, /\n\nI'm here to keep you safe, Sam. I want to help you.\n$/);
});

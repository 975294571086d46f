/**
 * In-process A/B of a first fill: the time to set N new keys (16 bytes, 100-byte values) into an
 * empty store, this checkout's against another's, alternating, a fresh store per round. What a
 * store pays while it grows its tables (SLOT_GROWTH in store.ts), which bench/store/ab.ts, filling
 * before it times, does not see.
 *
 *   node --import tsx bench/store/fill-ab.ts /path/to/other/checkout/src/store/store.ts [--entries N] [--rounds N]
 *
 * The other checkout must be a git worktree of this repository (see ab.ts).
 */
import type { Store } from '../../src/store/store.ts';
import { Store as ThisStore } from '../../src/store/store.ts';
import { benchCommandLine, positive } from '../help.ts';
import { benchKey, VALUE_LENGTH } from './memory.ts';

const { flags, positionals } = benchCommandLine(
  'node --import tsx bench/store/fill-ab.ts',
  {
    entries: { kind: 'integer', value: 'N', description: 'keys set into each empty store', default: 1_000_000, check: positive },
    rounds: { kind: 'integer', value: 'N', description: 'fills per side', default: 9, check: positive },
  },
  [{ name: 'OTHER_CHECKOUT/src/store/store.ts', description: "the store of the checkout to compare with (a git worktree of this repository)" }],
);
const basePath = positionals[0]!;
const { Store: BaseStore } = (await import(basePath)) as { Store: typeof Store };
const ENTRIES = Number(flags.entries);
const ROUNDS = Number(flags.rounds);
const clock = { wallMs: () => 0, monoMs: () => 0 };
const keys = Array.from({ length: ENTRIES }, (_, i) => benchKey(i));
const value = new Uint8Array(VALUE_LENGTH).fill(3);

/** ns per insert of one fill of an empty store (the budget holds every entry, as memory.ts's). */
function fill(S: typeof Store): number {
  const store = new S({ maxMemory: 4 * 1024 ** 3, clock });
  const start = process.hrtime.bigint();
  for (let i = 0; i < ENTRIES; i++) store.set(keys[i]!, value, { partition: i & 1023 });
  return Number(process.hrtime.bigint() - start) / ENTRIES;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

fill(BaseStore);
fill(ThisStore);
const base: number[] = [];
const mine: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which side fills first, so neither always follows the other's garbage.
  const sides = round % 2 === 0 ? [BaseStore, ThisStore] : [ThisStore, BaseStore];
  for (const S of sides) (S === BaseStore ? base : mine).push(fill(S));
}
const paired = mine.map((t, i) => t / base[i]!);
console.log(
  `fill of ${ENTRIES} new keys, ${ROUNDS} rounds per side; base = ${basePath}: base ${median(base).toFixed(0)} ns/insert, this ${median(mine).toFixed(0)}, ` +
    `this/base ${median(paired).toFixed(3)} (this faster in ${paired.filter((p) => p < 1).length}/${ROUNDS})`,
);

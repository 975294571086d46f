/**
 * scratch/fork35/pin.ts: policy26's slow pin, rebuilt (the tag scratch-policy26 was not in the
 * repository), plus undo variants. The real cache is main's W-TinyLFU (scratch/fork35/policy.ts, a copy
 * with a pin and LIRS's rule) replayed as src/store/trace/policy-sim.ts replays it; beside it, on the
 * keys whose hash is 0 mod R = floor(C / S), twelve shadows of round(C / R) entries (windows
 * 1/5/20/50/80/99%, with and without the rule, own sketches) keep a paired count against the real
 * cache (sampled requests only the shadow hit, only the real cache hit). Every 3 x S sampled
 * requests is a check; from check `--warm` on, the shadow with the most hits so far is pinned once it
 * leads the real cache by `--z` sd on the cumulative paired count.
 *
 *   node --import tsx scratch/fork35/pin.ts --trace P6 --sizes 100000,150000 | --fresh [--off] [--seed 1]
 *     [--shadow 4096] [--warm 10] [--z 3]
 *     [--undo follow|fork|fork,follow] [--decay 0.8] [--fork-decay 0.8] [--undo-z 3] [--undo-run 1]
 *     [--undo-vs real|shadow] [--repin] [--free] [--shared-sketch] [--follow-when any|norule|rule-off]
 * `--expected N`: the real policy's expected entries (its sketch's start and its tuner's sampling), default C;
 * `--tuner-expected N`: its tuner's alone.
 * Each line ends with [shadow accesses per request, shadows alive at the end].
 * `--fresh`: the trace's freshSizes (bench/hitratio/reference.ts) instead of --sizes.
 */
import { loadTrace } from '../../src/cli/bench.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { CountMinSketch } from '../../src/store/count-min.ts';
import type { PolicyHost } from '../../src/store/policy.ts';
import { keyHashes } from '../../src/store/trace/policy-sim.ts';
import { BENCH_TRACES, tracePath } from '../../bench/hitratio/reference.ts';
import { P27Policy } from './policy.ts';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const traceName = flag('trace') ?? 'P6';
const off = process.argv.includes('--off') || flag('static') !== undefined;
const seed = Number(flag('seed') ?? 1);
const S = Number(flag('shadow') ?? 4096);
const warm = Number(flag('warm') ?? 10);
const Z = Number(flag('z') ?? 3);
const undo = flag('undo');
const decay = Number(flag('decay') ?? 0.8);
/** The forked followers' decay per check (default: --decay). */
const forkDecay = Number(flag('fork-decay') ?? decay);
const undoZ = Number(flag('undo-z') ?? 3);
const undoVs = flag('undo-vs') ?? 'real';
const repin = process.argv.includes('--repin');
/** Checks running at which the follower's decayed lead must be significant before the undo. */
const undoRun = Number(flag('undo-run') ?? 1);
const verbose = process.argv.includes('--verbose');
/** A static configuration for the real cache (no shadows): --static 0.01 [--static-rule]. */
const staticFraction = flag('static');
const staticRule = process.argv.includes('--static-rule');
/** Print hits per 1/N of the trace (a diagnostic). */
const chunks = Number(flag('chunks') ?? 0);
/** A diagnostic: the pin applies the chosen shadow's window but never the rule. */
const pinWindowOnly = process.argv.includes('--pin-window-only');
const free = process.argv.includes('--free');
const sharedSketch = process.argv.includes('--shared-sketch');
const followWhen = flag('follow-when') ?? 'any';
if (!['any', 'norule', 'rule-off'].includes(followWhen)) throw new Error(`--follow-when any|norule|rule-off, got ${followWhen}`);
/** A diagnostic: the real policy's expectedEntries (default C), e.g. 65536, what a node's memory-budgeted store gives its tuner. */
const expected = flag('expected');
/** A diagnostic: the real policy's tuner's expected entries alone (its sketch keeps C). */
const tunerExpected = flag('tuner-expected');
const FRACTIONS = [0.01, 0.05, 0.2, 0.5, 0.8, 0.99];

/** An entry-counted cache keyed by hash, for shadows. */
class Shadow implements PolicyHost {
  readonly index = new Map<number, number>();
  readonly hashes: Uint32Array;
  readonly free: number[] = [];
  next = 0;
  count = 0;
  readonly policy: P27Policy;
  hits = 0;
  lastHit = false;
  /** Paired counts against the real cache: only this one hit (b), only the real one (c). */
  b = 0;
  c = 0;
  constructor(
    readonly fraction: number,
    readonly rule: boolean,
    readonly capacity: number,
    random: SeededRandom,
    sketch: CountMinSketch | undefined,
  ) {
    this.hashes = new Uint32Array(capacity + 2);
    this.policy = new P27Policy(this, capacity + 2, {
      random,
      expectedEntries: capacity,
      windowFraction: fraction,
      adaptation: 'static',
      ...(sketch === undefined ? {} : { sharedSketch: sketch }),
    });
    this.policy.rule = rule;
    this.policy.setMaximum(capacity);
  }
  hashOf(slot: number): number {
    return this.hashes[slot]!;
  }
  weightOf(): number {
    return 1;
  }
  overBudget(): boolean {
    return this.count > this.capacity;
  }
  evictForSize(slot: number): void {
    this.policy.onRemove(slot);
    this.index.delete(this.hashes[slot]!);
    this.free.push(slot);
    this.count--;
  }
  access(hash: number): boolean {
    const slot = this.index.get(hash);
    this.lastHit = slot !== undefined;
    if (slot !== undefined) {
      this.hits++;
      this.policy.onAccess(slot);
      return true;
    }
    this.policy.onMiss();
    const fresh = this.free.length > 0 ? this.free.pop()! : this.next++;
    this.hashes[fresh] = hash;
    this.index.set(hash, fresh);
    this.count++;
    this.policy.onInsert(fresh);
    if (this.count > this.capacity) this.policy.evict();
    return false;
  }
  name(): string {
    return `${Math.round(this.fraction * 100)}%${this.rule ? ' +R' : ''}`;
  }
}

class RealHost implements PolicyHost {
  readonly slotOf: Int32Array;
  readonly idOf: Int32Array;
  readonly free: number[] = [];
  next = 0;
  entries = 0;
  policy!: P27Policy;
  constructor(
    private readonly hashes: Uint32Array,
    private readonly maximum: number,
  ) {
    this.slotOf = new Int32Array(hashes.length).fill(-1);
    this.idOf = new Int32Array(maximum + 2);
  }
  hashOf(slot: number): number {
    return this.hashes[this.idOf[slot]!]!;
  }
  weightOf(): number {
    return 1;
  }
  overBudget(): boolean {
    return this.entries > this.maximum;
  }
  evictForSize(slot: number): void {
    this.policy.onRemove(slot);
    this.slotOf[this.idOf[slot]!] = -1;
    this.free.push(slot);
    this.entries--;
  }
}

const significant = (b: number, c: number, z: number): boolean => b - c > z * Math.sqrt(b + c);

function run(ids: Int32Array, hashes: Uint32Array, C: number): { ratio: number; log: string[] } {
  const host = new RealHost(hashes, C);
  const real = new P27Policy(host, C + 2, { random: SeededRandom.mulberry32(seed), expectedEntries: expected === undefined ? C : Number(expected),
    ...(tunerExpected === undefined ? {} : { tunerExpectedEntries: Number(tunerExpected) }),
  });
  host.policy = real;
  real.setMaximum(C);
  if (staticFraction !== undefined) {
    real.tunerRuns = false;
    real.pin(Number(staticFraction), staticRule);
  }
  const R = Math.max(1, Math.floor(C / S));
  const cap = Math.round(C / R);
  const shadowRandom = SeededRandom.mulberry32(seed + 7919);
  // One sketch for every shadow: they all see the same sampled requests, so its counts are the ones each own sketch would hold.
  const sketch = sharedSketch && !off ? new CountMinSketch({ expectedEntries: cap }) : undefined;
  let shadows: Shadow[] = [];
  if (!off) for (const f of FRACTIONS) for (const rule of [false, true]) shadows.push(new Shadow(f, rule, cap, shadowRandom, sketch));
  // The undo's follower: a shadow whose window is the tuner's recommendation, no rule.
  let follower = undo?.split(',').includes('follow') && !off ? new Shadow(0.01, false, cap, shadowRandom, sketch) : undefined;
  let fb = 0;
  let fc = 0;
  let streak = 0;
  // `--undo fork`: two followers of the tuner until the pin; then one takes the pinned configuration,
  // the other the pinned window without the rule, so both pay the switch as the real cache does.
  // Their own random stream, so that adding them leaves the twelve shadows' draws (and the pin) as they were.
  const forkRandom = SeededRandom.mulberry32(seed + 104729);
  let forked = undo?.split(',').includes('fork') && !off ? [new Shadow(0.01, false, cap, forkRandom, sketch), new Shadow(0.01, false, cap, forkRandom, sketch)] : undefined;
  let forkStreak = 0;
  let kb = 0;
  let kc = 0;
  let pinnedTo: Shadow | undefined;
  /** Whether the follower may undo the pin in force (`atPin`: asked as the pin is made, before the fork could act). */
  const mayUndo = (atPin: boolean): boolean =>
    followWhen === 'any' || !pinnedTo!.rule || (followWhen === 'rule-off' && (atPin ? forked !== undefined : !real.rule));
  const period = 3 * S;
  let sampled = 0;
  let checks = 0;
  let checksSinceReset = 0;
  const log: string[] = [];
  let hits = 0;
  let done = false;
  let shadowAccesses = 0;
  const perChunk = chunks > 0 ? new Array<number>(chunks).fill(0) : undefined;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const slot = host.slotOf[id]!;
    let hit = false;
    if (slot !== -1) {
      hits++;
      hit = true;
      if (perChunk) perChunk[Math.floor((i * chunks) / ids.length)]!++;
      real.onAccess(slot);
    } else {
      real.onMiss();
      const fresh = host.free.length > 0 ? host.free.pop()! : host.next++;
      host.idOf[fresh] = id;
      host.slotOf[id] = fresh;
      host.entries++;
      real.onInsert(fresh);
      if (host.entries > C) real.evict();
    }
    if (off || done) continue;
    const hash = hashes[id]!;
    if (R > 1 && hash % R !== 0) continue;
    sketch?.increment(hash);
    shadowAccesses += shadows.length + (follower ? 1 : 0) + (forked ? 2 : 0);
    for (const s of shadows) {
      const h = s.access(hash);
      if (h && !hit) s.b++;
      else if (!h && hit) s.c++;
    }
    if (follower) {
      const want = real.tunerFraction;
      if (Math.abs(follower.policy.windowShare - want) > 1e-9) follower.policy.pin(want, false);
      const h = follower.access(hash);
      if (pinnedTo) {
        const pinnedHit = undoVs === 'shadow' ? pinnedTo.lastHit : hit;
        if (h && !pinnedHit) fb++;
        else if (!h && pinnedHit) fc++;
      }
    }
    if (forked) {
      const [withRule, without] = forked as [Shadow, Shadow];
      if (!pinnedTo) {
        const want = real.tunerFraction;
        for (const f of forked) if (Math.abs(f.policy.windowShare - want) > 1e-9) f.policy.pin(want, false);
      }
      const a = withRule.access(hash);
      const b = without.access(hash);
      if (pinnedTo && real.rule) {
        if (b && !a) kb++;
        else if (a && !b) kc++;
      }
    }
    if (++sampled % period !== 0) continue;
    checks++;
    checksSinceReset++;
    if (pinnedTo === undefined) {
      if (checksSinceReset < warm) continue;
      let best = shadows[0]!;
      for (const s of shadows) if (s.hits > best.hits) best = s;
      if (verbose) log.push(`check ${checks} at ${(i / 1e6).toFixed(2)}M: best ${best.name()} b ${best.b} c ${best.c}`);
      if (!significant(best.b, best.c, Z)) continue;
      pinnedTo = best;
      real.tunerRuns = follower !== undefined;
      const from = real.windowShare;
      real.pin(best.fraction, best.rule && !pinWindowOnly);
      if (forked) {
        forked[0]!.policy.pin(best.fraction, best.rule);
        forked[1]!.policy.pin(best.fraction, false);
      }
      fb = 0;
      fc = 0;
      log.push(`pin ${best.name()} at ${(i / 1e6).toFixed(2)}M (check ${checks}; window was ${from.toFixed(2)})`);
      if (free && !repin) {
        // No repin: the twelve decide nothing more; the fork pair nothing without the rule; the follower nothing it may not undo.
        shadows = [];
        if (!real.rule) forked = undefined;
        if (!mayUndo(true)) follower = undefined;
      }
      continue;
    }
    if (forked && real.rule) {
      forkStreak = significant(kb, kc, undoZ) ? forkStreak + 1 : 0;
      if (verbose) log.push(`check ${checks} at ${(i / 1e6).toFixed(2)}M: no-rule fork b ${kb.toFixed(0)} c ${kc.toFixed(0)} streak ${forkStreak}`);
      if (forkStreak >= undoRun) {
        log.push(`rule off at ${(i / 1e6).toFixed(2)}M (check ${checks}; no-rule fork b ${kb.toFixed(0)} c ${kc.toFixed(0)})`);
        real.rule = false;
        if (free) forked = undefined;
      }
      kb *= forkDecay;
      kc *= forkDecay;
    }
    if (follower) {
      streak = mayUndo(false) && significant(fb, fc, undoZ) ? streak + 1 : 0;
      if (verbose) log.push(`check ${checks} at ${(i / 1e6).toFixed(2)}M: follower ${real.tunerFraction} b ${fb.toFixed(0)} c ${fc.toFixed(0)} streak ${streak}`);
      if (streak >= undoRun) {
        streak = 0;
        log.push(`undo ${pinnedTo.name()} at ${(i / 1e6).toFixed(2)}M (check ${checks}; follower ${real.tunerFraction} b ${fb.toFixed(0)} c ${fc.toFixed(0)})`);
        real.unpin();
        pinnedTo = undefined;
        if (!repin) {
          done = true;
          continue;
        }
        for (const s of shadows) {
          s.b = 0;
          s.c = 0;
          s.hits = 0;
        }
        checksSinceReset = 0;
        continue;
      }
      fb *= decay;
      fc *= decay;
    }
  }
  if (perChunk) log.push(`chunks ${perChunk.join(' ')}`);
  const alive = done ? 0 : shadows.length + (follower ? 1 : 0) + (forked ? 2 : 0);
  log.push(`[${(shadowAccesses / ids.length).toFixed(3)} shadow accesses/request; ${alive} shadows at the end]`);
  return { ratio: (100 * hits) / ids.length, log };
}

const t = BENCH_TRACES.find((x) => x.trace === traceName)!;
const sizes = process.argv.includes('--fresh') ? t.freshSizes : (flag('sizes') ?? '100000').split(',').map(Number);
const trace = loadTrace(tracePath(t), t.format);
const hashes = keyHashes(trace.uniqueKeys);
for (const C of sizes) {
  const started = performance.now();
  const { ratio, log } = run(trace.ids, hashes, C);
  process.stdout.write(`${traceName} @ ${C}: ${ratio.toFixed(2)}  (${((performance.now() - started) / 1000).toFixed(0)} s)${log.length ? '  ' + log.join('; ') : ''}\n`);
}

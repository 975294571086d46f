/**
 * The read-modify-write checker of the kv-rmw scenario: from what clients were told and the
 * values the replicas converged to, counts
 *
 * - lost increments: INCRBY 1 acknowledged but absent from the final counter (the final value is
 *   below the number acknowledged), and acknowledged INCRs that returned the same new value (two
 *   operations read the same value: one of them overwrote the other);
 * - duplicated increments: the final counter above the number of INCRs ever issued;
 * - lost and duplicated APPENDs: every token is unique, so the final string says exactly which
 *   acknowledged tokens are missing and which appear twice;
 * - SETNX double winners: two operations (distinct request ids) both answered 1 on one key, or a
 *   single winner whose value is not the key's final value.
 *
 * Each problem starts with its class (`lost-increments: ctr2: ...`): the violation's kind, which a
 * shrunk run must keep (src/sim/shrink.ts `violationKind`).
 *
 * Given a `LossJudge` (kv-rmw-crash-pressure: crashes and evictions together, so an acknowledged
 * update may legitimately leave every memory), a loss counts only where the judge says the update
 * was still in some node's memory, and was written over (see rmw-memory.ts); the others are counted
 * as `lossesExcused`. The rules then, each about one acknowledged operation:
 *
 * - an INCR answered r is lost if the final counter is below r, or if another acknowledged INCR
 *   answered r too, or answered r or less having started after it was acknowledged (it read a
 *   counter without it), unless the counter held r or more nowhere by a drop in between;
 * - an APPEND's token missing from the final string, unless it left every memory by a drop;
 * - a SETNX winner followed by another winner, unless its value left every memory by a drop in
 *   between (the key then was absent, as after any eviction), and one that is not the final value
 *   unless it left every memory by a drop.
 *
 * Duplicates are judged as before: no loss makes a token appear twice or a counter exceed the
 * INCRs ever issued.
 */

/** When an operation was issued, and answered (null: never). */
export interface OpTimes {
  startMs: number;
  endMs: number | null;
}

export interface IncrRecord extends OpTimes {
  key: string;
  outcome: 'acked' | 'failed' | 'unknown';
  /** The new value the primary answered (acked only). */
  result: bigint | null;
}

export interface AppendRecord extends OpTimes {
  key: string;
  token: string;
  outcome: 'acked' | 'failed' | 'unknown';
}

export interface SetNxRecord extends OpTimes {
  key: string;
  value: string;
  outcome: 'acked' | 'failed' | 'unknown';
  /** 1 (won) or 0, when acked. */
  won: boolean | null;
}

export interface RmwFigures {
  incrAcked: number;
  incrIssued: number;
  lostIncrements: number;
  duplicatedIncrements: number;
  appendAcked: number;
  lostAppends: number;
  duplicatedAppends: number;
  setNxContests: number;
  setNxDoubleWinners: number;
  /** Losses the judge found legitimate (the update left every memory by a drop); only with a judge. */
  lossesExcused?: number;
}

/**
 * For an update of `key` present in the values for which `holds` is true: whether it left every
 * memory by a drop (not by being written over) from `fromMs` (its acknowledgement) to `toMs`
 * (RmwMemoryRecord.judge). `endMs`: the run's end, for losses found in the final values.
 */
export interface LossJudge {
  judge(key: string, holds: (value: string) => boolean): (fromMs: number, toMs: number) => boolean;
  endMs: number;
}

/** Tokens inside an APPEND string: each append adds `|token`. */
export function appendTokens(value: string): string[] {
  return value.split('|').filter((t) => t.length > 0);
}

export function checkRmwHistory(
  incrs: readonly IncrRecord[],
  appends: readonly AppendRecord[],
  setNxs: readonly SetNxRecord[],
  finalValue: (key: string) => string | null,
  judge?: LossJudge,
): { figures: RmwFigures; problems: string[] } {
  const problems: string[] = [];
  const figures: RmwFigures = {
    incrAcked: 0,
    incrIssued: incrs.length,
    lostIncrements: 0,
    duplicatedIncrements: 0,
    appendAcked: 0,
    lostAppends: 0,
    duplicatedAppends: 0,
    setNxContests: 0,
    setNxDoubleWinners: 0,
    ...(judge ? { lossesExcused: 0 } : {}),
  };
  const excuse = () => figures.lossesExcused!++;

  for (const key of new Set(incrs.map((i) => i.key))) {
    const mine = incrs.filter((i) => i.key === key);
    const acked = mine.filter((i) => i.outcome === 'acked');
    figures.incrAcked += acked.length;
    const final = BigInt(finalValue(key) ?? '0');
    if (judge) {
      const lost = judgedIncrements(key, acked, final, judge, excuse);
      figures.lostIncrements += lost.length;
      problems.push(...lost);
    } else {
      const results = new Set(acked.map((i) => String(i.result)));
      const collisions = acked.length - results.size;
      const below = Math.max(0, acked.length - Number(final));
      const lost = Math.max(collisions, below);
      if (lost > 0) problems.push(`lost-increments: ${key}: ${lost} acknowledged increments lost (final ${final}, ${acked.length} acknowledged, ${collisions} answered a value another had)`);
      figures.lostIncrements += lost;
    }
    const duplicated = Math.max(0, Number(final) - mine.length);
    if (duplicated > 0) problems.push(`duplicated-increments: ${key}: final ${final} is above the ${mine.length} increments ever issued`);
    figures.duplicatedIncrements += duplicated;
  }

  for (const key of new Set(appends.map((a) => a.key))) {
    const tokens = appendTokens(finalValue(key) ?? '');
    const count = new Map<string, number>();
    for (const t of tokens) count.set(t, (count.get(t) ?? 0) + 1);
    for (const [token, n] of count) {
      if (n > 1) {
        figures.duplicatedAppends += n - 1;
        problems.push(`duplicated-appends: ${key}: token ${token} appended ${n} times`);
      }
    }
    for (const a of appends) {
      if (a.key !== key || a.outcome !== 'acked') continue;
      figures.appendAcked++;
      if (count.has(a.token)) continue;
      if (judge && judge.judge(key, (v) => `${v}|`.includes(`|${a.token}|`))(a.endMs!, judge.endMs)) {
        excuse();
        continue;
      }
      figures.lostAppends++;
      problems.push(`lost-appends: ${key}: acknowledged token ${a.token} is missing${judge ? ` (acknowledged at ${at(a.endMs)}, and no eviction or crash took it from every memory)` : ''}`);
    }
  }

  for (const key of new Set(setNxs.map((s) => s.key))) {
    figures.setNxContests++;
    const winners = setNxs.filter((s) => s.key === key && s.outcome === 'acked' && s.won === true);
    const problem = judge ? judgedSetNx(key, winners, finalValue(key), judge, excuse) : setNxProblem(key, winners, finalValue(key));
    if (problem === null) continue;
    figures.setNxDoubleWinners += problem.count;
    problems.push(problem.message);
  }
  return { figures, problems };
}

/** Two SETNX winners of `key`, or one that is not its final value: how many too many, and what happened. */
function setNxProblem(key: string, winners: readonly SetNxRecord[], final: string | null): { count: number; message: string } | null {
  if (winners.length > 1) return { count: winners.length - 1, message: `setnx-double-winners: ${key}: ${winners.length} SETNX winners (${winners.map((w) => w.value).join(', ')})` };
  if (winners.length === 1 && final !== winners[0]!.value) return { count: 1, message: `setnx-double-winners: ${key}: SETNX winner ${winners[0]!.value} was overwritten by ${final}` };
  return null;
}

/**
 * setNxProblem with a judge: in the order they were acknowledged, a winner after another is one
 * too many unless the other's value left every memory by a drop between their acknowledgements
 * (the key was then absent); the last must be the final value unless it left every memory so.
 */
function judgedSetNx(key: string, winners: readonly SetNxRecord[], final: string | null, judge: LossJudge, excuse: () => void): { count: number; message: string } | null {
  const ordered = [...winners].sort((a, b) => a.endMs! - b.endMs!);
  const unexcused: string[] = [];
  const judged = (w: SetNxRecord, toMs: number, what: string) => {
    if (judge.judge(key, (v) => v === w.value)(w.endMs!, toMs)) excuse();
    else unexcused.push(`winner ${w.value} (acknowledged at ${at(w.endMs)}) ${what}, and no eviction or crash had taken it from every memory`);
  };
  for (let i = 1; i < ordered.length; i++) judged(ordered[i - 1]!, ordered[i]!.endMs!, `was followed by winner ${ordered[i]!.value} at ${at(ordered[i]!.endMs)}`);
  const last = ordered[ordered.length - 1];
  if (last !== undefined && final !== last.value) judged(last, judge.endMs, `was overwritten by ${final}`);
  return unexcused.length === 0 ? null : { count: unexcused.length, message: `setnx-double-winners: ${key}: ${unexcused.join('; ')}` };
}

/**
 * kv-rmw-crash-pressure's INCR rule (top of this file): each acknowledged INCR of `key` that the
 * final counter, or a later answer, shows missing while a record of its value or more stayed in
 * memory, as problems; `excuse` counts those that left every memory by a drop.
 */
function judgedIncrements(key: string, acked: readonly IncrRecord[], final: bigint, judge: LossJudge, excuse: () => void): string[] {
  const judges = new Map<bigint, (fromMs: number, toMs: number) => boolean>();
  const leftMemory = (r: bigint, fromMs: number, toMs: number): boolean => {
    let judgeOf = judges.get(r);
    if (judgeOf === undefined) judges.set(r, (judgeOf = judge.judge(key, (v) => /^-?\d+$/.test(v) && BigInt(v) >= r)));
    return judgeOf(fromMs, toMs);
  };
  const ordered = [...acked].sort((a, b) => a.endMs! - b.endMs!);
  const lost: string[] = [];
  for (const [i, a] of ordered.entries()) {
    const r = a.result!;
    const ackMs = a.endMs!;
    // What shows a's increment missing: the final counter below it, or a later answer that did not count it.
    const missedBy: { toMs: number; what: string }[] = [];
    if (final < r) missedBy.push({ toMs: judge.endMs, what: `the final counter is ${final}` });
    for (const b of ordered.slice(i + 1)) {
      if (b.result === r) missedBy.push({ toMs: b.endMs!, what: `another INCR answered ${r} too at ${at(b.endMs)}` });
      else if (b.startMs > ackMs && b.result! < r) missedBy.push({ toMs: b.endMs!, what: `an INCR issued at ${at(b.startMs)} answered ${b.result} at ${at(b.endMs)}` });
    }
    const unexcused = missedBy.find((m) => !leftMemory(r, ackMs, m.toMs));
    if (unexcused !== undefined) lost.push(`lost-increments: ${key}: INCR answered ${r} at ${at(ackMs)}, then ${unexcused.what}, and no eviction or crash had taken every record of ${r} or more from memory`);
    else if (missedBy.length > 0) excuse();
  }
  return lost;
}

/** A virtual time for a problem's message. */
function at(ms: number | null): string {
  return `${(ms ?? 0).toFixed(1)}ms`;
}

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
 */

export interface IncrRecord {
  key: string;
  outcome: 'acked' | 'failed' | 'unknown';
  /** The new value the primary answered (acked only). */
  result: bigint | null;
}

export interface AppendRecord {
  key: string;
  token: string;
  outcome: 'acked' | 'failed' | 'unknown';
}

export interface SetNxRecord {
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
  };

  for (const key of new Set(incrs.map((i) => i.key))) {
    const mine = incrs.filter((i) => i.key === key);
    const acked = mine.filter((i) => i.outcome === 'acked');
    figures.incrAcked += acked.length;
    const final = BigInt(finalValue(key) ?? '0');
    const results = new Set(acked.map((i) => String(i.result)));
    const collisions = acked.length - results.size;
    const below = Math.max(0, acked.length - Number(final));
    const lost = Math.max(collisions, below);
    if (lost > 0) problems.push(`lost-increments: ${key}: ${lost} acknowledged increments lost (final ${final}, ${acked.length} acknowledged, ${collisions} answered a value another had)`);
    figures.lostIncrements += lost;
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
      if (!count.has(a.token)) {
        figures.lostAppends++;
        problems.push(`lost-appends: ${key}: acknowledged token ${a.token} is missing`);
      }
    }
  }

  for (const key of new Set(setNxs.map((s) => s.key))) {
    figures.setNxContests++;
    const winners = setNxs.filter((s) => s.key === key && s.outcome === 'acked' && s.won === true);
    if (winners.length > 1) {
      figures.setNxDoubleWinners += winners.length - 1;
      problems.push(`setnx-double-winners: ${key}: ${winners.length} SETNX winners (${winners.map((w) => w.value).join(', ')})`);
    } else if (winners.length === 1 && finalValue(key) !== winners[0]!.value) {
      figures.setNxDoubleWinners++;
      problems.push(`setnx-double-winners: ${key}: SETNX winner ${winners[0]!.value} was overwritten by ${finalValue(key)}`);
    }
  }
  return { figures, problems };
}

/**
 * The `peer-verdict` story line (docs/OPERATIONS.md, "Logs that tell the story"): this node's
 * coordinator changed its verdict on a peer (src/health/peer-health.ts). At most one line per peer
 * per VERDICT_LOG_INTERVAL_MS (10 s, as the membership lines), the changes held back meanwhile counted in
 * the next line's `suppressed`. Unlike a line that is only held back, a change held back is logged
 * once the interval allows (`flush`, called about once a second), so the log ends on the verdict in
 * force, not on the last one that happened to pass.
 */
import type { PeerVerdict } from '../health/peer-health.ts';
import type { Logger } from '../runtime/env.ts';
import { LogLimiter, suppressedField } from '../runtime/log-limiter.ts';

/** One peer-verdict line per peer per this interval, as the membership lines (gossip's MEMBER_LOG_INTERVAL_MS). */
export const VERDICT_LOG_INTERVAL_MS = 10_000;
/** Peers remembered by the limiter at most (a line about a peer past it waits for an old key to expire). */
const MAX_PEERS = 4_096;

interface PeerLine {
  /** The verdict the log last said, the one in force, and the changes not logged since. */
  logged: PeerVerdict;
  current: PeerVerdict;
  held: number;
}

export class VerdictLog {
  private readonly limiter = new LogLimiter(VERDICT_LOG_INTERVAL_MS, MAX_PEERS);
  private readonly peers = new Map<string, PeerLine>();

  constructor(
    private readonly log: Logger,
    private readonly nowMs: () => number,
  ) {}

  changed(peer: string, verdict: PeerVerdict, previous: PeerVerdict): void {
    const line = this.peers.get(peer) ?? { logged: previous, current: previous, held: 0 };
    this.peers.set(peer, line);
    line.current = verdict;
    if (!this.write(peer, line)) line.held++;
  }

  /** Logs the verdicts held back whose interval has passed, when they still differ from what the log says. */
  flush(): void {
    for (const [peer, line] of this.peers) if (line.current !== line.logged) this.write(peer, line);
  }

  forget(peer: string): void {
    this.peers.delete(peer);
  }

  /**
   * The peer restarted and its verdict was forgotten: says so at once when it was not `healthy`
   * (else the log would end on the dead process's verdict), and starts the peer's lines afresh.
   */
  newProcess(peer: string, previous: PeerVerdict): void {
    this.peers.delete(peer);
    if (previous === 'healthy') return;
    this.log.info({ event: 'peer-verdict', peer, verdict: 'healthy', previous, restarted: true }, `peer ${peer} is healthy (was ${previous}): a new process, its previous verdict forgotten`);
  }

  private write(peer: string, line: PeerLine): boolean {
    if (line.current === line.logged || !this.limiter.allow(peer, this.nowMs())) return false;
    const { current: verdict, logged: previous } = line;
    this.log.info({ event: 'peer-verdict', peer, verdict, previous, ...suppressedField(line.held) }, `peer ${peer} is ${verdict} (was ${previous})`);
    line.logged = verdict;
    line.held = 0;
    return true;
  }
}

/**
 * The simulator's own small protocol, used to prove the simulator before real protocols exist and
 * kept as its cheapest smoke test: every node pings every peer on a timer and peers echo. Every
 * fault kind leaves a visible mark on it (missed echoes, late timers, skewed wall stamps).
 */
import { decode, encode } from '@msgpack/msgpack';
import type { Env, NodeAddress } from '../../runtime/env.ts';

export const HEARTBEAT_INTERVAL_MS = 100;

type Message = { t: 'ping'; nonce: number; seq: number; wall: number } | { t: 'echo'; nonce: number; seq: number };

export class HeartbeatNode {
  /** Identifies this incarnation, so echoes of a previous life's pings are recognised as stale. */
  readonly nonce: number;
  private seq = 0;
  /** Peer -> monotonic ms when we last heard anything from it. */
  readonly lastHeard = new Map<NodeAddress, number>();
  readonly counts = { pingsSent: 0, pingsReceived: 0, echoes: 0, staleEchoes: 0, fabricatedEchoes: 0, malformed: 0, lateTimers: 0 };
  /** Largest |peer's wall stamp - our wall clock| seen, in ms: clock skew made visible. */
  maxSkewSeenMs = 0;
  private nextTickDue: number;

  constructor(
    private readonly env: Env,
    private readonly peers: readonly NodeAddress[],
  ) {
    this.nonce = env.random.int(2 ** 31);
    env.transport.onReceive((from, bytes) => this.receive(from, bytes));
    this.nextTickDue = env.clock.monoMs() + HEARTBEAT_INTERVAL_MS;
    env.timers.setTimer(HEARTBEAT_INTERVAL_MS, () => this.tick());
  }

  private tick(): void {
    const now = this.env.clock.monoMs();
    if (now > this.nextTickDue + HEARTBEAT_INTERVAL_MS / 2) this.counts.lateTimers++;
    this.seq++;
    const ping = encode({ t: 'ping', nonce: this.nonce, seq: this.seq, wall: this.env.clock.wallMs() } satisfies Message);
    for (const peer of this.peers) {
      if (peer === this.env.address) continue;
      this.env.transport.send(peer, ping);
      this.counts.pingsSent++;
    }
    this.nextTickDue = now + HEARTBEAT_INTERVAL_MS;
    this.env.timers.setTimer(HEARTBEAT_INTERVAL_MS, () => this.tick());
  }

  private receive(from: NodeAddress, bytes: Uint8Array): void {
    let msg: Message;
    try {
      msg = decode(bytes) as Message;
    } catch {
      this.counts.malformed++;
      return;
    }
    this.lastHeard.set(from, this.env.clock.monoMs());
    if (msg.t === 'ping') {
      this.counts.pingsReceived++;
      this.maxSkewSeenMs = Math.max(this.maxSkewSeenMs, Math.abs(msg.wall - this.env.clock.wallMs()));
      this.env.transport.send(from, encode({ t: 'echo', nonce: msg.nonce, seq: msg.seq } satisfies Message));
    } else if (msg.t === 'echo') {
      if (msg.nonce !== this.nonce) this.counts.staleEchoes++;
      else if (msg.seq > this.seq) this.counts.fabricatedEchoes++;
      else this.counts.echoes++;
    } else {
      this.counts.malformed++;
    }
  }
}

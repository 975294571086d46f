/**
 * Delivers hints in the background: every interval, for each target that membership says is up,
 * sends the hints due (throttled to a bounded number in flight per target, on the bulk lane so
 * gossip is not delayed) and forgets each one the target acknowledges. Expires hints past the
 * window.
 */
import type { ReplicationContext } from './context.ts';
import type { HintStore } from './hints.ts';
import { buggify, cover } from '../runtime/probes.ts';

export class HintedHandoff {
  private timer: number | null = null;

  constructor(
    private readonly ctx: ReplicationContext,
    readonly hints: HintStore,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) this.ctx.env.timers.cancelTimer(this.timer);
    this.timer = null;
  }

  onAck(id: number): void {
    const hint = this.hints.delivered(id);
    if (hint) cover(this.ctx.env, hint.fallback ? 'stand-in-hint-delivered' : 'hint-delivered');
  }

  private schedule(): void {
    this.timer = this.ctx.env.timers.setTimer(this.ctx.config.hintDeliveryIntervalMs, () => {
      this.deliver();
      this.schedule();
    });
  }

  private deliver(): void {
    const now = this.ctx.env.clock.monoMs();
    this.hints.expire(now);
    if (this.hints.count === 0 || buggify(this.ctx.env, 'hint-delivery-fails')) return;
    const { hintResendMs, hintsInFlightPerTarget } = this.ctx.config;
    for (const target of this.hints.targets()) {
      if (!this.ctx.isAlive(target)) continue;
      const { due } = this.hints.due(target, now, hintResendMs, hintsInFlightPerTarget);
      for (const hint of due) {
        hint.sentAtMs = now;
        this.ctx.send(target, { t: 'hd', id: hint.id, p: hint.partition, k: hint.key, r: hint.record }, 'bulk');
      }
    }
  }
}

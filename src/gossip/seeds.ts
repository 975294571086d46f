/**
 * The seeds a member joins through. A fixed list, or a SeedSource read again at every use: the
 * daemon re-resolves DNS names (a Kubernetes headless service) into one, so members that start in
 * any order still find each other. Our own address is always left out.
 */
import type { NodeAddress } from '../runtime/env.ts';

/** Seed addresses that may change while the member runs (a DNS name re-resolved by the daemon). */
export type SeedSource = () => readonly NodeAddress[];

export class Seeds {
  private readonly source: SeedSource;
  /**
   * Whether the seeds may change: then join attempts go on whenever we are alone, even with none
   * now (a founder keeps looking, so pods that started before DNS listed them still merge).
   */
  readonly mayChange: boolean;
  /** The source's last answer and it without our own address (sources keep an unchanged list's identity). */
  private cache: { from: readonly NodeAddress[]; seeds: readonly NodeAddress[] } = { from: [], seeds: [] };

  constructor(
    seeds: readonly NodeAddress[] | SeedSource,
    private readonly self: NodeAddress,
  ) {
    this.source = typeof seeds === 'function' ? seeds : () => seeds;
    this.mayChange = typeof seeds === 'function';
  }

  /** The seeds now, our own address left out. */
  get list(): readonly NodeAddress[] {
    const from = this.source();
    if (from !== this.cache.from) this.cache = { from, seeds: from.filter((s) => s !== this.self) };
    return this.cache.seeds;
  }

  has(address: NodeAddress): boolean {
    return this.list.includes(address);
  }

  /** Whether join attempts are worth making: there are seeds, or there may be some later. */
  get worthJoining(): boolean {
    return this.mayChange || this.list.length > 0;
  }
}

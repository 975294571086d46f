/**
 * The daemon's seeds: `--seeds` entries are HOST:PORT, and a HOST that is a DNS name stands for
 * every address it resolves to (a Kubernetes headless service names one address per ready pod).
 * DNS is I/O, so it happens here, at the edge: the node's gossip reads `current()`, a plain list,
 * at each join attempt, and the daemon calls `refresh()` at start and then periodically while its
 * node is alone (see `watch`), so pods that start in any order find each other as they appear.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '../runtime/env.ts';

/** How often a node that is alone resolves its seed names again (2 s): a pod appears within that of its DNS record. */
export const SEED_REFRESH_INTERVAL_MS = 2000;

/** Resolves a DNS name to every address it has (IPv4 and IPv6). Injected, so tests can script DNS. */
export type HostResolver = (name: string) => Promise<readonly string[]>;

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS), every address, in the order it gives them. */
export const systemResolver: HostResolver = async (name) => (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

export interface SeedAddress {
  /** An IP address (IPv6 without brackets) or a DNS name. */
  host: string;
  port: number;
  /** Whether `host` is a DNS name to resolve (else an IP address used as is). */
  isName: boolean;
}

/** A host as it goes before `:port` in an address or URL: an IPv6 address in brackets. */
export function bracketed(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** `host:port` as the node network writes addresses. */
export function hostPort(host: string, port: number): string {
  return `${bracketed(host)}:${port}`;
}

/**
 * Reads an address given as `HOST:PORT`: `10.0.0.5:7401`, `[fd00::5]:7401` or
 * `shoal-peers.default.svc:7401` (a `--seeds` entry, a command's `--node` or `--peer`). A problem
 * is in words that follow the address in a message.
 */
export function parseHostPort(text: string): { address: SeedAddress; problem?: undefined } | { address?: undefined; problem: string } {
  const m = /^(?:\[([^\]]*)\]|([^\s:[\]]+)):(\d+)$/.exec(text);
  if (!m) return { problem: 'is not HOST:PORT (an IPv6 address goes in brackets)' };
  const port = Number(m[3]);
  if (m[3]!.length > 5 || port < 1 || port > 65535) return { problem: `has port ${m[3]}, which is not from 1 to 65535` };
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6) return { problem: `has "${m[1]}" in brackets, which is not an IPv6 address` };
    return { address: { host: m[1], port, isName: false } };
  }
  const host = m[2]!;
  if (isIP(host) === 4) return { address: { host, port, isName: false } };
  if (!isDnsName(host)) return { problem: `has host "${host}", which is neither an IP address nor a DNS name` };
  return { address: { host, port, isName: true } };
}

function isDnsName(host: string): boolean {
  return /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/.test(host);
}

/**
 * Why `host` cannot be a host other nodes and clients dial (`--advertise-host`, or `--host` when
 * it is advertised), or undefined: it must be an IP address (IPv6 without brackets) or a DNS name,
 * with no port or scheme. Gossip hands it to every member, so a bad one would reach all of them.
 */
export function advertisableHostProblem(host: string): string | undefined {
  if (isIP(host) !== 0 || isDnsName(host)) return undefined;
  if (/^\[.*\]$/.test(host) && isIP(host.slice(1, -1)) === 6) return 'has brackets: give the IPv6 address without them';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(host)) return 'has a scheme: give the host only';
  if (/:\d+$/.test(host)) return 'has a port: give the host only (the ports are --port and --peer-port)';
  return 'is neither an IP address nor a DNS name';
}

/**
 * The addresses behind the `--seeds` entries. IP addresses are used as given; names as last
 * resolved (a lookup that fails keeps the addresses it had: a DNS hiccup must not hide peers).
 */
export class SeedList {
  private readonly seeds: readonly (SeedAddress & { text: string })[];
  /** Last successful lookup of each name. */
  private readonly resolved = new Map<string, readonly string[]>();
  /** Why a name's last lookup failed, by seed text; cleared by the next success. */
  private readonly failures = new Map<string, string>();
  private addresses: readonly string[] = [];
  private inFlight: Promise<void> | null = null;

  /** This node's own peer address spelled with IP addresses, when it advertises a DNS name. */
  private self: ReadonlySet<string> = new Set();

  /**
   * `advertised`: the peer address this node goes by. When its host is a name, it is looked up
   * with the seeds and its addresses are left out of them, as gossip leaves out the address as
   * given: a StatefulSet pod that goes by `shoal-0.shoal-peers:7401` finds its pod IP among the
   * headless service's, and must not take itself for a peer (alone, it would wait for itself
   * instead of founding a cluster).
   */
  constructor(
    texts: readonly string[],
    private readonly resolve: HostResolver,
    private readonly log: Logger,
    private readonly advertised?: { host: string; port: number },
    /** Peer addresses of the members this node last knew (src/daemon/known-peers.ts), joined through as seeds are. */
    private readonly remembered: readonly string[] = [],
  ) {
    this.seeds = texts.map((text) => {
      const parsed = parseHostPort(text);
      if (parsed.problem !== undefined) throw new Error(`seed "${text}" ${parsed.problem}`);
      return { ...parsed.address, text };
    });
    this.rebuild();
  }

  /** Whether any seed is a DNS name (else the list never changes and needs no refresh). */
  get hasNames(): boolean {
    return this.seeds.some((s) => s.isName);
  }

  /**
   * Every address to join through now, without repeats. The same array until a refresh changes
   * it, so a reader may cache by identity. An arrow, so it can be handed over as the node's seed source.
   */
  readonly current = (): readonly string[] => this.addresses;

  /** Looks every name up again; concurrent calls share one round of lookups. */
  refresh(): Promise<void> {
    this.inFlight ??= this.lookUpAll().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  /** Names that do not resolve, and why, in words; null when every name resolved last time. */
  problems(): string | null {
    if (this.failures.size === 0) return null;
    return `seed names that do not resolve: ${[...this.failures].map(([text, why]) => `${text} (${why})`).join(', ')}`;
  }

  /**
   * Refreshes every `intervalMs` while `wanted()` says so (the node is alone or still joining).
   * Returns the function that stops it. Does nothing when no seed is a name.
   */
  watch(wanted: () => boolean, intervalMs = SEED_REFRESH_INTERVAL_MS): () => void {
    if (!this.hasNames) return () => {};
    const timer = setInterval(() => {
      if (wanted()) void this.refresh();
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async lookUpAll(): Promise<void> {
    const names = this.seeds.filter((s) => s.isName);
    if (names.length === 0) return;
    const me = this.advertised;
    const lookUpSelf = async (): Promise<void> => {
      if (me === undefined || isIP(me.host) !== 0) return;
      // A failure keeps what the name had, like a seed's.
      const ips = await this.resolve(me.host).catch(() => null);
      if (ips !== null) this.self = new Set(ips.map((ip) => hostPort(ip, me.port)));
    };
    await Promise.all([
      lookUpSelf(),
      ...names.map(async (seed) => {
        try {
          const found = await this.resolve(seed.host);
          if (found.length === 0) throw Object.assign(new Error('no addresses'), { code: 'no addresses' });
          this.resolved.set(seed.text, found);
          if (this.failures.delete(seed.text)) this.log.info({ seed: seed.text }, `seed ${seed.text} resolves again`);
        } catch (error) {
          const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          if (this.failures.get(seed.text) !== why) {
            const kept = this.resolved.get(seed.text) ?? [];
            this.log.warn({ seed: seed.text, error: why, kept }, `seed ${seed.text} does not resolve (${why})${kept.length > 0 ? `; keeping its last addresses: ${kept.join(', ')}` : ''}`);
          }
          this.failures.set(seed.text, why);
        }
      }),
    ]);
    this.rebuild();
  }

  private rebuild(): void {
    const next = new Set<string>();
    for (const seed of this.seeds) {
      const hosts = seed.isName ? (this.resolved.get(seed.text) ?? []) : [seed.host];
      for (const host of hosts) if (!this.self.has(hostPort(host, seed.port))) next.add(hostPort(host, seed.port));
    }
    for (const address of this.remembered) if (!this.self.has(address)) next.add(address);
    const list = [...next];
    if (list.length === this.addresses.length && list.every((a, i) => a === this.addresses[i])) return;
    this.addresses = list;
    if (this.hasNames) this.log.info({ seeds: this.seeds.map((s) => s.text), addresses: list }, `seeds now stand for: ${list.join(', ') || 'no address yet'}`);
  }
}

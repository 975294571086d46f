/**
 * Spreads the users (AclStore) to every member, core-style: it only uses the transport channel
 * and timers it is given, so the simulator runs it deterministically.
 *
 * - A change made on this node is pushed at once to every live peer (`push`: the changed entries).
 * - Every `intervalMs`, it sends its digest to one peer in turn (`digest`); a peer whose digest
 *   differs answers with its whole state (`state`), and whoever then still differs from the state
 *   it received sends its own back. A node that was down or cut off catches up within a round or
 *   two of rejoining. Entries are merged newest-version-wins (tombstones included), so delivery
 *   order and duplicates do not matter.
 *
 * Messages are JSON; what arrives is validated by AclStore.merge and junk is dropped and counted.
 */
import type { NodeAddress, Timers, Transport } from '../runtime/env.ts';
import type { AclEntry, AclStore } from './acl.ts';

export interface AclSyncOptions {
  store: AclStore;
  /** This node's ACL channel (a node-to-node transport family of its own). */
  transport: Transport;
  timers: Timers;
  /** Addresses of the live peers (not this node). */
  peers(): readonly NodeAddress[];
  /** Anti-entropy period. Default 2000 ms. */
  intervalMs?: number;
  /**
   * Called each time this node has compared its users with a peer's whole state: it received a
   * digest equal to its own, or merged a peer's state. From then on it holds what that peer held.
   */
  onPeerState?: () => void;
}

type Message = { t: 'push'; entries: AclEntry[] } | { t: 'digest'; digest: string } | { t: 'state'; entries: AclEntry[]; digest: string; answer: boolean };

export class AclSync {
  /** Messages that could not be decoded. */
  junk = 0;
  /** Entries taken from peers. */
  merged = 0;
  private round = 0;
  private timer: unknown = null;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  /** Set while merging what a peer sent, so that it is not pushed straight back. */
  private merging = false;

  constructor(private readonly options: AclSyncOptions) {
    this.intervalMs = options.intervalMs ?? 2000;
    options.transport.onReceive((from, bytes) => this.receive(from, bytes));
    options.store.onChange((changed) => {
      if (!this.merging) this.broadcast({ t: 'push', entries: changed });
    });
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.options.timers.cancelTimer(this.timer as never);
  }

  /** One anti-entropy exchange now (the timer calls it; tests may too). */
  tick(): void {
    const peers = [...this.options.peers()].sort();
    if (peers.length === 0) return;
    const peer = peers[this.round++ % peers.length]!;
    this.send(peer, { t: 'digest', digest: this.options.store.digest() });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.timers.setTimer(this.intervalMs, () => {
      this.tick();
      this.schedule();
    });
  }

  private broadcast(message: Message): void {
    for (const peer of this.options.peers()) this.send(peer, message);
  }

  private send(to: NodeAddress, message: Message): void {
    this.options.transport.send(to, this.encoder.encode(JSON.stringify(message)));
  }

  private receive(from: NodeAddress, bytes: Uint8Array): void {
    let message: Message;
    try {
      message = JSON.parse(this.decoder.decode(bytes)) as Message;
    } catch {
      this.junk++;
      return;
    }
    const store = this.options.store;
    if (message?.t === 'push' && Array.isArray(message.entries)) {
      this.merge(message.entries);
    } else if (message?.t === 'digest' && typeof message.digest === 'string') {
      if (message.digest !== store.digest()) this.send(from, { t: 'state', entries: store.snapshot().entries, digest: store.digest(), answer: false });
      else this.options.onPeerState?.();
    } else if (message?.t === 'state' && Array.isArray(message.entries)) {
      this.merge(message.entries);
      this.options.onPeerState?.();
      // The sender lacks something we have: send it our state once (an answer is not answered).
      if (!message.answer && store.digest() !== message.digest) {
        this.send(from, { t: 'state', entries: store.snapshot().entries, digest: store.digest(), answer: true });
      }
    } else {
      this.junk++;
    }
  }

  private merge(entries: AclEntry[]): void {
    this.merging = true;
    try {
      this.merged += this.options.store.merge(entries).length;
    } finally {
      this.merging = false;
    }
  }
}

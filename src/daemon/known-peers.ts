/**
 * The members this node last knew, across restarts (DATA-DIR/peers.sealed, sealed with the at-rest
 * keys). A node restarted with the flags it was first started with rejoins its cluster through
 * them. Without them, the first node of a cluster (started without --seeds, as DEPLOY.md shows)
 * founded a new one-member cluster at every restart: ready at once, answering every key absent and
 * acknowledging writes on its own until gossip merged it back, tens of seconds later; a write it
 * acknowledged and lost before that merge was lost for good (found by probing a rolling restart).
 *
 * Only members alive or suspected when last saved are kept: one that left or was declared dead is
 * not waited for, so a node whose peers are all gone for good founds a cluster again.
 */
import type { Logger } from '../runtime/env.ts';
import { readSealedFile, writeSealedFile, type AtRestKeys } from '../security/sealed-file.ts';
import { dataFile } from './data-dir.ts';

const PURPOSE = 'peers';

/** How often the list is compared with the membership and saved when it changed. */
export const KNOWN_PEERS_SAVE_INTERVAL_MS = 2_000;

export interface PeerMember {
  readonly name: string;
  readonly state: string;
  readonly peerAddress: string;
}

export class KnownPeers {
  readonly path: string;
  /** Peer addresses as last saved (sorted), or as loaded. */
  private saved: readonly string[] = [];

  constructor(
    dataDir: string,
    private readonly keys: AtRestKeys,
    private readonly log: Logger,
  ) {
    this.path = dataFile(dataDir, PURPOSE);
  }

  /** The peer addresses saved by the last run; none when there is no file or it cannot be read (logged: the node then starts as before). */
  load(): readonly string[] {
    try {
      const plain = readSealedFile(this.path, PURPOSE, this.keys);
      if (plain === null) return [];
      const parsed = JSON.parse(Buffer.from(plain).toString('utf8')) as { format?: number; peers?: unknown };
      if (parsed.format !== 1 || !Array.isArray(parsed.peers) || !parsed.peers.every((p) => typeof p === 'string')) throw new Error('unknown format');
      this.saved = [...(parsed.peers as string[])].sort();
    } catch (error) {
      this.log.warn({ err: error, path: this.path }, `cannot read the members this node last knew from ${this.path}; it starts from its --seeds alone`);
      this.saved = [];
    }
    return this.saved;
  }

  /** Saves the peers among `members` (alive or suspect, not `self`) when they differ from the last saved. */
  update(members: readonly PeerMember[], self: string): void {
    const peers = members.filter((m) => m.name !== self && (m.state === 'alive' || m.state === 'suspect')).map((m) => m.peerAddress).sort();
    if (peers.length === this.saved.length && peers.every((p, i) => p === this.saved[i])) return;
    try {
      writeSealedFile(this.path, Buffer.from(JSON.stringify({ format: 1, peers }), 'utf8'), PURPOSE, this.keys);
      this.saved = peers;
    } catch (error) {
      this.log.error({ err: error, path: this.path }, 'cannot save the members this node knows');
    }
  }
}

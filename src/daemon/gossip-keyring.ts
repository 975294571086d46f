/**
 * Gossip encryption for the daemon: the cluster keyring, kept sealed in the data directory, and the
 * SealingTransport around the node's whole node-to-node transport (src/security).
 *
 * - On: when the data directory holds a keyring, or --gossip-key-file is given. The first start
 *   with a key file writes the keyring (its first key the primary); later starts read the keyring,
 *   which rotations (`shoal keyring`) keep up to date, and the key file only adds keys it lacks
 *   (never changes the primary or removes one). Off otherwise: node-to-node traffic is plain.
 * - A node whose keyring does not match its peers' hears nothing it can open: its status says so
 *   and what to do (docs/SECURITY.md, "Rotating the cluster key").
 */
import { existsSync } from 'node:fs';
import { Keyring } from '../security/keyring.ts';
import { resealFile, writeSealedFile } from '../security/sealed-file.ts';
import { logResealed } from './acl-file.ts';
import { SealingTransport } from '../security/sealing-transport.ts';
import { plainSenderReason, serveKeyringAdmin, staleKeyHint, staleSenderReason } from '../security/keyring-admin.ts';
import { MessageFamily } from '../node/wire.ts';
import type { Logger, NodeAddress, Timers, Transport } from '../runtime/env.ts';
import type { DaemonConfig } from './config.ts';
import { dataFile } from './data-dir.ts';
import { StartupError } from './errors.ts';

export const KEYRING_PURPOSE = 'keyring';

/** The keyring from the data directory and --gossip-key-file, persisted on every change; null when encryption is off. */
export function openGossipKeyring(config: DaemonConfig, log: Logger): Keyring | null {
  const path = dataFile(config.dataDir, KEYRING_PURPOSE);
  let keyring: Keyring | null = null;
  if (existsSync(path)) {
    try {
      // Written again under the primary at-rest key if another sealed it (persist() below rewrites
      // it too; this says so in the log, as for the users file).
      const read = resealFile(path, KEYRING_PURPOSE, config.atRestKeys);
      if (read !== null && read.resealedFrom !== null) logResealed(log, path, read.resealedFrom, config.atRestKeys);
      keyring = Keyring.deserialize(Buffer.from(read?.plain ?? new Uint8Array()).toString('utf8'), path);
    } catch (error) {
      throw new StartupError(`cannot read the gossip keyring ${path}: ${(error as Error).message}`, { cause: error });
    }
    const before = keyring.list().length;
    for (const key of config.gossipKeys ?? []) keyring.install(key);
    const added = keyring.list().length - before;
    if (added > 0) log.info({ added, primaryKeyId: keyring.primaryId }, `installed ${added} key(s) from --gossip-key-file into the keyring (its primary stays ${keyring.primaryId})`);
  } else if (config.gossipKeys !== null) {
    keyring = new Keyring(config.gossipKeys);
  }
  if (keyring === null) {
    log.info({ gossipEncryption: false }, 'gossip encryption off: node-to-node traffic is not encrypted (no --gossip-key-file, no keyring in the data directory)');
    return null;
  }
  const ring = keyring;
  const persist = () => writeSealedFile(path, new Uint8Array(Buffer.from(ring.serialize(), 'utf8')), KEYRING_PURPOSE, config.atRestKeys);
  persist();
  ring.onChange(persist);
  log.info({ gossipEncryption: true, primaryKeyId: ring.primaryId, keys: ring.list().map((k) => k.id), keyFile: config.gossipKeySource }, 'gossip encryption on');
  return ring;
}

export interface GossipSecurity {
  readonly transport: SealingTransport;
  /** What the node hears that it cannot open, as a hint for `shoal status` and the log; null when nothing. */
  hint(): string | null;
  /** Senders under keys this node lacks, and nodes without a gossip key, as `refused` entries for `shoal status`. */
  refused(names: ReadonlyMap<NodeAddress, string>): { name: string; address: string; reason: string }[];
}

export function secureTransport(
  inner: Transport,
  keyring: Keyring,
  options: { config: DaemonConfig; address: NodeAddress; log: Logger; timers: Timers; nowMs: () => number; peers: () => readonly NodeAddress[] },
): GossipSecurity {
  const { config, address, log } = options;
  // A plain node's gossip starts with the gossip family byte (node/wire.ts): that sender is a
  // node without a key, listed and told; other unsealed bytes are only counted.
  const plainNodeTraffic = (bytes: Uint8Array): boolean => bytes[0] === MessageFamily.gossip;
  const transport = new SealingTransport(inner, { cluster: config.cluster, address, keyring, log, nowMs: options.nowMs, plainNodeTraffic });
  serveKeyringAdmin({ sealing: transport, self: address, peers: options.peers, timers: options.timers, log });
  return {
    transport,
    hint: () => staleKeyHint(transport.stats(), address, dataFile(config.dataDir, KEYRING_PURPOSE)),
    refused: (names) => {
      const stats = transport.stats();
      return [
        ...stats.unknownKeySenders.map((u) => ({ name: names.get(u.address) ?? u.address, address: u.address, reason: staleSenderReason(u) })),
        ...stats.plainSenders.map((p) => ({ name: names.get(p.address) ?? p.address, address: p.address, reason: plainSenderReason(p) })),
      ];
    },
  };
}

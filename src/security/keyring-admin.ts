/**
 * Cluster-wide keyring operations (`shoal keyring install|use|remove|list`), carried as sealed
 * admin datagrams on the node-to-node network (sealing-transport.ts, kinds 1 and 2).
 *
 * Who may ask: whoever can seal a datagram under a key the node has installed, that is, whoever
 * holds a cluster key. That is no new power: a holder of the gossip key can already speak as any
 * member (gossip, replication writes). The `shoal keyring` command is such a holder: it reads keys
 * from a key file and talks to a node's peer port with its own SealingTransport.
 *
 * A request with `fanout` is applied by the node that got it and then sent, without fanout, to
 * every other member it knows (alive or not: a member that does not answer within the timeout is
 * reported as such), like serf's keyring queries; the reply carries one result per node. A request
 * without fanout is applied by that node only: the way to bring back a member that was down during
 * a rotation (seal the request with a key it still has).
 */
import type { NodeAddress, Logger, Timers } from '../runtime/env.ts';
import { KeyringError, parseGossipKey, type KeyringEntry } from './keyring.ts';
import { KIND, type PlainSender, type SealingStats, type SealingTransport, type UnknownKeySender } from './sealing-transport.ts';

export type KeyringOp = 'install' | 'use' | 'remove' | 'list';

export interface KeyringRequest {
  readonly id: string;
  readonly op: KeyringOp;
  /** install: the key (base64). */
  readonly key?: string;
  /** use, remove: the key id (hex). */
  readonly keyId?: string;
  /** install: make it the primary as well (the recovery of a member that missed a rotation). */
  readonly primary?: boolean;
  readonly fanout: boolean;
  /** fanout: how long to wait for the other members (ms; FANOUT_TIMEOUT_MS when absent; at most MAX_FANOUT_TIMEOUT_MS). */
  readonly timeoutMs?: number;
}

export interface NodeKeyringResult {
  /** The node's peer address. */
  readonly node: NodeAddress;
  readonly ok: boolean;
  readonly error?: string;
  readonly keys?: readonly KeyringEntry[];
  /** remove: the key was not installed on this node, so nothing was removed (absent from older nodes' answers). */
  readonly notInstalled?: boolean;
}

export interface KeyringReply {
  readonly id: string;
  readonly results: readonly NodeKeyringResult[];
}

/** How long a fanned-out request waits for the other members (3 s). */
export const FANOUT_TIMEOUT_MS = 3000;
export const MAX_FANOUT_TIMEOUT_MS = 60_000;

export function encodeAdmin(message: KeyringRequest | KeyringReply): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(message), 'utf8'));
}

export function decodeAdmin<T>(bytes: Uint8Array): T | null {
  try {
    const value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string' ? (value as T) : null;
  } catch {
    return null;
  }
}

/** Applies one request to this node's keyring. */
export function applyKeyringRequest(sealing: SealingTransport, self: NodeAddress, request: KeyringRequest): NodeKeyringResult {
  const ring = sealing.keyring;
  let notInstalled = false;
  try {
    switch (request.op) {
      case 'install': {
        if (request.primary === true && request.fanout) {
          throw new KeyringError('install --primary is for one node (--only): cluster-wide, install first everywhere, then use');
        }
        const id = ring.install(parseGossipKey(request.key ?? '', 'the key to install'));
        if (request.primary === true) ring.use(id);
        break;
      }
      case 'use':
        ring.use(request.keyId ?? '');
        break;
      case 'remove':
        // Still ok (a remove repeated after a partial one must reach the members that kept the key), but said.
        notInstalled = !ring.has((request.keyId ?? '').toLowerCase());
        ring.remove(request.keyId ?? '');
        break;
      case 'list':
        break;
      default:
        throw new KeyringError(`unknown keyring operation "${String(request.op)}"`);
    }
    return { node: self, ok: true, keys: ring.list(), ...(notInstalled ? { notInstalled } : {}) };
  } catch (error) {
    return { node: self, ok: false, error: error instanceof KeyringError ? error.message : `failed: ${(error as Error).name}`, keys: ring.list() };
  }
}

export interface KeyringAdminOptions {
  readonly sealing: SealingTransport;
  /** This node's peer address. */
  readonly self: NodeAddress;
  /** The other members' peer addresses (all gossip knows, not only live ones). */
  readonly peers: () => readonly NodeAddress[];
  readonly timers: Timers;
  readonly log: Logger;
  readonly timeoutMs?: number;
}

/** Serves keyring requests on a node. */
export function serveKeyringAdmin(options: KeyringAdminOptions): void {
  const { sealing, self, log } = options;
  let next = 0;
  const waiting = new Map<string, (result: NodeKeyringResult) => void>();
  sealing.onAdmin((from, kind, bytes) => {
    if (kind === KIND.adminReply) {
      const reply = decodeAdmin<KeyringReply>(bytes);
      const result = reply?.results?.[0];
      if (reply && result) waiting.get(reply.id)?.({ ...result, node: from });
      return;
    }
    if (kind !== KIND.adminRequest) return;
    const request = decodeAdmin<KeyringRequest>(bytes);
    if (request === null) return;
    const own = applyKeyringRequest(sealing, self, request);
    if (request.op !== 'list') {
      log.info({ op: request.op, by: from, ok: own.ok, error: own.error, keys: own.keys, fanout: request.fanout, notInstalled: own.notInstalled }, `keyring ${request.op}${own.ok ? (own.notInstalled ? ` of a key not installed here (${request.keyId})` : '') : ' refused'}`);
    }
    const answer = (results: NodeKeyringResult[]) => sealing.sendAdmin(from, KIND.adminReply, encodeAdmin({ id: request.id, results }));
    // Refused here (a rule broken, a key not installed): the others are not asked.
    const peers = request.fanout && own.ok ? options.peers().filter((p) => p !== self && p !== from) : [];
    if (peers.length === 0) return answer([own]);
    const results = new Map<NodeAddress, NodeKeyringResult>();
    const ids: string[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      options.timers.cancelTimer(timer);
      for (const id of ids) waiting.delete(id);
      answer([own, ...peers.map((p) => results.get(p) ?? { node: p, ok: false, error: 'no answer (down, or it cannot open messages under this node\'s primary key)' })]);
    };
    const asked = typeof request.timeoutMs === 'number' && request.timeoutMs > 0 ? Math.min(request.timeoutMs, MAX_FANOUT_TIMEOUT_MS) : null;
    const timer = options.timers.setTimer(asked ?? options.timeoutMs ?? FANOUT_TIMEOUT_MS, finish);
    for (const peer of peers) {
      const id = `${request.id}/${next++}`;
      ids.push(id);
      waiting.set(id, (result) => {
        results.set(peer, { ...result, node: peer });
        if (results.size === peers.length) finish();
      });
      sealing.sendAdmin(peer, KIND.adminRequest, encodeAdmin({ ...request, id, fanout: false }));
    }
  });
}

/**
 * What a node that hears peers under keys it lacks should do, in words (for `shoal status` and its
 * log), or null. `address` is its own peer address; `keyringFile` where its keyring is kept.
 */
export function staleKeyHint(stats: SealingStats, address: NodeAddress, keyringFile: string): string | null {
  if (stats.unknownKeySenders.length === 0) return null;
  const ids = [...new Set(stats.unknownKeySenders.map((u) => u.keyId))].join(', ');
  const from = stats.unknownKeySenders.map((u) => u.address).join(', ');
  return (
    `peers (${from}) send under key id ${ids}, which this node's keyring (primary ${stats.primaryKeyId}) lacks: the cluster key was rotated while this node was away, or it was given the wrong key. ` +
    `Give it the current key with \`${recoveryCommand(address)}\` (OLD holding a key this node has), ` +
    `or stop it, delete ${keyringFile} and start it with --gossip-key-file holding the current key (docs/SECURITY.md)`
  );
}

/** The command that gives the node at `address`, which missed a key rotation, the current key as its primary. */
function recoveryCommand(address: NodeAddress): string {
  return `shoal keyring install --new-key-file NEW --primary --only --peer ${address} --key-file OLD`;
}

/** Why a member lists a node that sends plain gossip as refused (for `shoal status`). */
export function plainSenderReason(sender: PlainSender): string {
  return `sends unsealed messages: it runs without gossip encryption (${sender.count} message${sender.count === 1 ? '' : 's'} rejected); start it with --gossip-key-file holding the cluster's key (docs/SECURITY.md)`;
}

/**
 * Why a member lists `sender` as refused (for `shoal status` on the members that stayed): the key id
 * it sends under, and the command that brings it back if it missed a rotation.
 */
export function staleSenderReason(sender: UnknownKeySender): string {
  return (
    `sends under key id ${sender.keyId}, which this node's keyring lacks (it missed a key rotation, or has the wrong key; ${sender.count} message${sender.count === 1 ? '' : 's'} rejected). ` +
    `If it missed a rotation, bring it back with \`${recoveryCommand(sender.address)}\`, OLD holding key ${sender.keyId} (docs/SECURITY.md)`
  );
}

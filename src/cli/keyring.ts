/**
 * `shoal keyring install|use|remove|list`: the cluster's gossip keyring, changed on every member at
 * once (or, with --only, on one node). The command talks to a node's node-to-node (peer) port as a
 * peer does: it seals its request with a key from --key-file (src/security/keyring-admin.ts), so
 * only a holder of a cluster key can change the keyring. The node dials back to the command's own
 * listening address (--listen) with the answer.
 *
 * A rotation: `install --new-key-file NEW` (every member can now open the new key), `use ID` (every
 * member seals with it), `remove OLDID`. A member that was down during a rotation still has only
 * the old key; bring it back with `install --new-key-file NEW --primary --only --peer THATNODE
 * --key-file OLD` (docs/SECURITY.md).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Keyring, parseGossipKeys, keyIdHex } from '../security/keyring.ts';
import { SealingTransport, KIND, sealedHeader } from '../security/sealing-transport.ts';
import type { Transport } from '../runtime/env.ts';
import { decodeAdmin, encodeAdmin, FANOUT_TIMEOUT_MS, MAX_FANOUT_TIMEOUT_MS, type KeyringOp, type KeyringReply, type KeyringRequest, type NodeKeyringResult } from '../security/keyring-admin.ts';
import { WsTransport } from '../transport/ws-transport.ts';
import { parseHostPort } from '../daemon/seeds.ts';
import { formatHelp, parseArgs, UsageError, type FlagSpecs } from './args.ts';
import { table } from './status.ts';

const FLAGS: FlagSpecs = {
  peer: { kind: 'string', description: "a node's node-to-node (peer) port, HOST:PORT (env SHOAL_PEER)" },
  'key-file': { kind: 'string', description: 'file of gossip keys the request is sealed with (the first) and answers opened with (env SHOAL_GOSSIP_KEY_FILE)' },
  'new-key-file': { kind: 'string', description: 'install: file holding the key to install (its first key)' },
  cluster: { kind: 'string', description: 'the cluster name (--cluster of the nodes)', default: 'shoal' },
  only: { kind: 'boolean', description: 'change the keyring of that node only, not of every member' },
  primary: { kind: 'boolean', description: 'install: also make the key that node\'s primary (with --only: a node that missed a rotation)' },
  timeout: { kind: 'duration', description: 'how long the node waits for the other members to answer (1ms to 60s)', default: '3s' },
  listen: { kind: 'string', description: 'interface this command listens on for the answer (the node dials back)', default: '127.0.0.1' },
  json: { kind: 'boolean', description: 'print JSON instead of a table' },
  help: { kind: 'boolean', description: 'show this help' },
};

const USAGE =
  'Usage: shoal keyring list|install|use KEYID|remove KEYID --peer HOST:PEERPORT --key-file FILE [--new-key-file FILE] [--only] [--primary] [--cluster NAME]\n' +
  'Make a key with: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64\'))" > new.key';

function readKeys(path: string, what: string): Uint8Array[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseGossipKeys(text, `${what} ${path}`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatHelp(USAGE, FLAGS));
    return 0;
  }
  const [op, arg, ...extra] = positionals;
  if (op === undefined || !['list', 'install', 'use', 'remove'].includes(op)) throw new UsageError(`expected list, install, use or remove\n${USAGE}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const peer = String(flags.peer ?? (process.env.SHOAL_PEER || ''));
  if (peer === '') throw new UsageError('--peer HOST:PORT is required: a node\'s node-to-node port (its --peer-port; `shoal status` lists it as PEERS)');
  const peerProblem = parseHostPort(peer).problem;
  if (peerProblem !== undefined) throw new UsageError(`${flags.peer === undefined ? 'SHOAL_PEER' : '--peer'} "${peer}" ${peerProblem}: give a node's node-to-node port, HOST:PORT (its --peer-port; \`shoal status\` lists it as PEERS)`);
  const keyFile = String(flags['key-file'] ?? process.env.SHOAL_GOSSIP_KEY_FILE ?? '');
  if (keyFile === '') throw new UsageError('--key-file FILE is required: a file holding a gossip key the node has (the request is sealed with it)');
  const keys = readKeys(keyFile, 'the key file');
  const request: { op: KeyringOp; key?: string; keyId?: string; primary?: boolean } = { op: op as KeyringOp };
  if (op === 'install') {
    if (arg !== undefined) throw new UsageError('install takes the key from --new-key-file, never from the command line (it would show in `ps`)');
    if (flags['new-key-file'] === undefined) throw new UsageError('install needs --new-key-file FILE');
    const key = readKeys(String(flags['new-key-file']), 'the new key file')[0]!;
    request.key = Buffer.from(key).toString('base64');
    if (flags.primary === true) {
      if (flags.only !== true) throw new UsageError('--primary needs --only: cluster-wide, install the key everywhere first, then `use` it');
      request.primary = true;
    }
    keys.push(key); // so the answer, sealed under it, opens
  } else if (op === 'use' || op === 'remove') {
    if (arg === undefined || !/^[0-9a-fA-F]{16}$/.test(arg)) throw new UsageError(`${op} takes KEYID: 16 hex digits, as \`shoal keyring list\` shows`);
    request.keyId = arg.toLowerCase();
    // The node answers under its primary, which `use` has just made KEYID: without that key here
    // the answer could not be opened, and the command would report no answer from a node that switched.
    if (op === 'use' && !keys.some((k) => keyIdHex(k) === request.keyId)) {
      throw new UsageError(
        `use ${request.keyId}: ${keyFile} does not hold key ${request.keyId}, and the nodes answer under the key they now use, so this command could not read their answer; give --key-file the file of key ${request.keyId} (the new key, as in docs/SECURITY.md's rotation; the nodes have it once it is installed)`,
      );
    }
  } else if (arg !== undefined) {
    throw new UsageError(`unexpected argument "${arg}"`);
  }
  if (op !== 'install') {
    for (const flag of ['new-key-file', 'primary'] as const) if (flags[flag] !== undefined) throw new UsageError(`--${flag} is for install only`);
  }
  const timeoutMs = typeof flags.timeout === 'number' ? flags.timeout : FANOUT_TIMEOUT_MS;
  // The node waits at most MAX_FANOUT_TIMEOUT_MS for the others, so a longer wait here gains nothing.
  if (timeoutMs < 1 || timeoutMs > MAX_FANOUT_TIMEOUT_MS) throw new UsageError(`--timeout must be from 1ms to ${MAX_FANOUT_TIMEOUT_MS / 1000}s, not ${timeoutMs} ms`);
  const message: KeyringRequest = { id: randomBytes(8).toString('hex'), fanout: flags.only !== true, timeoutMs, ...request };

  const warnings: string[] = [];
  const log = { debug() {}, info() {}, error() {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
  const listen = String(flags.listen ?? '127.0.0.1');
  let ws: WsTransport;
  try {
    ws = await WsTransport.listen({ host: listen, port: 0, log });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw error;
    throw new UsageError(`--listen ${listen}: cannot listen there (${code}); give an address of this machine that the node can dial back`);
  }
  try {
    const seen = new Set<string>();
    const ring = new Keyring(keys.filter((k) => !seen.has(keyIdHex(k)) && seen.add(keyIdHex(k))));
    let unreachable: string | null = null;
    // What came back sealed under a key this command lacks (read from the sealed header, which is
    // not secret): the node's answer or its notice that it cannot open the request.
    let unreadable: { kind: number; keyId: string } | null = null;
    let settle: (reply: KeyringReply | null) => void = () => {};
    const tapped: Transport = {
      send: (to, datagram, lane) => ws.send(to, datagram, lane),
      onReceive: (handler) =>
        ws.onReceive((from, bytes) => {
          const header = sealedHeader(bytes);
          if (header !== null && (header.kind === KIND.adminReply || header.kind === KIND.notice)) {
            const keyId = header.keyId;
            if (!ring.has(keyId)) {
              unreadable = { kind: header.kind, keyId };
              settle(null);
            } else if (header.kind === KIND.notice) {
              // Under a key we have: the node could not open the request (it lacks our key).
              unreadable = { kind: KIND.notice, keyId };
              settle(null);
            }
          }
          handler(from, bytes);
        }),
    };
    const sealing = new SealingTransport(tapped, { cluster: String(flags.cluster ?? 'shoal'), address: ws.address, keyring: ring, log, nowMs: () => performance.now() });
    const reply = await new Promise<KeyringReply | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs + 3000);
      settle = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      sealing.onAdmin((_from, kind, bytes) => {
        const r = kind === KIND.adminReply ? decodeAdmin<KeyringReply>(bytes) : null;
        if (r?.id !== message.id) return;
        clearTimeout(timer);
        resolve(r);
      });
      ws.onUnreachable((address, reason) => {
        if (address !== peer) return;
        clearTimeout(timer);
        unreachable = reason;
        resolve(null);
      });
      sealing.sendAdmin(peer, KIND.adminRequest, encodeAdmin(message));
    });
    if (reply === null && unreachable !== null) {
      // An HTTP refusal of the upgrade (a client or admin port) or an answer that is not HTTP at all
      // (a Redis port): something listens there, just not a node's peer endpoint.
      const answered = /^(an HTTP server answered|Parse Error)/.test(unreachable);
      process.stderr.write(
        answered
          ? `shoal keyring: ${peer} is not a node's node-to-node port: it answered, but not as one (${unreachable}), as a node's client, Redis or admin port does; point --peer at its --peer-port (\`shoal status\` lists it as PEERS)\n`
          : `shoal keyring: cannot reach ${peer} (${unreachable}): point --peer at a running node's node-to-node port (its --peer-port)\n`,
      );
      return 1;
    }
    const lacked = unreadable as { kind: number; keyId: string } | null;
    if (reply === null && lacked !== null && lacked.kind === KIND.notice) {
      process.stderr.write(`shoal keyring: ${peer} cannot open the request: it has none of the keys in ${keyFile} (it seals under key id ${lacked.keyId}); give --key-file a file holding a key the node has\n`);
      return 1;
    }
    if (reply === null && lacked !== null) {
      const check = `shoal keyring list --peer ${peer} --key-file FILE, FILE holding key ${lacked.keyId}`;
      process.stderr.write(
        `shoal keyring: ${peer} answered under key id ${lacked.keyId} (its primary), which ${keyFile} lacks, so the answer cannot be read; ` +
          (op === 'list' ? `see it with: ${check}\n` : `the ${op} was most likely applied: check with ${check}\n`),
      );
      return 1;
    }
    if (reply === null) {
      process.stderr.write(
        `shoal keyring: no answer from ${peer}: it is not running, is not a node's peer port, runs without gossip encryption, or has none of the keys in ${keyFile} (its log then says it rejected a message from ${ws.address})` +
          (warnings.length > 0 ? `; here: ${warnings[0]}` : '') +
          '\n',
      );
      return 1;
    }
    printResults(reply.results, flags.json === true);
    // A remove of a key no node had (a mistyped id) changed nothing: that is no success.
    if (op === 'remove' && reply.results.some((r) => r.ok) && reply.results.every((r) => !r.ok || r.notInstalled === true)) {
      process.stderr.write(`shoal keyring: key ${request.keyId} is not installed on any node that answered, so nothing was removed; check the id with \`shoal keyring list\`\n`);
      return 1;
    }
    return reply.results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await ws.close();
  }
}

function printResults(results: readonly NodeKeyringResult[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  const rows = [['NODE', 'RESULT', 'KEYS (* primary)']];
  for (const r of results) rows.push([r.node, r.ok ? (r.notInstalled === true ? 'ok (was not installed)' : 'ok') : `failed: ${r.error ?? ''}`, (r.keys ?? []).map((k) => (k.primary ? `*${k.id}` : k.id)).join(' ')]);
  process.stdout.write(table(rows));
}



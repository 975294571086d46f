/**
 * The node's users across restarts: loaded from the data directory at start (DIR/acl.sealed,
 * sealed with the at-rest keys; sealed again under the primary key when another key had sealed
 * it, so an at-rest key rotation can drop the old key after one restart) and written back after
 * every change, local or from a peer.
 */
import { AclStore, type AclSnapshot } from '../security/acl.ts';
import { keyIdOf, resealFile, writeSealedFile, type AtRestKeys } from '../security/sealed-file.ts';
import type { Logger } from '../runtime/env.ts';
import { dataFile } from './data-dir.ts';
import { StartupError } from './errors.ts';

const PURPOSE = 'acl';

/** The users of this node, loaded from its data directory and saved on every change. */
export function openAclStore(dataDir: string, keys: AtRestKeys, nodeName: string, nowMs: () => number, log: Logger): AclStore {
  const store = new AclStore(nodeName, nowMs);
  const path = dataFile(dataDir, PURPOSE);
  let read: ReturnType<typeof resealFile>;
  try {
    read = resealFile(path, PURPOSE, keys);
  } catch (error) {
    throw new StartupError(`cannot read the users file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (read !== null) {
    const plain = read.plain;
    if (read.resealedFrom !== null) logResealed(log, path, read.resealedFrom, keys);
    let snapshot: AclSnapshot;
    try {
      snapshot = JSON.parse(Buffer.from(plain).toString('utf8')) as AclSnapshot;
    } catch (error) {
      throw new StartupError(`the users file ${path} is not valid JSON`, { cause: error });
    }
    if (snapshot?.format !== 1 || !Array.isArray(snapshot.entries)) throw new StartupError(`the users file ${path} has an unknown format`);
    store.load(snapshot);
    log.info({ users: store.names().length }, 'users loaded');
  }
  store.onChange(() => {
    try {
      writeSealedFile(path, Buffer.from(JSON.stringify(store.snapshot()), 'utf8'), PURPOSE, keys);
    } catch (error) {
      log.error({ err: error, path }, 'cannot save the users file');
    }
  });
  return store;
}

/** A file read under an older at-rest key and written again under the primary: what a rotation's restart should say. */
export function logResealed(log: Logger, path: string, from: string, keys: AtRestKeys): void {
  const primary = Buffer.from(keyIdOf(keys.primary)).toString('hex');
  log.info({ path, fromKeyId: from, primaryKeyId: primary }, `re-sealed ${path} under the primary at-rest key ${primary} (it was sealed with ${from})`);
}

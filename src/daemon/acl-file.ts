/**
 * The node's users across restarts: loaded from the data directory at start (DIR/acl.sealed,
 * sealed with the at-rest keys) and written back after every change, local or from a peer.
 */
import { AclStore, type AclSnapshot } from '../security/acl.ts';
import { readSealedFile, writeSealedFile, type AtRestKeys } from '../security/sealed-file.ts';
import type { Logger } from '../runtime/env.ts';
import { dataFile } from './data-dir.ts';
import { StartupError } from './errors.ts';

const PURPOSE = 'acl';

/** The users of this node, loaded from its data directory and saved on every change. */
export function openAclStore(dataDir: string, keys: AtRestKeys, nodeName: string, nowMs: () => number, log: Logger): AclStore {
  const store = new AclStore(nodeName, nowMs);
  const path = dataFile(dataDir, PURPOSE);
  let plain: Uint8Array | null;
  try {
    plain = readSealedFile(path, PURPOSE, keys);
  } catch (error) {
    throw new StartupError(`cannot read the users file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (plain !== null) {
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

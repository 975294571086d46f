/**
 * --default-password-file: the default user's password from a file, applied at every start as
 * Redis's requirepass is (`ACL SETUSER default resetpass >PASSWORD`, through the AclStore, so the
 * change reaches every member like any ACL change). Only the password: whether `default` is on and
 * what it may run stay as the cluster has them.
 *
 * Every node of a cluster usually reads the same secret, and restarts often (rolling restarts,
 * pods replaced with a fresh data directory). So that this costs nothing and no two nodes fight:
 *
 * - Nothing changes while the default user already has exactly that password (it has it and no
 *   other): a restart with the same file adds no ACL version.
 * - At start, before anything listens, the node gives `default` the password at once, so it never
 *   serves a moment without one. When its store still has the built-in default user (a fresh data
 *   directory), that happens beneath every real version (AclStore.setUserBeneath): the cluster's
 *   own default user replaces it as soon as the node hears from a peer, and a cluster that already
 *   has this password takes no new version from the node. When its store has a default user with
 *   another password, it is a change like ACL SETUSER: the file wins.
 * - Once the node has first compared users with a peer (src/security/acl-sync.ts), it looks
 *   again, once: if the cluster's default user does not have exactly that password (an operator
 *   changed it with ACL SETUSER before this node started), the node sets it, as a new change. So
 *   the file wins at every start, also of a node with a fresh data directory, and a later ACL
 *   SETUSER holds until a node starts again; nodes that read different files end with the
 *   password of whichever set it last, without looping.
 */
import { hashPassword, hashPasswordAsync, verifyPassword, verifyPasswordSync } from '../security/acl-passwords.ts';
import type { AclStore, AclUser } from '../security/acl.ts';
import type { Logger } from '../runtime/env.ts';

export interface DefaultPasswordFile {
  readonly password: Uint8Array;
  readonly path: string;
}

/** What ACL SETUSER would show instead of the password: its rules never carry it in clear. */
const shown = (file: DefaultPasswordFile): string[] => ['resetpass', `>(${file.path})`];

/** Whether `user` takes `password` and no other (one scrypt, about 50 ms: once, at start). */
function hasExactly(user: AclUser | undefined, password: Uint8Array): boolean {
  return user !== undefined && !user.nopass && user.passwords.length === 1 && verifyPasswordSync(password, user.passwords[0]!);
}

/** At start, before the node listens: see the module comment. */
export function applyDefaultPasswordAtStart(acl: AclStore, file: DefaultPasswordFile, log: Logger): void {
  const user = acl.get('default');
  if (hasExactly(user, file.password)) {
    log.info({ path: file.path }, `the default user already has the password in ${file.path}`);
    return;
  }
  const rules = ['resetpass', `#${hashPassword(file.password)}`];
  const builtIn = acl.versionOf('default') === null;
  const error = builtIn ? acl.setUserBeneath('default', rules, shown(file)) : acl.setUser('default', rules, shown(file));
  if (error !== null) throw new Error(`cannot set the default user's password: ${error}`);
  log.info(
    { path: file.path, replaced: builtIn ? 'built-in' : 'stored' },
    builtIn
      ? `the default user's password is now the one in ${file.path} (as the cluster's default user, once this node hears from a peer, unless that has another password)`
      : `the default user's password is now the one in ${file.path}, replacing the one this node had (it reaches every node)`,
  );
}

/**
 * After the node's first exchange of users with a peer: sets the file's password once more if the
 * cluster's default user does not have exactly it. Returns the function to call from
 * AclSync's onPeerState; it acts on the first call only.
 */
export function defaultPasswordAfterPeer(acl: AclStore, file: DefaultPasswordFile, log: Logger, startedAtWallMs: number): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    void enforce(acl, file, log, startedAtWallMs).catch((error: unknown) => log.error({ err: error, path: file.path }, "cannot set the default user's password from the file"));
  };
}

async function enforce(acl: AclStore, file: DefaultPasswordFile, log: Logger, startedAtWallMs: number): Promise<void> {
  // scrypt runs on the thread pool; a change that arrives meanwhile (a merge, an ACL SETUSER) is
  // looked at afresh rather than overwritten unseen. A few rounds: users do not change that often.
  for (let round = 0; round < 3; round++) {
    // The file overrides what was decided before this node read it, not an ACL SETUSER made since
    // (here or on a peer) before the first exchange happened to come: that is a later decision.
    if ((acl.versionOf('default')?.wallMs ?? 0) >= startedAtWallMs) return;
    const user = acl.get('default');
    const ok = user !== undefined && !user.nopass && user.passwords.length === 1 && (await verifyPassword(file.password, user.passwords[0]!));
    if (acl.get('default') !== user) continue;
    if (ok) return;
    const hash = await hashPasswordAsync(file.password);
    if (acl.get('default') !== user) continue;
    const error = acl.setUser('default', ['resetpass', `#${hash}`], shown(file));
    if (error !== null) throw new Error(error);
    log.info({ path: file.path }, `the cluster's default user had another password: set the one in ${file.path} again (the file wins at every start, as Redis's requirepass)`);
    return;
  }
}

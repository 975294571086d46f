/**
 * The node's data directory (--data-dir): created at start, readable by its user only. What lives
 * there is sealed with the at-rest keys (src/security/sealed-file.ts); the parts that keep state
 * (users and ACLs, the gossip keyring, the members it last knew, the clock ceiling) each name
 * their file with `dataFile`.
 */
import { mkdirSync, accessSync, constants, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StartupError } from './errors.ts';

/**
 * Creates the directory (--data-dir, or the disk tier's --disk-dir) if missing and checks that the
 * node can write there; a StartupError says what is wrong, naming `flag`. Returns the first
 * directory it created (the directory or a parent), or null when it existed: what
 * `removeUnusedDataDir` may take back if the start fails.
 */
export function ensureDataDir(dir: string, flag: '--data-dir' | '--disk-dir'): string | null {
  const what = flag === '--data-dir' ? 'the data directory' : "the disk tier's directory";
  try {
    const created = makeDirectories(dir);
    accessSync(dir, constants.R_OK | constants.W_OK);
    return created;
  } catch (error) {
    const reason = error instanceof RefusedDirectory ? error.message : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    throw new StartupError(`cannot use ${dir} as ${what} (${reason}); choose another with ${flag}`, { cause: error });
  }
}

/** A directory its parent's filesystem would not create, though the parent exists. */
class RefusedDirectory extends Error {}

/**
 * `mkdir -p` with mode 0700, one level at a time from the deepest directory that exists; returns
 * the first directory it created, or null. Not Node's `mkdirSync(dir, { recursive: true })`: under
 * a filesystem that answers ENOENT to a mkdir in a directory that exists (/proc), that call
 * retries forever, and `shoal start --data-dir /proc/x` hung at start.
 */
function makeDirectories(dir: string): string | null {
  const missing: string[] = [];
  for (let at = resolve(dir); statSync(at, { throwIfNoEntry: false }) === undefined; at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  missing.reverse();
  for (const at of missing) {
    try {
      mkdirSync(at, { mode: 0o700 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(at).isDirectory()) continue; // made meanwhile by another process
      if (code === 'ENOENT') throw new RefusedDirectory(`ENOENT: ${dirname(at)} exists but its filesystem does not take new directories`, { cause: error });
      throw error;
    }
  }
  return missing[0] ?? null;
}

/**
 * After a failed start: removes the directories ensureDataDir created (`created`, the first of
 * them, up to `dir`) while they are still empty, so a mistyped port leaves nothing behind. A
 * directory that holds anything is kept, and so is every parent above it.
 */
export function removeUnusedDataDir(dir: string, created: string | null): void {
  if (created === null) return;
  const top = resolve(created);
  // `created` is `dir` or one of its parents (mkdirSync's answer), so the walk up reaches it.
  for (let at = resolve(dir); ; at = dirname(at)) {
    try {
      rmdirSync(at);
    } catch {
      return; // not empty (or already gone): keep it and what is above it
    }
    if (at === top || dirname(at) === at) return;
  }
}

/** The path of one state file in the data directory, e.g. dataFile(dir, 'acl') -> DIR/acl.sealed. */
export function dataFile(dir: string, purpose: string): string {
  return join(dir, `${purpose}.sealed`);
}

/**
 * The node's data directory (--data-dir): created at start, readable by its user only. What lives
 * there is sealed with the at-rest keys (src/security/sealed-file.ts); the parts that keep state
 * (users and ACLs, the gossip keyring) each name their file with `dataFile`.
 */
import { mkdirSync, accessSync, constants, rmdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StartupError } from './errors.ts';

/**
 * Creates the directory (--data-dir, or the disk tier's --disk-dir) if missing and checks that the
 * node can write there; a StartupError says what is wrong, naming `flag`. Returns the first
 * directory it created (the directory or a parent), or null when it existed: what
 * `removeUnusedDataDir` may take back if the start fails.
 */
export function ensureDataDir(dir: string, flag: '--data-dir' | '--disk-dir'): string | null {
  try {
    const created = mkdirSync(dir, { recursive: true, mode: 0o700 }) ?? null;
    accessSync(dir, constants.R_OK | constants.W_OK);
    return created;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const what = flag === '--data-dir' ? 'the data directory' : "the disk tier's directory";
    throw new StartupError(`cannot use ${dir} as ${what} (${code}); choose another with ${flag}`, { cause: error });
  }
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

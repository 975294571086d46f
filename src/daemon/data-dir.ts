/**
 * The node's data directory (--data-dir): created at start, readable by its user only. What lives
 * there is sealed with the at-rest keys (src/security/sealed-file.ts); the parts that keep state
 * (users and ACLs, the gossip keyring) each name their file with `dataFile`.
 */
import { mkdirSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from './errors.ts';

/** Creates the directory if missing and checks that the node can write there; a StartupError says what is wrong. */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.R_OK | constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StartupError(`cannot use ${dir} as the data directory (${code}); choose another with --data-dir`, { cause: error });
  }
}

/** The path of one state file in the data directory, e.g. dataFile(dir, 'acl') -> DIR/acl.sealed. */
export function dataFile(dir: string, purpose: string): string {
  return join(dir, `${purpose}.sealed`);
}

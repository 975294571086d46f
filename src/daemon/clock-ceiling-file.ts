/**
 * The node's clock ceiling across restarts (src/replication/clock-ceiling.ts), in
 * DATA-DIR/clock-ceiling.sealed, sealed with the at-rest keys like the data directory's other
 * files. A save is asynchronous (the node never waits for it) and atomic: a temporary file beside
 * it, fsynced, renamed over the old one, the directory fsynced, so a crash leaves the old ceiling
 * or the new one. A file that cannot be read is warned about and ignored: the node starts its
 * clock from its wall clock, as before the ceiling, and never refuses to start over it.
 */
import { readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ClockCeilingStore, Logger } from '../runtime/env.ts';
import { openBytes, sealBytes, type AtRestKeys } from '../security/sealed-file.ts';
import { dataFile } from './data-dir.ts';

const PURPOSE = 'clock-ceiling';
const FORMAT = 1;

export class ClockCeilingFile implements ClockCeilingStore {
  readonly path: string;

  constructor(
    dataDir: string,
    private readonly keys: AtRestKeys,
    private readonly log: Logger,
  ) {
    this.path = dataFile(dataDir, PURPOSE);
  }

  load(): number | null {
    let sealed: Buffer;
    try {
      sealed = readFileSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      return this.unreadable(error);
    }
    try {
      const parsed = JSON.parse(Buffer.from(openBytes(sealed, PURPOSE, this.keys)).toString('utf8')) as { format?: unknown; ceilingMs?: unknown };
      if (parsed.format !== FORMAT || typeof parsed.ceilingMs !== 'number' || !Number.isSafeInteger(parsed.ceilingMs) || parsed.ceilingMs <= 0) throw new Error('not a clock ceiling');
      return parsed.ceilingMs;
    } catch (error) {
      return this.unreadable(error);
    }
  }

  private unreadable(error: unknown): null {
    this.log.warn(
      { err: error, path: this.path },
      `cannot read the clock ceiling from ${this.path} (${(error as Error).message}): the clock starts from the wall clock alone, so this node's first writes may version below its last run's; the file is written again shortly`,
    );
    return null;
  }

  save(ceilingMs: number, done: (error: string | null) => void): void {
    const bytes = sealBytes(Buffer.from(JSON.stringify({ format: FORMAT, ceilingMs }), 'utf8'), PURPOSE, this.keys);
    this.write(bytes).then(
      () => done(null),
      (error: unknown) => done((error as NodeJS.ErrnoException).code ?? (error as Error).message),
    );
  }

  private async write(bytes: Uint8Array): Promise<void> {
    const temporary = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(bytes);
      await file.datasync();
    } catch (error) {
      await file.close();
      await unlink(temporary).catch(() => {});
      throw error;
    }
    await file.close();
    await rename(temporary, this.path);
    // The rename is durable only once the directory is.
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

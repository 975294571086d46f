/**
 * The disk tier for real (docs/STORE.md, "Disk tier"). Its device: one preallocated file, read and written at offsets with the
 * asynchronous fs calls (libuv's thread pool), so the event loop never waits on the disk.
 */
import { closeSync, existsSync, fchmodSync, fstatSync, ftruncateSync, mkdirSync, openSync, read, write } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../runtime/env.ts';
import { versionOfEncoded } from '../replication/record.ts';
import { aesBlockSealer } from '../security/block-sealer.ts';
import { DiskTier, type BlockDevice, type IoDone } from '../store/index.ts';
import type { DaemonConfig } from './config.ts';
import { StartupError } from './errors.ts';

/** The disk tier's one file in --disk-dir. */
const DISK_TIER_FILE = 'tier.shoal';

export class FileDevice implements BlockDevice {
  private constructor(private readonly fd: number, readonly size: number, readonly path: string) {}

  /**
   * Opens (or creates) the file and makes it `size` bytes; an existing file keeps its contents.
   * Readable by the node's user only, as the data directory's files are: its blocks are sealed,
   * but their sizes, places and key ids are not, and nobody else needs them. A file an older
   * version created 0644 is narrowed too.
   */
  static open(path: string, size: number): FileDevice {
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+', 0o600);
    fchmodSync(fd, 0o600);
    if (fstatSync(fd).size !== size) ftruncateSync(fd, size);
    return new FileDevice(fd, size, path);
  }

  read(offset: number, length: number, done: IoDone<Uint8Array>): void {
    const buffer = new Uint8Array(length);
    read(this.fd, buffer, 0, length, offset, (error, bytesRead) => done(error, buffer.subarray(0, bytesRead)));
  }

  write(offset: number, bytes: Uint8Array, done: IoDone<void>): void {
    const next = (written: number): void => {
      if (written === bytes.length) return done(null, undefined);
      write(this.fd, bytes, written, bytes.length - written, offset + written, (error, n) => (error !== null ? done(error, undefined) : next(written + n)));
    };
    next(0);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The node's disk tier on its file in --disk-dir, with a close that flushes it, or null when the tier is off. */
export function openDiskTier(env: Env, config: DaemonConfig): { tier: DiskTier; close(): Promise<void> } | null {
  if (config.disk === null) return null;
  const { dir, bytes, writeBudgetBytesPerSecond } = config.disk;
  const path = join(dir, DISK_TIER_FILE);
  let device: FileDevice;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    device = FileDevice.open(path, bytes);
  } catch (error) {
    throw new StartupError(`cannot open the disk tier file ${path} (--disk-dir): ${(error as Error).message}`, { cause: error });
  }
  const tier = new DiskTier({ device, sealer: aesBlockSealer(config.atRestKeys), clock: env.clock, writeBudgetBytesPerSecond, versionOf: versionOfEncoded });
  return {
    tier,
    close: () => new Promise<void>((resolve) => tier.close(() => {
      device.close();
      resolve();
    })),
  };
}

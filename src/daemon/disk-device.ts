/**
 * The disk tier for real (docs/STORE.md, "Disk tier"). Its device: one file of --disk-size, read and written at offsets with the
 * asynchronous fs calls (libuv's thread pool), so the event loop never waits on the disk. The file
 * is sparse (ftruncate: Node offers no fallocate), so its blocks are taken as the tier fills: the
 * start checks that the filesystem has room for the rest, and write errors are logged.
 */
import { closeSync, existsSync, fchmodSync, fstatSync, ftruncateSync, mkdirSync, openSync, read, statfsSync, write } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Env } from '../runtime/env.ts';
import { versionOfEncoded } from '../replication/record.ts';
import { aesBlockSealer } from '../security/block-sealer.ts';
import { DiskTier, type BlockDevice, type IoDone } from '../store/index.ts';
import type { DaemonConfig } from './config.ts';
import { StartupError } from './errors.ts';

/** Bytes an unprivileged process may still use on the filesystem holding `path`. */
function availableBytes(path: string): number {
  const s = statfsSync(path);
  return Number(s.bavail) * Number(s.bsize);
}

/** Bytes the file's blocks take on its filesystem (less than its size while sparse). */
function fileBlocksBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).blocks * 512;
  } finally {
    closeSync(fd);
  }
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

/** The disk tier's one file in --disk-dir. */
const DISK_TIER_FILE = 'tier.shoal';

export class FileDevice implements BlockDevice {
  private constructor(private readonly fd: number, readonly size: number, readonly path: string) {}

  /**
   * Opens (or creates) the file and makes it `size` bytes; an existing file keeps its contents.
   * Readable by the node's user only, as the data directory's files are: its blocks are sealed,
   * but their sizes, places and key ids are not, and nobody else needs them. A file an older
   * version created 0644 is narrowed too.
   * Refuses (throws) when the filesystem's free space cannot hold the blocks the file still lacks:
   * a sparse file of any size is accepted by any filesystem, and the tier then only fails its
   * writes once the filesystem is full (probe-ops F2: --disk-size 64mib on a 20 MB tmpfs).
   */
  static open(path: string, size: number, freeBytes: (path: string) => number = availableBytes): FileDevice {
    const dir = dirname(path);
    const allocated = existsSync(path) ? fileBlocksBytes(path) : 0;
    const needed = size - allocated;
    const free = freeBytes(dir);
    if (needed > free) {
      throw new Error(`the filesystem under ${dir} has ${formatBytes(free)} free, and the disk tier needs ${formatBytes(needed)} more for --disk-size ${formatBytes(size)} (its file takes its blocks as it fills): free space there or lower --disk-size`);
    }
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
/** At most one line about failed disk writes per this long; the lines in between are counted in the next. */
export const DISK_WRITE_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * The device with its failed writes logged (warn, with the errno, at most once per 10 s): the tier
 * only counts them (shoal_disk_write_errors_total) and drops what they held, so a full filesystem
 * under it was silent (probe-ops F2).
 */
export function reportingWriteErrors(device: BlockDevice, env: Pick<Env, 'clock' | 'log'>): BlockDevice {
  let lastLogMs = -Infinity;
  let failedSinceLog = 0;
  return {
    size: device.size,
    read: (offset, length, done) => device.read(offset, length, done),
    write: (offset, bytes, done) =>
      device.write(offset, bytes, (error, result) => {
        if (error !== null) {
          failedSinceLog++;
          const now = env.clock.monoMs();
          if (now - lastLogMs >= DISK_WRITE_ERROR_LOG_INTERVAL_MS) {
            const code = (error as NodeJS.ErrnoException).code ?? error.message;
            env.log.warn({ event: 'disk-write-failed', code, failedWrites: failedSinceLog }, `disk tier: ${failedSinceLog} write${failedSinceLog === 1 ? '' : 's'} failed (${code}); the entries they held left the disk tier${code === 'ENOSPC' ? ': the filesystem under --disk-dir is full' : ''}`);
            lastLogMs = now;
            failedSinceLog = 0;
          }
        }
        done(error, result);
      }),
  };
}

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
  const tier = new DiskTier({ device: reportingWriteErrors(device, env), sealer: aesBlockSealer(config.atRestKeys), clock: env.clock, writeBudgetBytesPerSecond, versionOf: versionOfEncoded });
  return {
    tier,
    close: () => new Promise<void>((resolve) => tier.close(() => {
      device.close();
      resolve();
    })),
  };
}

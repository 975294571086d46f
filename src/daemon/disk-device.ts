/**
 * The disk tier's device for real: one preallocated file, read and written at offsets with the
 * asynchronous fs calls (libuv's thread pool), so the event loop never waits on the disk.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, read, write } from 'node:fs';
import type { BlockDevice, IoDone } from '../store/disk/device.ts';

export class FileDevice implements BlockDevice {
  private constructor(private readonly fd: number, readonly size: number, readonly path: string) {}

  /** Opens (or creates) the file and makes it `size` bytes; an existing file keeps its contents. */
  static open(path: string, size: number): FileDevice {
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
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

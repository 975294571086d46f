/**
 * The disk tier's view of its storage: a fixed-size byte device read and written at offsets, with
 * completion callbacks (core code has no `await`). The daemon gives it a file (FileDevice in
 * src/daemon/disk-device.ts); tests and the simulator give it memory, with faults if they like.
 */
export type IoDone<T> = (error: Error | null, result: T) => void;

export interface BlockDevice {
  /** Usable bytes; the tier never reads or writes past them. */
  readonly size: number;
  /** Reads `length` bytes at `offset`. A short result (the file was truncated) is not an error: the caller checks. */
  read(offset: number, length: number, done: IoDone<Uint8Array>): void;
  /** Writes all of `bytes` at `offset`; the tier does not touch `bytes` until `done` runs. */
  write(offset: number, bytes: Uint8Array, done: IoDone<void>): void;
}

/**
 * A device in memory, answering on the next turn through an injected scheduler so callers see
 * the same asynchrony as with a file. Tests flip its bits and cut it short.
 */
export class MemoryDevice implements BlockDevice {
  readonly bytes: Uint8Array;
  /** How many bytes reads may see; lower it to play a truncated file. */
  visibleBytes: number;

  constructor(readonly size: number, private readonly schedule: (fn: () => void) => void) {
    this.bytes = new Uint8Array(size);
    this.visibleBytes = size;
  }

  read(offset: number, length: number, done: IoDone<Uint8Array>): void {
    const end = Math.min(offset + length, this.visibleBytes);
    const copy = this.bytes.slice(offset, Math.max(offset, end));
    this.schedule(() => done(null, copy));
  }

  write(offset: number, bytes: Uint8Array, done: IoDone<void>): void {
    this.bytes.set(bytes, offset);
    this.schedule(() => done(null, undefined));
  }
}

/**
 * The disk tier's view of its storage: a fixed-size byte device read and written at offsets, with
 * completion callbacks (core code has no `await`). The daemon gives it a file (FileDevice in
 * src/daemon/disk-device.ts); tests and the simulator give it memory with faults (SimDisk in
 * src/sim/disk.ts).
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

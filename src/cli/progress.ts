/**
 * One progress line for `shoal` commands that wait (a simulator sweep, a benchmark, `shoal dev`
 * waiting for its cluster): on a terminal it is written to stderr and rewritten in place (`\r`,
 * erase to the end of the line), at most every `minIntervalMs`; with --json, or when stderr is not
 * a terminal (a pipe, a CI log), it writes nothing. Lines that must stay (a failure, a node's log
 * line) go through `log()`, which clears the progress line, writes them and draws it again.
 */

/** What the progress line writes to: process.stderr, or a fake terminal in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** False turns the line off whatever the stream (the command's --json). */
  enabled?: boolean;
  /** Redraws closer together than this are skipped (the last text is drawn by the next update, log or done). */
  minIntervalMs?: number;
  now?: () => number;
}

const ERASE_LINE = '\x1b[K';

export class Progress {
  readonly active: boolean;
  private readonly stream: ProgressStream;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private text = '';
  private shown = false;
  private drawnAt = Number.NEGATIVE_INFINITY;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.active = options.enabled !== false && this.stream.isTTY === true;
    this.minIntervalMs = options.minIntervalMs ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  /** Sets the line's text; drawn now unless the last draw was less than minIntervalMs ago. */
  update(text: string): void {
    if (!this.active) return;
    this.text = text;
    const now = this.now();
    if (now - this.drawnAt < this.minIntervalMs) return;
    this.draw(now);
  }

  /** Writes a line that stays (`text` without its newline) above the progress line. */
  log(text: string): void {
    if (!this.active) return;
    this.clear();
    this.stream.write(`${text}\n`);
    if (this.text !== '') this.draw(this.now());
  }

  /** Erases the progress line (before other output to the same terminal); the next update draws it again. */
  clear(): void {
    if (!this.active || !this.shown) return;
    this.stream.write(`\r${ERASE_LINE}`);
    this.shown = false;
  }

  /** Erases the line for good. */
  done(): void {
    this.clear();
    this.text = '';
  }

  private draw(now: number): void {
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    const text = this.text.length > width ? `${this.text.slice(0, width - 1)}…` : this.text;
    this.stream.write(`\r${text}${ERASE_LINE}`);
    this.shown = true;
    this.drawnAt = now;
  }
}

/** `[#####-----] 12/40 30%`, `width` characters of bar. */
export function bar(done: number, total: number, width = 20): string {
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${Math.floor(share * 100)}%`;
}

/** Time left at the pace so far, like `eta 1m05s` (empty until something is done). */
export function eta(done: number, total: number, elapsedMs: number): string {
  if (done <= 0 || done >= total) return '';
  const leftS = Math.round(((total - done) * elapsedMs) / done / 1000);
  return `eta ${leftS >= 60 ? `${Math.floor(leftS / 60)}m${String(leftS % 60).padStart(2, '0')}s` : `${leftS}s`}`;
}

/**
 * `shoal drain NODE` and `shoal undrain NODE`: a member gives up ownership of its partitions (they
 * are handed off to the members that take them over) while it stays a live member that coordinates
 * requests, and later takes its share back (src/node/drain.ts; docs/OPERATIONS.md, "Draining a
 * node"). The command asks the node --node names for the member list, sends the request to NODE's
 * client port, then follows NODE's status until the partitions have moved (or, undraining, until
 * it owns and has caught up its share), printing a line when the progress changes (to a pipe, at
 * most every few seconds).
 */
import type { DrainStatus, NodeStatus } from '../protocol/index.ts';
import { UsageError, type FlagSpecs } from './args.ts';
import { formatDrain, formatDuration } from './status.ts';
import { askTarget, fetchStatus, startTargetCommand, TARGET_FLAGS } from './target.ts';

const FLAGS: FlagSpecs = {
  ...TARGET_FLAGS,
  'no-wait': { kind: 'boolean', description: 'return once the node has taken the request, without following its progress' },
  timeout: { kind: 'duration', description: 'how long to follow the progress before giving up (the drain goes on)', default: '10m' },
};

/** How often the command reads the node's progress. */
const POLL_INTERVAL_MS = 500;

/**
 * To a file or a pipe (a CI log, `| tee`), progress lines at most this far apart: read every poll,
 * a drain that moves partitions steadily would otherwise write two lines a second. A terminal gets
 * a line each time the progress changes.
 */
export const PIPED_LINE_INTERVAL_MS = 5000;

export function run(argv: string[]): Promise<number> {
  return drainCommand('drain', argv);
}

export function runUndrain(argv: string[]): Promise<number> {
  return drainCommand('undrain', argv);
}

async function drainCommand(action: 'drain' | 'undrain', argv: string[]): Promise<number> {
  const usage = `Usage: shoal ${action} NODE [--node HOST:PORT] [--no-wait] [--timeout 10m] [--json]`;
  const command = startTargetCommand(argv, usage, FLAGS);
  if (command === null) return 0;
  const { flags, positionals, node } = command;
  const [name, extra] = positionals;
  if (name === undefined) throw new UsageError(`which node? ${usage}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const json = flags.json === true;
  try {
    const address = await clientAddressOf(node, name);
    const answer = (await askTarget(address, { op: 'drain', action }, 'drain')).drain;
    if (flags['no-wait'] === true) {
      process.stdout.write(json ? `${JSON.stringify(answer)}\n` : `${noWaitLine(name, action, answer)}\n`);
      return 0;
    }
    const timeoutMs = Number(flags.timeout ?? 600_000);
    // Ctrl-C stops the following, not the drain: say so, or the user believes it was called off.
    let interrupted = false;
    let wake = (): void => {};
    const onInterrupt = (): void => {
      interrupted = true;
      wake();
    };
    process.once('SIGINT', onInterrupt);
    try {
      const done = await follow(action, timeoutMs, json, {
        status: () => fetchStatus(address),
        address,
        sleep: (ms) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          }),
        now: () => performance.now(),
        stdout: process.stdout,
        stderr: process.stderr,
        interrupted: () => interrupted,
      });
      return done === 'interrupted' ? INTERRUPTED_STATUS : done ? 0 : 1;
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    process.stderr.write(`shoal ${action}: ${(error as Error).message}\n`);
    return 1;
  }
}

/** NODE's client address, from the member list of the node the command talks to (that node itself when named). */
async function clientAddressOf(node: string, name: string): Promise<string> {
  const status = await fetchStatus(node);
  if (status.node === name) return node;
  const member = status.members.find((m) => m.name === name);
  if (member === undefined) throw new UsageError(`${status.node} knows no member named "${name}"; members: ${status.members.map((m) => m.name).join(', ')}`);
  if (member.state !== 'alive' && member.state !== 'suspect') throw new Error(`${name} is ${member.state}; only a live member can be drained or undrained`);
  if (member.clientAddress === '') throw new Error(`${name} advertises no client address; run the command with --node pointing at ${name}'s client port`);
  return member.clientAddress;
}

/** The exit status after a Ctrl-C while following (128 + SIGINT, as a shell reports one). */
const INTERRUPTED_STATUS = 130;

/** What `follow` reads and writes: the node's status, the time, the output streams (fakes in tests). */
export interface FollowIo {
  /** True once the user pressed Ctrl-C: follow stops and says the drain goes on. */
  interrupted?(): boolean;
  status(): Promise<NodeStatus>;
  /** The node's client address, for the message of a timeout. */
  address: string;
  sleep(ms: number): Promise<void>;
  now(): number;
  stdout: { isTTY?: boolean; write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Reads the node's status until the drain is over (drained: no partition owned or held) or the
 * undrain is (it owns partitions again and none is still catching up); true when it finished
 * within `timeoutMs`. Prints a line when the progress changes (the time a line carries is no
 * change), on a terminal each time, else at most every PIPED_LINE_INTERVAL_MS; the last line always.
 */
export async function follow(action: 'drain' | 'undrain', timeoutMs: number, json: boolean, io: FollowIo): Promise<boolean | 'interrupted'> {
  const started = io.now();
  const minIntervalMs = io.stdout.isTTY === true ? 0 : PIPED_LINE_INTERVAL_MS;
  let lastProgress = '';
  let printedAt = Number.NEGATIVE_INFINITY;
  for (;;) {
    const status = await io.status();
    const now = io.now();
    const line = progressLine(status, action, now - started);
    const finished = action === 'drain' ? status.drain?.state === 'drained' : status.drain === undefined && status.catchingUp === 0 && ownedBy(status) > 0;
    if (finished) {
      io.stdout.write(json ? `${JSON.stringify(status.drain ?? { state: 'serving', partitions: ownedBy(status) })}\n` : `${line}\n`);
      return true;
    }
    // The same line without its clock: what has moved, not how long it took.
    const progress = progressLine(status.drain ? { ...status, drain: { ...status.drain, elapsedMs: 0 } } : status, action, 0);
    if (!json && progress !== lastProgress && now - printedAt >= minIntervalMs) {
      io.stdout.write(`${line}\n`);
      lastProgress = progress;
      printedAt = now;
    }
    if (now - started > timeoutMs) {
      io.stderr.write(`shoal ${action}: not finished after ${formatDuration(timeoutMs)} (it goes on; \`shoal status --node ${io.address}\` shows its progress)\n`);
      return false;
    }
    await io.sleep(POLL_INTERVAL_MS);
    if (io.interrupted?.() === true) {
      const goesOn = action === 'drain' ? `the drain of ${status.node} goes on (\`shoal undrain ${status.node}\` gives its share back)` : `${status.node} goes on taking its share back`;
      io.stderr.write(`\nshoal ${action}: stopped following; ${goesOn}; \`shoal status --node ${io.address}\` shows its progress\n`);
      return 'interrupted';
    }
  }
}

function ownedBy(status: NodeStatus): number {
  return status.members.find((m) => m.name === status.node)?.partitions ?? 0;
}

/**
 * One line of progress. An undrain says the node serves again only once it owns partitions and
 * none is still catching up (the command's end): right after the request it owns none yet, and
 * "serves again: owns 0 partitions, caught up" told the end state before anything had happened.
 */
export function progressLine(status: NodeStatus, action: 'drain' | 'undrain', elapsedMs: number): string {
  if (status.drain) return formatDrain(status.node, status.drain);
  if (action === 'drain') return `${status.node} is serving`;
  const owned = ownedBy(status);
  const took = `(${formatDuration(elapsedMs)})`;
  if (owned === 0) return `${status.node} is taking its share back: it owns no partitions yet ${took}`;
  if (status.catchingUp > 0) return `${status.node} is taking its share back: owns ${owned} partitions, ${status.catchingUp} still catching up ${took}`;
  return `${status.node} serves again: owns ${owned} partitions, caught up ${took}`;
}

/**
 * What --no-wait prints: the node's answer. A node asked to undrain answers `serving` whether it was
 * drained or never was (undrain is idempotent), with no drain progress to show: a drain progress
 * line ("is serving: 0 of 0 partitions moved") would describe a drain that is not happening.
 */
export function noWaitLine(name: string, action: 'drain' | 'undrain', answer: DrainStatus): string {
  if (action === 'drain' || answer.state !== 'serving') return formatDrain(name, answer);
  return `${name} is not draining: it takes its share of partitions back if it had given it up (\`shoal status\` shows the partitions it owns and any still catching up)`;
}

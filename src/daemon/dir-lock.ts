/**
 * One node per directory. Two nodes started on the same --data-dir would overwrite each other's
 * users, ACLs and gossip keyring, and on the same --disk-dir each would write its blocks over the
 * other's (the tier checks what it reads, so they would lose each other's data as misses). A node
 * holds a lock file in each directory while it runs, and a second node refuses to start there.
 *
 * The lock file names its holder: host, pid and, on Linux, the process's start time (/proc), so a
 * lock left by a node that crashed or was killed is taken over at once, even when its pid now
 * belongs to another process (a container restarted in the same pod runs as the same pid). A
 * holder on another host (a shared volume) cannot be asked; it refreshes its file's time, and a
 * lock from another host counts as left behind once that time is STALE_AFTER_REFRESHES refresh
 * periods old. A start finding such a lock still fresh waits that long for it to go stale (a
 * container replaced after a crash gets a new hostname), and refuses if it stays fresh.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { StartupError } from './errors.ts';

/** The lock's file name in each directory it guards. */
export const LOCK_FILE = 'shoal.lock';
/** How often a holder refreshes its lock file's time (10 s). */
export const LOCK_REFRESH_MS = 10_000;
/** A lock from another host whose time is this many refresh periods old was left behind. */
const STALE_AFTER_REFRESHES = 3;
/** A lock file that does not parse is left behind (a crash while writing it) once it is this old (1 s). */
const UNREADABLE_GRACE_MS = 1000;

/** Who holds a lock, as its file says. */
export interface LockHolder {
  host: string;
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat), or null off Linux. */
  startTicks: string | null;
  /** When the holder took the lock (ISO time), for the error message. */
  since: string;
}

export interface DirLock {
  readonly path: string;
  /** Removes the lock file if it is still this process's; stops the refresh. */
  release(): void;
}

export interface LockOptions {
  /** Refresh period (LOCK_REFRESH_MS); tests shorten it. */
  refreshMs?: number;
  /** Called when the start waits for another host's lock to go stale. */
  onWait?: (holder: LockHolder, waitMs: number) => void;
}

/** The paths this process holds locks on: a second lock on one of them is refused, not taken over as a dead pid's. */
const heldHere = new Set<string>();

/**
 * Takes the lock on `dir` (which exists) or throws a StartupError naming the node that holds it
 * and `flag`, the option that chose the directory.
 */
export async function lockDirectory(dir: string, flag: string, options: LockOptions = {}): Promise<DirLock> {
  const path = join(dir, LOCK_FILE);
  const refreshMs = options.refreshMs ?? LOCK_REFRESH_MS;
  const self: LockHolder = { host: hostname(), pid: process.pid, startTicks: startTicksOf(process.pid), since: new Date().toISOString() };
  let waited = false;
  // Bounded: each turn either takes the lock, removes a dead holder's file or waits once.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(self)}\n`, { flag: 'wx', mode: 0o600 });
      return hold(path, self, refreshMs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StartupError(`cannot create the lock file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); choose another directory with ${flag}`, { cause: error });
    }
    const found = readHolder(path);
    if (found === 'gone') continue;
    if (found === 'unreadable' && ageMs(path) < UNREADABLE_GRACE_MS) {
      // Possibly a node that has just created the file and not yet written it.
      await new Promise((resolve) => setTimeout(resolve, UNREADABLE_GRACE_MS));
      continue;
    }
    const verdict = found === 'unreadable' ? 'left' : judge(found, path, refreshMs);
    if (verdict === 'left') {
      removeIfUnchanged(path, found);
      continue;
    }
    if (verdict === 'fresh' && !waited) {
      // Another host's lock: wait until it would be stale, then look again.
      const waitMs = STALE_AFTER_REFRESHES * refreshMs;
      options.onWait?.(found as LockHolder, waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      waited = true;
      continue;
    }
    const holder = found as LockHolder;
    throw new StartupError(
      `${dir} is in use by another Shoal node (pid ${holder.pid}${holder.host === self.host ? '' : ` on host ${holder.host}`}, since ${holder.since}); give each node its own ${flag}`,
    );
  }
  throw new StartupError(`could not take the lock ${path}: other processes keep creating and removing it; give each node its own ${flag}`);
}

/**
 * The running process holding the lock on `dir`, or null when none does (no lock file, an
 * unreadable one, or one left by a process that is gone): what `lockDirectory` would refuse, asked
 * without taking the lock, so `shoal dev` can refuse a data directory before starting any node.
 */
export function liveLockHolder(dir: string): LockHolder | null {
  const path = join(dir, LOCK_FILE);
  const found = readHolder(path);
  if (found === 'gone' || found === 'unreadable') return null;
  return judge(found, path, LOCK_REFRESH_MS) === 'left' ? null : found;
}

/** Milliseconds since the file was last written or refreshed (Infinity when it is gone). */
function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** 'alive' (refuse), 'fresh' (another host's, refreshed lately) or 'left' (its holder is gone). */
function judge(holder: LockHolder, path: string, refreshMs: number): 'alive' | 'fresh' | 'left' {
  if (holder.host !== hostname()) return ageMs(path) < STALE_AFTER_REFRESHES * refreshMs ? 'fresh' : 'left';
  if (holder.pid === process.pid) return heldHere.has(path) ? 'alive' : 'left'; // an earlier run with our pid (a restarted container)
  return isRunning(holder.pid, holder.startTicks) ? 'alive' : 'left';
}

/** Whether `pid` runs and is the process that wrote the lock (same start time where /proc tells it). */
function isRunning(pid: number, startTicks: string | null): boolean {
  const stat = procStat(pid);
  if (stat === 'no-proc') {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM'; // someone else's process: alive
    }
  }
  if (stat === null) return false;
  if (stat.state === 'Z' || stat.state === 'X') return false; // exited, not yet reaped
  return startTicks === null || stat.startTicks === startTicks;
}

/** /proc/PID/stat's state and start time; null when there is no such process, 'no-proc' off Linux. */
function procStat(pid: number): { state: string; startTicks: string } | null | 'no-proc' {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return 'no-proc';
    try {
      statSync('/proc/self/stat');
      return null; // /proc works: the process is gone
    } catch {
      return 'no-proc';
    }
  }
  // After the command name (in parentheses, may hold spaces): state is field 3, starttime field 22.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTicks: fields[19] ?? '' };
}

function startTicksOf(pid: number): string | null {
  const stat = procStat(pid);
  return stat === null || stat === 'no-proc' ? null : stat.startTicks;
}

function readHolder(path: string): LockHolder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.host === 'string' && Number.isInteger(h.pid) && typeof h.since === 'string') return { host: h.host, pid: h.pid!, startTicks: typeof h.startTicks === 'string' ? h.startTicks : null, since: h.since };
  } catch {
    // a crash while writing it: treated as left behind
  }
  return 'unreadable';
}

/**
 * Removes a left-behind lock file, unless it changed since it was judged (another starting node
 * took it over in between). Two nodes taking over the same dead lock at the same instant can
 * still both pass; that needs two starts on one directory within a millisecond of each other.
 */
function removeIfUnchanged(path: string, judged: LockHolder | 'unreadable'): void {
  const now = readHolder(path);
  if (now === 'gone') return;
  const same = judged === 'unreadable' ? now === 'unreadable' : sameHolder(now, judged);
  if (!same) return;
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/** Whether the lock file (as read now) still names the holder `holder`, the same run of it. */
function sameHolder(now: LockHolder | 'gone' | 'unreadable', holder: LockHolder): boolean {
  return now !== 'gone' && now !== 'unreadable' && now.pid === holder.pid && now.host === holder.host && now.since === holder.since;
}

function hold(path: string, self: LockHolder, refreshMs: number): DirLock {
  heldHere.add(path);
  const refresh = setInterval(() => {
    const t = new Date();
    try {
      utimesSync(path, t, t);
    } catch {
      // Removed under us (a person cleaning the directory): write it again, unless someone else has.
      try {
        writeFileSync(path, `${JSON.stringify(self)}\n`, { flag: 'wx', mode: 0o600 });
      } catch {
        // another node took it; its own start checked ours was gone
      }
    }
  }, refreshMs);
  refresh.unref();
  return {
    path,
    release(): void {
      clearInterval(refresh);
      if (!heldHere.delete(path)) return;
      if (sameHolder(readHolder(path), self)) {
        try {
          unlinkSync(path);
        } catch {
          // gone already
        }
      }
    },
  };
}

/**
 * Free loopback ports for tests and benchmarks that start real daemons: all `n` are bound at once
 * (so they are distinct), then released. They are drawn from outside the kernel's ephemeral range:
 * between the release and the daemon's bind, any outgoing connection on the machine may be given
 * an ephemeral port, and a port from port 0 is one of those (a CI run's dev cluster once found its
 * first port taken). And each is claimed for as long as the process that drew it lives (claimPorts):
 * test files run in parallel processes, and one that drew a port it bound only a minute later
 * found it taken by a daemon of another file that had drawn it meanwhile (health-endpoints.test.ts,
 * "the peer port ... is already in use"). A process that picks ports another way can still take one
 * in between; the daemon then exits with status 2 naming the port.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';

/** Lowest port drawn: above the well-known and most registered service ports. */
const FIRST_PORT = 20_000;
/** Binds tried per port wanted before giving up (a port is taken only now and then). */
const ATTEMPTS_PER_PORT = 50;

/**
 * The kernel's ephemeral range: Linux's ip_local_port_range, or, where that is unreadable (not
 * Linux), null, and only ports below 32,768 are drawn (every common kernel's range starts there or
 * above: Linux 32,768, macOS and Windows 49,152).
 */
function readEphemeralRange(): [number, number] | null {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 1024 && high! >= low!) return [low!, high!];
  } catch {
    // Not Linux, or no /proc.
  }
  return null;
}

/** Read once: a freePorts call would otherwise read it again for every port it tries. */
let ephemeralRange: [number, number] | null | undefined;

/**
 * A random port such that `port .. port + span - 1` are all outside the ephemeral range and at
 * most `max`: below the range from 20,000 up, or above it, uniformly over both. Throws when neither
 * has room.
 */
export function randomPortOutsideEphemeral(span = 1, max = 65_535): number {
  if (ephemeralRange === undefined) ephemeralRange = readEphemeralRange();
  const [low, high] = ephemeralRange ?? [32_768, 65_535];
  // Each stretch is [first, last] for the first port of the span.
  const top = max + 1 - span;
  const stretches = ([[FIRST_PORT, Math.min(low - span, top)], [high + 1, top]] as const).filter(([first, last]) => last >= first);
  const choices = stretches.reduce((n, [first, last]) => n + last - first + 1, 0);
  if (choices === 0) throw new Error(`no room for ${span} port${span === 1 ? '' : 's'} outside the ephemeral range ${low}-${high}`);
  let pick = Math.floor(Math.random() * choices);
  for (const [first, last] of stretches) {
    if (pick <= last - first) return first + pick;
    pick -= last - first + 1;
  }
  throw new Error('unreachable: the pick is below the number of choices');
}

/** Listens on `port`, or null when it is taken (or not ours to take); any other error (a host that is not ours, say) is thrown. */
function tryListen(host: string, port: number): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(null) : reject(error)));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

/** Whether `port` can be bound on `host` now. */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = await tryListen(host, port);
  if (server === null) return false;
  await new Promise((resolve) => server.close(resolve));
  return true;
}

/** Where claims are kept: one file per claimed port, holding the claiming process's pid. */
const CLAIMS_DIR = join(tmpdir(), 'shoal-port-claims');
/** This process's claims, removed when it exits. */
const ownClaims = new Set<number>();
/** Whether the exit hook that releases them is in place: once per process, however often the claims empty and fill again. */
let releaseOnExit = false;

function releaseOwnClaims(): void {
  for (const port of ownClaims) {
    try {
      unlinkSync(join(CLAIMS_DIR, String(port)));
    } catch {
      // Already gone (a peer found it stale): nothing to release.
    }
  }
  ownClaims.clear();
}

/** Whether the process `pid` is alive (on this machine). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process: false when a live process (this one included) has. A claim whose process died is taken over. */
function claimPort(port: number): boolean {
  if (ownClaims.has(port)) return false;
  const file = join(CLAIMS_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (!releaseOnExit) {
        process.once('exit', releaseOwnClaims);
        releaseOnExit = true;
      }
      ownClaims.add(port);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      // Released meanwhile: try again.
      continue;
    }
    // A claim just created may not hold its pid yet (NaN): leave it to its owner.
    if (!Number.isInteger(holder) || processAlive(holder)) return false;
    try {
      unlinkSync(file);
    } catch {
      // Another process took the stale claim over first; the retry's create decides.
    }
  }
  return false;
}

/**
 * Claims every port of `ports` for this process until it exits, or none (false) when another live
 * process that draws ports through this module holds one, or this process already does. The
 * claims are files in the temporary directory, so parallel test files share them.
 */
export function claimPorts(ports: readonly number[]): boolean {
  mkdirSync(CLAIMS_DIR, { recursive: true });
  const claimed: number[] = [];
  for (const port of ports) {
    if (!claimPort(port)) {
      for (const c of claimed) {
        ownClaims.delete(c);
        unlinkSync(join(CLAIMS_DIR, String(c)));
      }
      return false;
    }
    claimed.push(port);
  }
  return true;
}

/** `n` distinct free ports on `host`, outside the ephemeral range, each claimed for this process (claimPorts). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  const ports = new Set<number>();
  try {
    for (let attempt = 0; ports.size < n; attempt++) {
      if (attempt === ATTEMPTS_PER_PORT * n) throw new Error(`found only ${ports.size} of ${n} free ports on ${host} in ${attempt} tries`);
      const port = randomPortOutsideEphemeral();
      if (ports.has(port)) continue;
      const server = await tryListen(host, port);
      if (server === null) continue;
      servers.push(server);
      if (!claimPorts([port])) continue;
      ports.add(port);
    }
    return [...ports];
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

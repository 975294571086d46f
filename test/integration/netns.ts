/**
 * A network for real daemons that a test can partition: one Linux network namespace per node, a
 * veth pair between every two nodes (so n1-n2 can be cut while n1-n3 and n2-n3 stay up) and one
 * from each node to the test's own namespace (where the SDK clients run; cut it for a client-side
 * partition). Needs root and iproute2 (`ip`); no tc, iptables or nft.
 *
 * Addresses come from 198.18.0.0/15 (RFC 2544's benchmarking range, routed nowhere), one /27 block
 * per run, chosen from the pid and checked against the addresses and routes already here. Node i
 * (0-based) listens on BASE+1+i, a /32 on its namespace's loopback, and reaches each peer through
 * their own veth pair by a host route; the link to the test's namespace is a /30
 * (BASE+8+4i: .+1 the test's end, .+2 the node's). No namespace has a default route and nothing
 * forwards, so a cut link has no way around it.
 *
 * A cut sets both ends of the veth pair down and puts an `unreachable` route where the host route
 * was on each side: new connections fail at once, established ones lose every packet until they
 * time out, and nothing leaks out by the test namespace's default route. A heal sets the links up
 * and puts the routes back. Namespaces and links are named after the pid (`shoal-nemesis-PID-nI`,
 * `shnPIDcI`): `remove` deletes them (the test's `t.after`; an exit hook is the last resort), and
 * `create` first removes those of runs whose process is gone, with the daemons left in them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NS_PREFIX = 'shoal-nemesis-';
const LINK_PREFIX = 'shn';

/** Namespaces made and not yet deleted: the last resort, at exit, deletes them (their links go with them). */
const live = new Set<string>();
process.on('exit', () => {
  for (const ns of live) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // Nothing more to do on the way out; the next run's removeStale tries again.
    }
  }
});

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args, { timeout: 10_000 })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: error });
  }
}

/**
 * Why namespaces cannot be made here (not root, no `ip`, or `ip netns add` refused), or null when
 * they can. Tries it: a container may refuse it even to root.
 */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.platform !== 'linux') return `network namespaces are Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); this runs as a user';
  try {
    await run('ip', ['-V']);
  } catch {
    return 'iproute2 is not installed (no `ip` command)';
  }
  const probe = `${NS_PREFIX}${process.pid}-probe`;
  try {
    await ip('netns', 'add', probe);
  } catch (error) {
    return `ip netns add failed: ${(error as Error).message}`;
  } finally {
    await ip('netns', 'del', probe).catch(() => undefined);
  }
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the namespaces and test-side links of earlier runs whose process has gone (a crash, a
 * SIGKILL), after SIGKILLing what still runs in those namespaces: that run's daemons, orphaned
 * (only processes inside this test's own namespaces, by pid).
 */
async function removeStale(): Promise<void> {
  for (const line of (await ip('netns', 'list')).split('\n')) {
    const m = new RegExp(`^(${NS_PREFIX}(\\d+)-\\S+)`).exec(line);
    if (!m || pidAlive(Number(m[2]))) continue;
    const pids = (await ip('netns', 'pids', m[1]!).catch(() => '')).split('\n').filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await ip('netns', 'del', m[1]!).catch(() => undefined);
  }
  for (const line of (await ip('-o', 'link', 'show')).split('\n')) {
    const m = new RegExp(`^\\d+: (${LINK_PREFIX}(\\d+)c\\d+)[@:]`).exec(line);
    if (m && !pidAlive(Number(m[2]))) await ip('link', 'del', m[1]!).catch(() => undefined);
  }
}

function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A /27 in 198.18.0.0/15 that no address or route here mentions yet. */
async function freeBlock(): Promise<number> {
  const taken = `${await ip('-4', '-o', 'addr', 'show')}\n${await ip('-4', 'route', 'show', 'table', 'all')}`;
  const base = (198 << 24) | (18 << 16);
  const blocks = (1 << 17) / 32;
  for (let i = 0; i < 64; i++) {
    const block = (base + ((process.pid + i * 97) % blocks) * 32) >>> 0;
    const prefix = dotted(block).split('.').slice(0, 3).join('.');
    const used = [...taken.matchAll(/\b198\.1[89]\.\d+\.(\d+)/g)].some((m) => m[0].startsWith(`${prefix}.`) && Number(m[1]) >= (block & 255) && Number(m[1]) < (block & 255) + 32);
    if (!used) return block;
  }
  throw new Error('no free /27 in 198.18.0.0/15');
}

export class PartitionableNetwork {
  private constructor(
    private readonly count: number,
    private readonly block: number,
  ) {}

  /** Makes the namespaces and links for `count` nodes (at most 5: a /27 holds their addresses). */
  static async create(count: number): Promise<PartitionableNetwork> {
    if (count < 1 || count > 5) throw new Error(`PartitionableNetwork: 1 to 5 nodes, not ${count}`);
    await removeStale();
    const net = new PartitionableNetwork(count, await freeBlock());
    try {
      await net.build();
    } catch (error) {
      await net.remove();
      throw error;
    }
    return net;
  }

  /** Node i's namespace. */
  namespace(i: number): string {
    return `${NS_PREFIX}${process.pid}-n${i + 1}`;
  }

  /** The address node i listens on, in its namespace. */
  address(i: number): string {
    return dotted(this.block + 1 + i);
  }

  /** The daemon harness's placement of node i (NodeSpec.placement). */
  placement(i: number): { host: string; netns: string } {
    return { host: this.address(i), netns: this.namespace(i) };
  }

  /** The test namespace's end of the link to node i. */
  private clientLink(i: number): string {
    return `${LINK_PREFIX}${process.pid}c${i + 1}`;
  }

  private clientSide(i: number): string {
    return dotted(this.block + 8 + 4 * i + 1);
  }

  private nodeSide(i: number): string {
    return dotted(this.block + 8 + 4 * i + 2);
  }

  /** Node i's end of its link to node j (names are per namespace). */
  private peerLink(i: number, j: number): string {
    return `p${j + 1}`;
  }

  private async build(): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const ns = this.namespace(i);
      await ip('netns', 'add', ns);
      live.add(ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'addr', 'add', `${this.address(i)}/32`, 'dev', 'lo');
      await ip('link', 'add', this.clientLink(i), 'type', 'veth', 'peer', 'name', 'client', 'netns', ns);
      await ip('addr', 'add', `${this.clientSide(i)}/30`, 'dev', this.clientLink(i));
      await ip('-n', ns, 'addr', 'add', `${this.nodeSide(i)}/30`, 'dev', 'client');
      for (let j = 0; j < i; j++) {
        await ip('link', 'add', this.peerLink(i, j), 'netns', ns, 'type', 'veth', 'peer', 'name', this.peerLink(j, i), 'netns', this.namespace(j));
      }
    }
    for (let i = 0; i < this.count; i++) {
      await this.healClient(i);
      for (let j = 0; j < i; j++) await this.healPeers(i, j);
    }
  }

  /** Cuts nodes i and j off from each other. */
  async cutPeers(i: number, j: number): Promise<void> {
    for (const [a, b] of [[i, j], [j, i]] as const) {
      await ip('-n', this.namespace(a), 'link', 'set', this.peerLink(a, b), 'down');
      await ip('-n', this.namespace(a), 'route', 'replace', 'unreachable', `${this.address(b)}/32`);
    }
  }

  async healPeers(i: number, j: number): Promise<void> {
    for (const [a, b] of [[i, j], [j, i]] as const) await ip('-n', this.namespace(a), 'link', 'set', this.peerLink(a, b), 'up');
    for (const [a, b] of [[i, j], [j, i]] as const) {
      await ip('-n', this.namespace(a), 'route', 'replace', `${this.address(b)}/32`, 'dev', this.peerLink(a, b), 'src', this.address(a));
    }
  }

  /** Cuts node i off from the test's namespace (its SDK clients). */
  async cutClient(i: number): Promise<void> {
    await ip('link', 'set', this.clientLink(i), 'down');
    await ip('-n', this.namespace(i), 'link', 'set', 'client', 'down');
    await ip('route', 'replace', 'unreachable', `${this.address(i)}/32`);
  }

  async healClient(i: number): Promise<void> {
    await ip('link', 'set', this.clientLink(i), 'up');
    await ip('-n', this.namespace(i), 'link', 'set', 'client', 'up');
    await ip('route', 'replace', `${this.address(i)}/32`, 'via', this.nodeSide(i), 'dev', this.clientLink(i));
  }

  /** Heals every link. */
  async healAll(): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      await this.healClient(i);
      for (let j = 0; j < i; j++) await this.healPeers(i, j);
    }
  }

  /**
   * Deletes the namespaces (and with them every veth pair: deleting one end deletes both) and the
   * host route to each node; whatever was made, even by a create that failed halfway.
   */
  async remove(): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      await ip('route', 'del', `${this.address(i)}/32`).catch(() => undefined);
      await ip('link', 'del', this.clientLink(i)).catch(() => undefined);
      await ip('netns', 'del', this.namespace(i)).catch(() => undefined);
      live.delete(this.namespace(i));
    }
  }
}

// A raw RESP connection for byte-for-byte comparisons with redis-server, and a redis-server to
// compare with (resp-differential, resp-maxmemory and slow-log tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { after, before } from 'node:test';
import { claimPorts, freePorts, isPortFree, randomPortOutsideEphemeral } from '../../src/daemon/ports.ts';
import type { KeyspaceService } from '../../src/replication/api.ts';
import { startRespServer, type RespServer, type RespServerOptions } from '../../src/resp/server.ts';
import { MemoryKv } from '../../src/server/memory-kv.ts';

export type Arg = string | Uint8Array;

/** Commands as multibulk, each reply read back as its exact bytes (latin1). */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiting?.();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  async command(args: Arg[]): Promise<string> {
    this.send(args);
    return this.read(args.map(String).join(' '));
  }

  /** Sends one command without waiting for its reply (a pipeline: `read` the replies in order). */
  send(args: Arg[]): void {
    const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
    for (const arg of args) {
      const bytes = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : Buffer.from(arg);
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
    }
    this.socket.write(Buffer.concat(parts));
  }

  /** Sends raw bytes (part of a command, or a malformed one). */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next reply, solicited or not (a Pub/Sub message, a push); `what` names it in the timeout error. */
  async read(what = 'a message'): Promise<string> {
    for (;;) {
      const end = replyEnd(this.buffer, 0);
      if (end !== -1) {
        const reply = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end);
        return reply;
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${what}`)), 10_000);
        this.waiting = () => {
          clearTimeout(timer);
          this.waiting = null;
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Where the RESP2 or RESP3 reply starting at `at` ends, or -1 if it is not all there yet. */
export function replyEnd(buffer: Buffer, at: number): number {
  const line = buffer.indexOf('\r\n', at);
  if (line === -1) return -1;
  const type = String.fromCharCode(buffer[at]!);
  const header = buffer.subarray(at + 1, line).toString('latin1');
  if ('+-:_,#('.includes(type)) return line + 2;
  const n = Number(header);
  if ('$=!'.includes(type)) return n < 0 ? line + 2 : buffer.length >= line + 2 + n + 2 ? line + 2 + n + 2 : -1;
  if ('*~>%'.includes(type)) {
    let pos = line + 2;
    const elements = type === '%' ? 2 * n : n;
    for (let i = 0; i < elements; i++) {
      pos = replyEnd(buffer, pos);
      if (pos === -1) return -1;
    }
    return pos;
  }
  throw new Error(`unexpected reply type ${JSON.stringify(type)}`);
}

/** Redis Cluster's bus port is the client port + 10,000, so a cluster-enabled redis-server refuses a port above 55,535. */
const CLUSTER_BUS_OFFSET = 10_000;

/**
 * A port for a cluster-enabled redis-server: at most 55,535, outside the ephemeral range as
 * freePorts' are, with its bus port free as well.
 */
export async function freeClusterRedisPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomPortOutsideEphemeral(1, 65_535 - CLUSTER_BUS_OFFSET);
    if ((await isPortFree(port)) && (await isPortFree(port + CLUSTER_BUS_OFFSET)) && claimPorts([port, port + CLUSTER_BUS_OFFSET])) return port;
  }
  throw new Error('no free port pair for a cluster-enabled redis-server');
}

/** Starts redis-server on `port` without persistence; resolves once it accepts connections. */
export function startRedis(port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
}

/** Raw connections to a redis-server and to a RESP server of this process, for byte-for-byte comparisons. */
export interface RedisBeside {
  toRedis: RawConnection;
  toShoal: RawConnection;
  /** Where to open more connections (RawConnection.open). */
  redisPort: number;
  shoalPort: number;
}

/**
 * Registers before/after hooks that start a redis-server and an in-process RESP server over a
 * MemoryKv (with `options`, e.g. an ACL store), each with one raw connection, and stop them after
 * the file's tests. The returned object's connections are set once the `before` hook has run.
 */
export function redisBesideShoal(options: Partial<RespServerOptions> = {}): RedisBeside {
  const pair = {} as RedisBeside;
  let redis: ChildProcess | undefined;
  let server: RespServer | undefined;
  before(async () => {
    const [redisPort] = await freePorts(1);
    redis = await startRedis(redisPort!);
    server = await startRespServer({ keyspace: new MemoryKv() as unknown as KeyspaceService, port: 0, ...options });
    pair.redisPort = redisPort!;
    pair.shoalPort = server.port;
    pair.toRedis = await RawConnection.open(redisPort!);
    pair.toShoal = await RawConnection.open(server.port);
  });
  after(async () => {
    pair.toRedis?.close();
    pair.toShoal?.close();
    redis?.kill('SIGKILL');
    await server?.close();
  });
  return pair;
}

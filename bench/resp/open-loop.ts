/**
 * An open-loop RESP load generator, run as its own process so that its event loop is not the
 * server's: requests are due on a fixed schedule (`--rate` per second, spread evenly), each is
 * sent as soon as it is due whatever is still outstanding, and its latency counts from when it was
 * *due*, not when it went out, so a stall of the server counts against every request it held up
 * (no coordinated omission). Raw RESP over a few connections (no client library in the way); the
 * workload alternates SET and GET of `--value-bytes` values over `--keyspace` random keys.
 *
 *   node --import tsx bench/resp/open-loop.ts [--port 6379] [--rate 10000] [--host 127.0.0.1]
 *     [--seconds 5] [--warmup-seconds 1] [--connections 4] [--keyspace 100000] [--value-bytes 100]
 *
 * Prints one JSON object (OpenLoopResult) on stdout. To see sub-millisecond latencies it cannot
 * sleep on a timer (Node's timers are millisecond-grained): it polls the clock from setImmediate,
 * which keeps one core busy for the length of the run. Latencies include that polling (a few
 * microseconds) and the generator's own parsing.
 */
import { connect, type Socket } from 'node:net';
import { benchArgs, positive } from '../help.ts';

export interface OpenLoopResult {
  host: string;
  port: number;
  /** Requests per second asked for. */
  rate: number;
  seconds: number;
  connections: number;
  /** Requests due in the measured window (after the warm-up), and of those: */
  measured: number;
  /** answered with an error reply. */
  errors: number;
  /** not answered within the drain period after the run. */
  unanswered: number;
  /** Requests answered per second over the whole run. */
  achievedRate: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

const CRLF = Buffer.from('\r\n');
/** Distinct pre-encoded requests (random keys); more than a run's keyspace sample needs to look random. */
const REQUEST_POOL = 65_536;

/** One RESP command as a multibulk. */
function encode(parts: (string | Buffer)[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    chunks.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(chunks);
}

/**
 * Counts complete replies at the front of `buffer` (simple, error, integer and bulk replies: what
 * SET and GET answer). Returns how many, how many were errors, and how many bytes they took.
 */
function scanReplies(buffer: Buffer): { replies: number; errors: number; consumed: number } {
  let offset = 0;
  let replies = 0;
  let errors = 0;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, offset);
    if (lineEnd < 0) break;
    const type = buffer[offset];
    let end = lineEnd + 2;
    if (type === 0x24 /* $ */) {
      const length = Number(buffer.toString('latin1', offset + 1, lineEnd));
      if (length >= 0) {
        end += length + 2;
        if (end > buffer.length) break;
      }
    } else if (type === 0x2d /* - */) {
      errors++;
    } else if (type !== 0x2b /* + */ && type !== 0x3a /* : */) {
      throw new Error(`unexpected reply type ${String.fromCharCode(type ?? 0)} from the server`);
    }
    offset = end;
    replies++;
  }
  return { replies, errors, consumed: offset };
}

interface Connection {
  socket: Socket;
  /** Due times (performance.now() ms) of the requests sent and not yet answered, oldest first. */
  due: number[];
  head: number;
  pending: Buffer[];
  leftover: Buffer;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const flags = benchArgs('node --import tsx bench/resp/open-loop.ts', {
    port: { kind: 'integer', value: 'PORT', description: "the server's RESP port", default: 6379, check: positive },
    rate: { kind: 'number', value: 'N', description: 'requests due per second', default: 10_000, check: positive },
    host: { kind: 'string', description: "the server's address", default: '127.0.0.1' },
    seconds: { kind: 'number', value: 'S', description: 'length of the measured run', default: 5, check: positive },
    'warmup-seconds': { kind: 'number', value: 'S', description: 'unmeasured run before it', default: 1 },
    connections: { kind: 'integer', value: 'N', description: 'connections the requests are spread over', default: 4, check: positive },
    keyspace: { kind: 'integer', value: 'N', description: 'random keys the requests use', default: 100_000, check: positive },
    'value-bytes': { kind: 'integer', value: 'N', description: 'bytes of each SET value', default: 100, check: positive },
  });
  const host = String(flags.host);
  const port = Number(flags.port);
  const rate = Number(flags.rate);
  const seconds = Number(flags.seconds);
  const warmupSeconds = Number(flags['warmup-seconds']);
  const connectionCount = Number(flags.connections);
  const keyspace = Number(flags.keyspace);
  const value = Buffer.alloc(Number(flags['value-bytes']), 'x');

  const connections: Connection[] = await Promise.all(
    Array.from(
      { length: connectionCount },
      () =>
        new Promise<Connection>((resolve, reject) => {
          const socket = connect({ host, port, noDelay: true }, () => resolve({ socket, due: [], head: 0, pending: [], leftover: Buffer.alloc(0) }));
          socket.once('error', reject);
        }),
    ),
  );

  // Times are performance.now() milliseconds (microsecond resolution); numbers, not bigints, so
  // that the generator allocates little per request.
  const intervalMs = 1000 / rate;
  const start = performance.now() + 10; // 10 ms to settle
  const measureFrom = start + warmupSeconds * 1000;
  const stopAt = measureFrom + seconds * 1000;
  const latenciesUs = new Float64Array(Math.ceil(rate * seconds) + 16);
  let measured = 0;
  let recorded = 0;
  let errors = 0;
  let answered = 0;
  let lastAnswer = start;

  for (const c of connections) {
    c.socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      const buffer = c.leftover.length > 0 ? Buffer.concat([c.leftover, chunk]) : chunk;
      const { replies, errors: failed, consumed } = scanReplies(buffer);
      c.leftover = buffer.subarray(consumed);
      for (let i = 0; i < replies; i++) {
        const due = c.due[c.head++]!;
        if (due >= measureFrom && due < stopAt) latenciesUs[recorded++] = (now - due) * 1000;
      }
      if (c.head > 4096 && c.head * 2 > c.due.length) {
        c.due = c.due.slice(c.head);
        c.head = 0;
      }
      errors += failed;
      answered += replies;
      lastAnswer = now;
    });
    c.socket.on('error', (error) => {
      process.stderr.write(`open-loop: ${error.message}\n`);
      process.exit(1);
    });
  }

  // Requests are encoded up front and cycled through, so that issuing one allocates nothing (the
  // generator's own garbage collections would otherwise show up as latency).
  const pool = Array.from({ length: REQUEST_POOL }, (_, i) => {
    const key = `key:${Math.floor(Math.random() * keyspace)}`;
    return encode(i % 2 === 0 ? ['SET', key, value] : ['GET', key]);
  });
  let next = start;
  let sequence = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next <= now && next < stopAt) {
        const c = connections[sequence % connectionCount]!;
        c.pending.push(pool[sequence % REQUEST_POOL]!);
        c.due.push(next);
        if (next >= measureFrom) measured++;
        next = start + (sequence + 1) * intervalMs;
        sequence++;
      }
      for (const c of connections) {
        if (c.pending.length === 0) continue;
        c.socket.cork();
        for (const request of c.pending) c.socket.write(request);
        c.socket.uncork();
        c.pending.length = 0;
      }
      if (next >= stopAt) resolve();
      else setImmediate(tick);
    };
    setImmediate(tick);
  });

  // Drain: wait for outstanding replies, but not for ever (a server that stopped answering).
  const drainUntil = Date.now() + 10_000;
  while (answered < sequence && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 5));
  for (const c of connections) c.socket.destroy();

  const sorted = latenciesUs.subarray(0, recorded).sort();
  const result: OpenLoopResult = {
    host,
    port,
    rate,
    seconds,
    connections: connectionCount,
    measured,
    errors,
    unanswered: sequence - answered,
    achievedRate: Math.round(answered / ((lastAnswer - start) / 1000)),
    p50Us: Math.round(percentile(sorted, 50)),
    p99Us: Math.round(percentile(sorted, 99)),
    p999Us: Math.round(percentile(sorted, 99.9)),
    maxUs: Math.round(sorted[sorted.length - 1] ?? NaN),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`open-loop: ${error.message}\n`);
  process.exit(1);
});

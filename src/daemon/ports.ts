/**
 * Free loopback ports for tests and benchmarks that start real daemons: all `n` are bound to port 0
 * at once (so they are distinct), then released. Another process can still take one in between;
 * the daemon then exits with status 2 naming the port, which is why callers retry a start rather
 * than trust the port blindly.
 */
import { createServer, type Server } from 'node:net';

export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: 0, exclusive: true }, resolve);
      });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

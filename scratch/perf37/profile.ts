/**
 * Profiles all three nodes of a 3-node N=3 W=2 cluster under one redis-benchmark load (perf37's
 * scratch). profiled-shoal.mjs runs each node under the V8 profiler; each is stopped with SIGTERM so it writes
 * its profile. Then prints each node's summary (bench/resp/profile-summary.ts).
 *
 *   node --import tsx scratch/perf37/profile.ts set 1 20000 /tmp/perf37-prof-set
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startShoal } from '../../bench/resp/processes.ts';
import { runRedisBenchmark } from '../../bench/resp/redis-benchmark.ts';
import { formatProfile, readProfile, summariseProfile } from '../../bench/resp/profile-summary.ts';

const [test = 'set', pipeline = '1', requests = '20000', dir = '/tmp/perf37-prof'] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });
process.env.PERF37_PROF_DIR = dir;
process.env.PERF37_SHOAL_BIN ??= new URL('../../packages/server/bin/shoal.js', import.meta.url).pathname;
const bin = new URL('./profiled-shoal.mjs', import.meta.url).pathname;
const servers = await startShoal({ nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2, firstPort: 42000, bin });
// Warm-up (V8 compiles as it goes), unprofiled.
await runRedisBenchmark(servers.resp[0]!, { tests: [test], clients: 50, pipeline: Number(pipeline), requests: Number(requests), valueBytes: 100, keyspace: 100_000, cluster: true });
for (const pid of servers.pids) process.kill(pid, 'SIGUSR2');
const result = await runRedisBenchmark(servers.resp[0]!, { tests: [test], clients: 50, pipeline: Number(pipeline), requests: Number(requests), valueBytes: 100, keyspace: 100_000, cluster: true });
console.log(JSON.stringify(result));
for (const pid of servers.pids) process.kill(pid, 'SIGUSR2');
await new Promise((r) => setTimeout(r, 3000));
await servers.stop();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  console.log(`\n== ${file}`);
  console.log(formatProfile(summariseProfile(readProfile(join(dir, file)), 40)));
}

// One-off probe (scratch/resp40/README.md): 20 connections pipeline 2,000 GETs of a 1 MB value and never read; the node's RSS.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, sleep } from '../../test/integration/daemon-harness.ts';
import { RawConnection } from '../../test/integration/resp-raw.ts';

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const [port, peerPort, respPort] = await freePorts(3);
const node = new DaemonProcess({ name: 'probe', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
await node.start();
const c = await RawConnection.open(respPort!);
await c.command(['SET', 'big', 'x'.repeat(1_000_000)]);
console.log('rss before', rss(node.pid!).toFixed(0), 'MB');
const sockets = [];
for (let i = 0; i < 20; i++) {
  const s = connect({ host: '127.0.0.1', port: respPort! });
  s.pause();
  s.write('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(2000));
  sockets.push(s);
}
// Until every connection's GETs in flight have answered (all 20 paused), or 90 s.
let info = '';
for (let i = 0; i < 90; i++) {
  await sleep(1000);
  info = await c.command(['INFO', 'all']);
  const calls = Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
  const started = Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
  if (calls > 0 && started - calls <= i + 2) break;
}
console.log('rss after', rss(node.pid!).toFixed(0), 'MB', /resp_peak_connection_buffer_bytes:\d+/.exec(info)?.[0], /cmdstat_get:calls=\d+/.exec(info)?.[0], /connected_clients:\d+/.exec(info)?.[0]);
for (const s of sockets) s.destroy();
c.close();
await node.stop();

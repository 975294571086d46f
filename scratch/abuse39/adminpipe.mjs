import net from 'node:net';
import { readFileSync } from 'node:fs';
const PID = Number(readFileSync('/tmp/abuse39/pid', 'utf8'));
const rss = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${PID}/status`, 'utf8'))[1]) / 1024);
const path = process.argv[2] ?? '/metrics';
const n = Number(process.argv[3] ?? 5000);
const before = rss();
const s = net.connect(23415, '127.0.0.1', () => { s.pause(); s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(n)); });
s.on('error', (e) => console.log('err', e.code));
let peak = before;
for (let i = 0; i < 16; i++) { await new Promise((r) => setTimeout(r, 500)); peak = Math.max(peak, rss()); }
let ok; try { ok = (await fetch('http://127.0.0.1:23415/healthz', { signal: AbortSignal.timeout(3000) })).status; } catch (e) { ok = e.message; }
console.log(path, n, 'pipelined unread: rss', before, 'peak', peak, 'other client', ok, 'socket bytesWritten', s.bytesWritten);
s.destroy();

import net from 'node:net';
import { readFileSync } from 'node:fs';
const PID = Number(readFileSync('/tmp/abuse39/pid', 'utf8'));
const rss = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${PID}/status`, 'utf8'))[1]) / 1024);
const v = 'v'.repeat(1000000);
await new Promise((r) => { const s = net.connect(24425, '127.0.0.1', () => s.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${v.length}\r\n${v}\r\n`)); s.once('data', (d) => { console.log('set', String(d).trim()); s.destroy(); r(); }); });
const before = rss();
const socks = [];
for (let c = 0; c < Number(process.argv[2] ?? 20); c++) { const s = net.connect(24425, '127.0.0.1', () => { s.pause(); s.write('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(2000)); }); s.on('error', () => {}); socks.push(s); }
let peak = before;
for (let i = 0; i < 10; i++) { await new Promise((r) => setTimeout(r, 500)); peak = Math.max(peak, rss()); }
const ping = await new Promise((r) => { const s = net.connect(24425, '127.0.0.1', () => s.write('PING\r\n')); s.once('data', (d) => { r(String(d).trim()); s.destroy(); }); });
console.log('conns x 2000 GET of 1MB unread: rss', before, 'peak', peak, 'ping', ping);
for (const s of socks) s.destroy();

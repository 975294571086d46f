import net from 'node:net';
import { readFileSync } from 'node:fs';
const [WS, PEER, RESP, ADMIN] = [24790, 63521, 24425, 23415];
const PID = Number(readFileSync('/tmp/abuse39/pid', 'utf8'));
const rss = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${PID}/status`, 'utf8'))[1]) / 1024);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function respPing() {
  return new Promise((resolve) => {
    const s = net.connect(RESP, '127.0.0.1', () => s.write('*1\r\n$4\r\nPING\r\n'));
    let t = ''; const timer = setTimeout(() => { s.destroy(); resolve('TIMEOUT'); }, 3000);
    s.on('data', (d) => { t += d; if (t.endsWith('\r\n')) { clearTimeout(timer); s.destroy(); resolve(t.trim()); } });
    s.on('error', (e) => { clearTimeout(timer); resolve('ERR ' + e.message); });
  });
}
async function admin() { try { const r = await fetch(`http://127.0.0.1:${ADMIN}/healthz`, { signal: AbortSignal.timeout(3000) }); return r.status; } catch (e) { return 'ERR ' + e.message; } }
/** Sends bytes, returns what came back within ms and whether it closed. */
function send(port, bytes, ms = 1500) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    let got = Buffer.alloc(0); let closed = false;
    s.on('data', (d) => (got = Buffer.concat([got, d])));
    s.on('close', () => { closed = true; });
    s.on('error', () => {});
    setTimeout(() => { s.destroy(); resolve({ got: got.toString('latin1').slice(0, 200).replace(/\r\n/g, '\\r\\n'), closed }); }, ms);
  });
}
const hello = Buffer.from('16030100f4010000f00303' + '00'.repeat(32) + '00000a130113021303c02bc02f0100009d0000000e000c0000096c6f63616c686f7374', 'hex');
const rnd = Buffer.alloc(4096); for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 2654435761) >>> 24;
const ports = { WS, PEER, RESP, ADMIN };
const what = process.argv[2];
if (what === 'wrong') {
  for (const [name, port] of Object.entries(ports)) {
    for (const [label, bytes] of [['http', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'], ['resp', '*1\r\n$4\r\nPING\r\n'], ['tls', hello], ['random', rnd]]) {
      const r = await send(port, bytes);
      console.log(name, label, JSON.stringify(r), 'ping', await respPing(), 'admin', await admin(), 'rss', rss());
    }
  }
}
if (what === 'idle') {
  for (const [name, port] of Object.entries(ports)) {
    const before = rss(); const socks = [];
    for (let i = 0; i < 2000; i++) { const s = net.connect(port, '127.0.0.1'); s.on('error', () => {}); socks.push(s); if (i % 200 === 0) await sleep(50); }
    await sleep(1500);
    console.log(name, 'idle 2000', 'open', socks.filter((s) => !s.destroyed).length, 'ping', await respPing(), 'admin', await admin(), 'rss', before, '->', rss());
    for (const s of socks) s.destroy();
    await sleep(500);
  }
}
if (what === 'reset') {
  for (const [name, port] of Object.entries(ports)) {
    const before = rss();
    for (let i = 0; i < 1000; i++) { await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.resetAndDestroy(); r(); }); s.on('error', () => r()); }); }
    console.log(name, 'reset x1000', 'ping', await respPing(), 'admin', await admin(), 'rss', before, '->', rss());
  }
}
if (what === 'slow') {
  // slowloris: one byte a second on each port for 8 s, then check others served
  const socks = Object.entries(ports).map(([name, port]) => { const s = net.connect(port, '127.0.0.1'); s.on('error', () => {}); s.on('close', () => console.log(name, 'slow closed')); return s; });
  const text = 'GET /healthz HTTP/1.1\r\nHost: x\r\n';
  for (let i = 0; i < 8; i++) { for (const s of socks) s.write(text[i]); await sleep(1000); }
  console.log('during slow: ping', await respPing(), 'admin', await admin());
  for (const s of socks) s.destroy();
}
if (what === 'admin-big') {
  for (const [label, bytes] of [['url 1MB', `GET /${'a'.repeat(1 << 20)} HTTP/1.1\r\nHost: x\r\n\r\n`], ['headers 1MB', `GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(1 << 17)}\r\n`], ['body 8MB POST', `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608\r\n\r\n${'a'.repeat(1 << 23)}`], ['TRACE', 'TRACE / HTTP/1.1\r\nHost: x\r\n\r\n'], ['unknown path', 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n'], ['CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n']]) {
    for (const [name, port] of [['ADMIN', ADMIN], ['WS', WS]]) {
      const r = await send(port, bytes);
      console.log(name, label, JSON.stringify(r).slice(0, 250), 'rss', rss());
    }
  }
  console.log('ping', await respPing(), 'admin', await admin());
}

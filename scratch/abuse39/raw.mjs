import net from 'node:net';
const [port, text] = [Number(process.argv[2]), process.argv[3].replace(/\\r\\n/g, '\r\n')];
const s = net.connect(port, '127.0.0.1', () => s.write(text));
let got = '';
s.on('data', (d) => (got += d));
s.on('error', (e) => console.log('error', e.code));
s.on('close', () => { console.log('closed', JSON.stringify(got)); process.exit(0); });
setTimeout(() => { console.log('open', JSON.stringify(got)); process.exit(0); }, 1000);

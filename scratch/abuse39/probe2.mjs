import net from 'node:net';
const RESP = 24425;
function send(bytes, ms = 1500) {
  return new Promise((resolve) => {
    const s = net.connect(RESP, '127.0.0.1', () => s.write(bytes));
    let got = ''; let closed = false;
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('close', () => { closed = true; });
    s.on('error', () => {});
    setTimeout(() => { s.destroy(); resolve({ got: got.slice(0, 200), closed }); }, ms);
  });
}
console.log('mbulk 2^31', await send('*2147483648\r\n'));
console.log('mbulk 1048575', await send('*1048575\r\n$3\r\nGET\r\n'));
console.log('bulk 2^40', await send('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1099511627776\r\nabc'));
console.log('inline 4MB', await send('a'.repeat(4 << 20)));
console.log('value just over 1MiB', await send(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${(1 << 20) + 1}\r\n${'v'.repeat((1 << 20) + 1)}\r\n*1\r\n$4\r\nPING\r\n`));

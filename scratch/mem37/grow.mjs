// Growing a keys array of 1M strings: concat by eighths (packed, exact) against push. node --allow-natives-syntax scratch/mem37/grow.mjs
const N = 1_000_000;
const strs = Array.from({ length: N }, (_, i) => Buffer.from(`key:${String(i).padStart(12, '0')}`, 'latin1').toString('latin1'));
const fromFill = (n) => Array.from({ length: n }, () => undefined);
const holeyFill = (n) => new Array(n).fill(undefined);
function run(fill) { let a = fromFill(1024); let cap = 1024; for (let i = 0; i < N; i++) { if (i === cap) { const c = Math.ceil(cap * 1.125); a = a.concat(fill(c - cap)); cap = c; } a[i] = strs[i]; } return a; }
function pushWay() { const a = []; for (let i = 0; i < N; i++) a.push(strs[i]); return a; }
for (let r = 0; r < 3; r++) for (const [name, f] of [['from', () => run(fromFill)], ['holey', () => run(holeyFill)], ['push', pushWay]]) { const t = performance.now(); const a = f(); console.log(name, (performance.now() - t).toFixed(1), 'ms', %HasHoleyElements(a)); }

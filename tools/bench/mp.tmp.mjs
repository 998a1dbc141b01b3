import { PROT, MAP, safeNumberToU64 } from '@mmsim/base';
import { sysMprotect } from '@mmsim/syscalls';
import { benchMachine, makeRegion } from './model.mjs';
const RW = BigInt(PROT.READ | PROT.WRITE), RO = BigInt(PROT.READ);
const V = Number(process.argv[2] ?? 16);
const m = benchMachine();
const base = makeRegion(m, V);
const baseN = Number(base);
function batch(n) {
  let j = 0;
  for (let i = 0; i < n; i++) {
    j = (j + 7919) % V;
    const a = safeNumberToU64(baseN + (2 * j + 1) * 4096);
    sysMprotect(m, a, 4096n, RW);
    sysMprotect(m, a, 4096n, RO);
  }
}
batch(200000);
const res = [];
for (let r = 0; r < 15; r++) {
  const c0 = process.cpuUsage();
  batch(100000);
  const c = process.cpuUsage(c0);
  res.push(((c.user + c.system) * 1000) / 200000);
}
res.sort((a, b) => a - b);
console.log(`V=${V} mprotect ns/op (cpu): median ${res[7].toFixed(1)} min ${res[0].toFixed(1)}`);

// A small deterministic PRNG (splitmix64 seeding a xoshiro256** state, in
// BigInt-free 32-bit halves would be faster, but the generator is not hot:
// recording dominates). Everything the kernel fuzzer decides comes from one
// of these, seeded from (run seed, scenario index), so a scenario can be
// regenerated alone: `--seed S --only I`.

const M64 = (1n << 64n) - 1n;

function splitmix64(state) {
  let z = (state + 0x9e3779b97f4a7c15n) & M64;
  const next = z;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return [next, z ^ (z >> 31n)];
}

const rotl = (x, k) => ((x << k) | (x >> (64n - k))) & M64;

export class Rng {
  /** @param {number|bigint} seed @param {number|bigint} [stream] */
  constructor(seed, stream = 0) {
    let st = (BigInt(seed) * 0x100000001b3n + BigInt(stream) * 0x9e3779b97f4a7c15n) & M64;
    this.s = [];
    for (let i = 0; i < 4; i++) {
      const [n, v] = splitmix64(st);
      st = n;
      this.s.push(v);
    }
    if (this.s.every((x) => x === 0n)) this.s[0] = 1n;
  }
  /** A u64 as a BigInt. */
  u64() {
    const s = this.s;
    const result = (rotl((s[1] * 5n) & M64, 7n) * 9n) & M64;
    const t = (s[1] << 17n) & M64;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45n);
    return result;
  }
  /** A float in [0, 1). */
  float() {
    return Number(this.u64() >> 11n) / 2 ** 53;
  }
  /** An integer in [0, n). */
  int(n) {
    return Math.floor(this.float() * n);
  }
  /** An integer in [lo, hi] (inclusive). */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }
  /** A BigInt in [lo, hi] (inclusive). */
  brange(lo, hi) {
    const span = hi - lo + 1n;
    return lo + (this.u64() % span);
  }
  chance(p) {
    return this.float() < p;
  }
  pick(arr) {
    return arr[this.int(arr.length)];
  }
  /** Pick by weight from [[weight, value], …]. */
  weighted(table) {
    let total = 0;
    for (const [w] of table) total += w;
    let r = this.float() * total;
    for (const [w, v] of table) {
      if (r < w) return v;
      r -= w;
    }
    return table[table.length - 1][1];
  }
}

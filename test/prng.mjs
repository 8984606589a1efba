/**
 * mulberry32: a small, fast, seeded PRNG, so a seed always replays the same fuzz input,
 * soak session or generated bench workspace. Plain JavaScript (types in prng.d.mts) so
 * that bench/workspace.mjs, which runs without a TypeScript loader, shares it.
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator of numbers in [0, 1) (mulberry32; prng.mjs). */
export function prng(seed: number): () => number;

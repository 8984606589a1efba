// Shared by the shape generators (test/shapes/*.mjs): fitting a description to a size.
// A shape is a function of a scale n (hosts, steps, guests, ...) whose text grows with n;
// `fit` finds the largest n whose text is at most `chars` characters long.

/**
 * The text of `build(n)` for the largest n >= 0 with `build(n).length <= chars`, or ''
 * when even n = 0 is too long. `build` must grow with n. Doubling then bisection: about
 * 2 log2(n) builds, each linear in its size.
 */
export function fit(chars, build) {
  let best = build(0);
  if (best.length > chars) return '';
  let lo = 0; // fits
  let hi = 1;
  for (;;) {
    const text = build(hi);
    if (text.length > chars) break;
    best = text;
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const text = build(mid);
    if (text.length <= chars) {
      best = text;
      lo = mid;
    } else hi = mid;
  }
  return best;
}

/** `0x...` for a bigint or a number. */
export const hex = (v) => `0x${BigInt(v).toString(16)}`;

/** A PCI address `SSSS:BB:DD.F` for the i-th function, 8 functions a device, 32 devices a bus. */
export function bdf(i, segment = 0) {
  const fn = i % 8;
  const dev = Math.floor(i / 8) % 32;
  const bus = Math.floor(i / 256) % 256;
  const seg = segment + Math.floor(i / 65536);
  const h = (v, w) => v.toString(16).padStart(w, '0');
  return `${h(seg, 4)}:${h(bus, 2)}:${h(dev, 2)}.${fn}`;
}

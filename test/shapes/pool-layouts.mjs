// Shape: the hosts of ./pool.mjs, every guest with a RAM size of its own (issue 22): no two
// guests share the probe of the hosts, so guests × hosts would be probed. The pool checks
// stop at their budget (`pool-checks-truncated`) with the conflicts found so far.
import { fit } from './lib/size.mjs';
import { hostsAndPool } from './pool.mjs';

export const name = 'pool-layouts';
export const description = 'the pool shape with a distinct RAM size per guest: the pool checks stop at their budget';
export const expect = ['pool-checks-truncated', 'pool-ram-conflict'];

const guest = (h) => `guest g${h} on h${h} {\n  machine virt memory ${4096 + 2 * h}M\n}\n`;

export function generate(chars) {
  return fit(chars, (n) => hostsAndPool(n) + Array.from({ length: n }, (_, h) => guest(h)).join(''));
}

// Shape: one pool of many arm64 hosts (20 reserved regions each) with one guest per host
// (issue 22). Every host has a region inside the guests' RAM (0x40000000..0x13fffffff) at a
// place of its own and every seventh host's IOMMU is 32 bits wide: each guest conflicts with
// nearly every host. Every fifth guest names an msi-window (explained, never checked: issue 24).
import { fit, hex } from './lib/size.mjs';

export const name = 'pool';
export const description = 'a pool of arm64 hosts with 20 regions each, one guest per host, every guest conflicting with every other host';
export const expect = ['pool-ram-conflict', 'pool-address-width', 'msi-window-ignored'];

function host(h) {
  const lines = [
    `platform h${h} {`,
    '  arch arm64',
    `  iommu smmu0 smmuv3 { address-width ${h % 7 === 3 ? 32 : 48}; msi remapped }`,
    '  reserved swmsi sw-msi 0x8000000 size 1M',
  ];
  // One region in the guests' RAM, each host's elsewhere.
  lines.push(`  reserved in reserved ${hex(0x4000_0000 + (h % 2000) * 0x20_0000)} size 1M`);
  lines.push(`  reserved door reserved ${h % 11 === 5 ? '0xf0000000' : hex(0x100_0000_0000 + h * 0x20_0000)} size 1M`);
  for (let r = 0; r < 18; r++) lines.push(`  reserved r${r} reserved ${hex(0x200_0000_0000 + (h * 20 + r) * 0x20_0000)} size 1M`);
  lines.push('  device v0 { bdf 0000:01:00.2; iommu smmu0 stream 0x102; group 14 }', '}');
  return `${lines.join('\n')}\n`;
}

function guest(h) {
  return `guest g${h} on h${h} {\n  machine virt memory 4G\n${h % 5 === 0 ? '  msi-window 0xf0000000 size 1M\n' : ''}}\n`;
}

/** `n` hosts and the pool of them all. */
export function hostsAndPool(n) {
  const hosts = Array.from({ length: n }, (_, h) => h);
  return `${hosts.map(host).join('')}pool p { ${hosts.map((h) => `h${h}`).join(', ')} }\n`;
}

export function generate(chars) {
  return fit(chars, (n) => hostsAndPool(n) + Array.from({ length: n }, (_, h) => guest(h)).join(''));
}

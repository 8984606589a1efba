// Shape: thousands of guests on two x86 platforms, each guest assigned a device of its own
// group (issue 22, the VFIO engine). On one platform thousands of reserved regions lie
// inside every guest's RAM, so every map refusal has thousands of regions to name; on the
// other thousands of platform-wide direct regions (RMRRs) make every attach refuse.
import { bdf, fit, hex } from './lib/size.mjs';

export const name = 'guests';
export const description = 'many guests on platforms with thousands of reserved regions in their RAM, or thousands of direct regions';
export const expect = ['ram-over-reserved', 'identity-map-required'];

function platform(name, type, n, segment) {
  const lines = [`platform ${name} {`, '  arch x86_64', '  iommu dmar0 vt-d { address-width 48 }'];
  // n regions spread over 0x1_0000_0000..: the guests' above-4G RAM (q35, 64G) covers them all.
  for (let r = 0; r < n; r++) lines.push(`  reserved r${r} ${type} ${hex(0x1_0000_0000 + r * 0x40_0000)} size 1M`);
  for (let d = 0; d < n; d++) lines.push(`  device d${d} { bdf ${bdf(d + 8, segment)}; iommu dmar0; group ${d + 1} }`);
  lines.push('}');
  for (let g = 0; g < n; g++) lines.push(`guest ${name}-g${g} on ${name} {`, '  machine q35 memory 64G', `  assign d${g}`, '}');
  return lines;
}

function build(n) {
  return `${[...platform('host', 'reserved', n, 0), ...platform('rmrr', 'direct', n, 1)].join('\n')}\n`;
}

export function generate(chars) {
  return fit(chars, build);
}

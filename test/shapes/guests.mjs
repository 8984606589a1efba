// Shape: one x86 platform with thousands of reserved regions inside its guests' RAM and
// thousands of guests, each assigned a device of its own group (issue 22, the VFIO engine):
// every guest's RAM runs into every region, so each map refusal names thousands of regions.
import { bdf, fit, hex } from './lib/size.mjs';

export const name = 'guests';
export const description = 'many guests on one platform whose RAM overlaps thousands of reserved regions';
export const expect = ['ram-over-reserved'];

function build(n) {
  const lines = ['platform host {', '  arch x86_64', '  iommu dmar0 vt-d { address-width 48 }'];
  // n regions spread over 0x1_0000_0000..: the guests' above-4G RAM (q35, 64G) covers them all.
  for (let r = 0; r < n; r++) lines.push(`  reserved r${r} reserved ${hex(0x1_0000_0000 + r * 0x40_0000)} size 1M`);
  for (let d = 0; d < n; d++) lines.push(`  device d${d} { bdf ${bdf(d + 8)}; iommu dmar0; group ${d + 1} }`);
  lines.push('}');
  for (let g = 0; g < n; g++) lines.push(`guest g${g} on host {`, '  machine q35 memory 64G', `  assign d${g}`, '}');
  return lines.join('\n') + '\n';
}

export function generate(chars) {
  return fit(chars, build);
}

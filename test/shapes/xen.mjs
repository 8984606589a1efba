// Shape: a Xen host with thousands of devices sharing platform-wide RMRRs, a domain for every
// device (issue 22, the Xen engine): dom0 maps every RMRR for every device, each domain's
// pass-through names a shared RMRR, and a timeline balloons every domain out page by page.
import { bdf, fit, hex } from './lib/size.mjs';

export const name = 'xen';
export const description = 'a Xen host with thousands of devices sharing RMRRs, a domain per device and a balloon step per domain';
export const expect = ['xen-shared-rmrr', 'xen-identity-map-conflict', 'xen-stale-iommu-mapping'];

function build(n) {
  const lines = ['platform host {', '  arch x86_64', '  iommu dmar0 vt-d { address-width 46 }', '  ram dram 0x100000000 size 64G'];
  // Shared RMRRs (platform-wide), and one overlapping another with a different range.
  for (let r = 0; r < Math.ceil(n / 8); r++) lines.push(`  reserved rmrr${r} direct ${hex(0x8000_0000 + r * 0x10_0000)} size 64K`);
  lines.push(`  reserved clash direct ${hex(0x8000_8000)} size 64K`);
  for (let d = 0; d < n; d++) lines.push(`  device d${d} { bdf ${bdf(d + 8)}; iommu dmar0; group ${d + 1} }`);
  lines.push('}', 'xen xh on host {', '  dom0 {', '    mode pv', '    iommu relaxed', '  }');
  for (let d = 0; d < n; d++) {
    lines.push(
      `  domain u${d} {`,
      '    mode pv',
      `    pass d${d}`,
      '    iommu-map host-identity',
      `    ram main ${hex(0x1_0000_0000 + d * 0x100_0000)} size 16M`,
      '  }',
    );
  }
  lines.push('}', 'timeline balloons {');
  for (let d = 0; d < n; d++) lines.push(`  balloon xh.u${d} ${hex(0x1_0000_0000 + d * 0x100_0000)} size 4K`);
  lines.push('  balloon xh.dom0 0x100000000 size 1G', '}');
  return `${lines.join('\n')}\n`;
}

export function generate(chars) {
  return fit(chars, build);
}

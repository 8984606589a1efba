// Shape: one guest assigned thousands of devices, each in a group of its own, on a platform
// with thousands of platform-wide regions (issue 22, the VFIO and timeline engines): every
// attach cuts the same regions. Half the devices of a big group are assigned too (the
// rest make the group not viable), and a timeline starts and stops the guest: each stop
// lets thousands of devices of one group go.
import { bdf, fit, hex } from './lib/size.mjs';

export const name = 'assigns';
export const description = 'one guest assigned thousands of devices (half a big group among them), started and stopped in a timeline';
export const expect = ['group-partly-assigned', 'ram-over-reserved'];

function build(n) {
  const lines = ['platform host {', '  arch x86_64', '  iommu dmar0 vt-d { address-width 48 }'];
  // Regions above the guest's RAM but one inside it; n devices alone in their groups, n more in one group.
  lines.push(`  reserved hole reserved 0x180000000 size 1M`);
  for (let r = 0; r < n; r++) lines.push(`  reserved r${r} reserved ${hex(0x100_0000_0000 + r * 0x20_0000)} size 1M`);
  for (let d = 0; d < n; d++) lines.push(`  device d${d} { bdf ${bdf(d + 8)}; iommu dmar0; group ${d + 1} }`);
  for (let d = 0; d < n; d++) lines.push(`  device s${d} { bdf ${bdf(d + 8, 1)}; iommu dmar0; group 0 }`);
  lines.push('}', 'guest vm on host {', '  machine q35 memory 16G');
  for (let d = 0; d < n; d++) lines.push(`  assign d${d}`);
  for (let d = 0; d < n / 2; d++) lines.push(`  assign s${d}`);
  lines.push('}', 'timeline cycle {');
  for (let c = 0; c < 10; c++) lines.push('  start vm', '  stop vm');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function generate(chars) {
  return fit(chars, build);
}

// Shape: one guest migrating back and forth between two arm64 hosts, with a hot-add and an
// unplug on each side (issue 22). The target host has a PCI window over the guest's RAM, so
// every hot-add there fails, and every unplug there finds nothing to unplug.
import { fit } from './lib/size.mjs';

export const name = 'timeline';
export const description = 'a timeline cycling migrate / hotplug / migrate back / unplug on two arm64 hosts';
export const expect = ['ram-over-reserved', 'device-not-plugged'];

const host = (name, extra = '') => `platform ${name} {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48; msi remapped; page-sizes 4K 2M 1G }
  reserved swmsi sw-msi 0x8000000 size 1M
${extra}  device pf0 { bdf 0000:01:00.0; iommu smmu0 stream 0x100; group 10 }
  device v0 { bdf 0000:01:00.2; vf-of pf0; iommu smmu0 stream 0x102; group 14 }
}
`;

const HEAD =
  host('pa') +
  host('pb', '  reserved win reserved 0xe0000000..0xf7feffff\n') +
  'guest vm on pa {\n  machine virt memory 4G\n  container type1\n}\ntimeline t {\n  start vm\n';
const CYCLE = '  migrate vm to pb\n  hotplug v0 into vm\n  migrate vm to pa\n  unplug v0 from vm\n';

export function generate(chars) {
  return fit(chars, (n) => `${HEAD}${CYCLE.repeat(n)}}\n`);
}

// Shape: one confidential guest receiving thousands of devices by hot-add, half of them
// private, then losing them by unplug (issue 22, the timeline engine): the SEV membership
// check, the claims and the container see ever longer lists.
import { bdf, fit } from './lib/size.mjs';

export const name = 'hotplug';
export const description = 'one SEV-SNP guest hot-adding thousands of devices (mixed private and shared), then unplugging them';
export const expect = ['sev-mixed-instance'];

function build(n) {
  const lines = ['platform host {', '  arch x86_64', '  iommu amdvi0 amd-vi { address-width 48 }'];
  for (let d = 0; d < n; d++) lines.push(`  device d${d} { bdf ${bdf(d + 8)}; iommu amdvi0; group ${d + 1}; tdisp }`);
  lines.push(
    '}',
    'guest vm on host {',
    '  machine q35 memory 16G cpu amd',
    '  confidential sev-snp',
    '  container iommufd',
    '}',
    'timeline t {',
    '  start vm',
  );
  for (let d = 0; d < n; d++) lines.push(`  hotplug d${d} into vm${d % 2 ? ' as private' : ''}`);
  for (let d = 0; d < n; d++) lines.push(`  unplug d${d} from vm`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function generate(chars) {
  return fit(chars, build);
}

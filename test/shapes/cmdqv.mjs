// Shape: an SMMUv3 CMDQV with more VINTFs declared than it has, a guest VINTF with thousands
// of streams (the guest's assigned devices), and command blocks of thousands of batches whose
// commands name streams no pair maps or that the VCMDQ does not take (issue 22, the CMDQV engine).
import { bdf, fit, hex } from './lib/size.mjs';

export const name = 'cmdqv';
export const description = 'VINTFs over the CMDQV limit with thousands of streams, and huge command blocks naming unmapped streams';
export const expect = [
  'cmdqv-too-many-vintfs',
  'cmdqv-too-many-streams',
  'cmdqv-unmapped-stream',
  'cmdqv-mixed-batch',
  'cmdqv-batch-without-sync',
];

function build(n) {
  const vintfs = Math.max(2, Math.ceil(n / 64));
  // Half as many VINTFs as declared, a power of two as CMDQV_PARAM reports it (1 << LOG2).
  const count = Math.min(64, 2 ** Math.floor(Math.log2(Math.ceil(vintfs / 2))));
  const lines = [
    'platform grace {',
    '  arch arm64',
    `  iommu smmu0 smmuv3 { address-width 48; msi remapped; cmdqv vintfs ${count} sids-per-vintf 16 }`,
    '  reserved swmsi sw-msi 0x8000000 size 1M',
  ];
  for (let d = 0; d < n; d++) lines.push(`  device d${d} { bdf ${bdf(d + 8)}; iommu smmu0 stream ${hex(0x100 + d)}; group ${d + 1} }`);
  lines.push('}', 'guest vm on grace {', '  machine virt memory 4G', '  container iommufd', '  viommu vsmmu0 smmuv3 via vi0');
  // The VINTF's devices are the guest's: a vDEVICE takes a device bound to the VMM.
  for (let d = 0; d < n; d++) lines.push(`  assign d${d}`);
  lines.push('}');
  for (let v = 0; v < vintfs; v++) {
    lines.push(`vintf vi${v} on smmu0 for vm {`, '  owner guest', '  hyp-own off', `  vmid ${v + 1}`);
    if (v === 0) for (let d = 0; d < n; d++) lines.push(`  stream d${d} as ${hex(d)}`);
    lines.push('}');
  }
  lines.push('commands vi0 {');
  for (let b = 0; b < n; b++) {
    lines.push(`  batch { ATC_INV sid ${hex(n + b)} ssid 0 addr 0x1000; CFGI_STE ${hex(b)}; TLBI_NH_ASID asid ${b} }`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function generate(chars) {
  return fit(chars, build);
}

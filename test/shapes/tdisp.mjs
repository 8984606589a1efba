// Shape: thousands of confidential guests, each holding a TDISP device, all started in one
// timeline, then each device locked, started, enabled with seed 001's two Command writes
// (the quirk sends it to ERROR) and converted; and a PF with thousands of VFs, all locked,
// reset again and again (issue 22, the timeline and TDI engines): every step sees every
// guest, every TDI of the timeline or every VF of the PF.
import { bdf, fit } from './lib/size.mjs';

export const name = 'tdisp';
export const description =
  'thousands of confidential guests with TDISP devices brought up in one timeline, and a PF with thousands of VFs reset';
export const expect = ['tdisp-bme-quirk', 'tdisp-dma-before-run', 'tdisp-vf-reset'];

function build(n) {
  const lines = ['platform host {', '  arch x86_64', '  iommu amdvi0 amd-vi { address-width 48 }'];
  for (let d = 0; d < n; d++)
    lines.push(`  device n${d} { bdf ${bdf(d + 8)}; iommu amdvi0; group ${d + 1}; tdisp${d % 2 ? '; quirk bme-zero-write-clears' : ''} }`);
  lines.push(`  device pf { bdf ${bdf(0, 2)}; iommu amdvi0; group 0; tdisp }`);
  for (let d = 0; d < n; d++) lines.push(`  device v${d} { bdf ${bdf(d + 8, 2)}; vf-of pf; iommu amdvi0; group ${n + d + 1}; tdisp }`);
  lines.push('}');
  for (let g = 0; g < n; g++)
    lines.push(
      `guest c${g} on host {`,
      '  machine q35 memory 4G cpu amd',
      '  confidential sev-snp',
      '  container iommufd',
      `  assign n${g} as bind-capable`,
      '}',
    );
  lines.push(
    'guest vfs on host {',
    '  machine q35 memory 4G cpu amd',
    '  confidential sev-snp',
    '  container iommufd',
    '  assign pf as bind-capable',
  );
  for (let d = 0; d < n; d++) lines.push(`  assign v${d} as bind-capable`);
  lines.push('}', 'timeline bringup {');
  for (let g = 0; g < n; g++) lines.push(`  start c${g}`);
  for (let d = 0; d < n; d++) {
    lines.push(
      `  tdisp n${d} lock`,
      `  config n${d} command MSE`,
      `  config n${d} command MSE BME`,
      `  tdisp n${d} start`,
      `  convert n${d} to private`,
    );
  }
  lines.push('}', 'timeline resets {', '  start vfs');
  for (let d = 0; d < n; d++) lines.push(`  tdisp v${d} lock`);
  for (let d = 0; d < n; d++) lines.push(`  config pf devctl FLR${d % 2 ? '' : ' EXT-TAG'}`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function generate(chars) {
  return fit(chars, build);
}

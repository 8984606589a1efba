/** SEV-SNP and SEV-TIO: the finding codes this domain raises (sim/joinRules.ts and sim/launchUpdate.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const SEV_CODES = {
  'sev-not-confidential': {
    severity: 'error',
    summary: 'Private DMA or SNP_LAUNCH_UPDATE for a guest that is not (SEV-SNP) confidential.',
  },
  'sev-mixed-instance': { severity: 'error', summary: 'One iommufd instance of an SEV-TIO guest serves both private and shared devices.' },
  'sev-dma-window': { severity: 'error', summary: "A device's DMA window on the wrong side of vTOM for its mode." },
  'sev-convert-needs-replug': {
    severity: 'error',
    summary: 'A device realized shared or private is converted; its DTE needs unplug and replug.',
  },
  'sev-launch-private-pinned': {
    severity: 'error',
    summary: 'A device realized private before SNP_LAUNCH_UPDATE: the launch fails with -EEXIST.',
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(SEV_CODES);

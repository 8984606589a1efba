/** TDISP: the finding codes this domain raises (sim/timelineInterfaces.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const TDISP_CODES = {
  'tdisp-not-capable': { severity: 'error', summary: 'A TDISP message to, or a private assignment of, a device without TDISP.' },
  'tdisp-not-bound': { severity: 'error', summary: 'A TDI locked while no running confidential guest holds its device.' },
  'tdisp-invalid-state': { severity: 'error', summary: 'A TDISP message the TDI does not accept in its state (INVALID_INTERFACE_STATE).' },
  'tdisp-config-locked': { severity: 'error', summary: 'A config-space change a locked TDI does not survive: it goes to ERROR.' },
  'tdisp-bme-quirk': { severity: 'error', summary: 'A Command write with BME=0 after lock on a device that counts it as clearing BME.' },
  'tdisp-vf-reset': { severity: 'error', summary: "A PF reset (FLR or state-losing power change) takes its VFs' locked TDIs to ERROR." },
  'tdisp-power-loss': { severity: 'error', summary: 'A power transition that loses state while the TDI is locked.' },
  'tdisp-link-down': { severity: 'error', summary: 'The link goes down under a locked TDI: its IDE stream is lost.' },
  'tdisp-dma-before-run': {
    severity: 'error',
    summary: 'A private device enabled for DMA, or converted to private, before its TDI is in RUN.',
  },
  'tdisp-avoidable-access': { severity: 'warning', summary: 'A config access a locked TDI does not need (INTx probing on a VF).' },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(TDISP_CODES);

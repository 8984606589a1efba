/** TDISP: the finding codes this domain raises (sim/timelineInterfaces.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const TDISP_CODES = {
  'tdisp-not-capable': {
    severity: 'error',
    summary: 'A TDISP message to, or a private assignment of, a device without TDISP.',
    sources: [{ where: 'PCIe Base 6.x chapter 11 (TDISP): a TDI exists only on a TDISP-capable function' }],
  },
  'tdisp-not-bound': {
    severity: 'error',
    summary: 'A TDI locked while no running confidential guest holds its device.',
    sources: [
      {
        where: 'Linux drivers/pci/tsm.c: connect and disconnect only; the TSM bind through an iommufd vDEVICE is in RFC postings',
        versions: 'TSM bind not merged',
      },
    ],
  },
  'tdisp-invalid-state': {
    severity: 'error',
    summary: 'A TDISP message the TDI does not accept in its state (INVALID_INTERFACE_STATE).',
    sources: [
      {
        where:
          'DMTF spdm-emu include/industry_standard/pci_tdisp.h and library/pci_tdisp_device_lib_sample: INVALID_INTERFACE_STATE 0x0004',
      },
      { where: 'PCIe Base 6.x chapter 11 (TDISP) state machine; wording unverified' },
    ],
  },
  'tdisp-config-locked': {
    severity: 'error',
    summary: 'A config-space change a locked TDI does not survive: it goes to ERROR.',
    sources: [{ where: 'PCIe Base 6.x chapter 11 (TDISP), rules for a locked TDI; the text is not public, wording unverified' }],
  },
  'tdisp-bme-quirk': {
    severity: 'error',
    summary: 'A Command write with BME=0 after lock on a device that counts it as clearing BME.',
    sources: [
      { where: 'PCIe Base 6.x chapter 11 (TDISP), rules for a locked TDI; the text is not public, wording unverified' },
      { where: 'seed 001 thread: a device that counts a BME=0 write as clearing BME' },
    ],
  },
  'tdisp-vf-reset': {
    severity: 'error',
    summary: "A PF reset (FLR or state-losing power change) takes its VFs' locked TDIs to ERROR.",
    sources: [{ where: 'PCIe Base 6.x chapter 11 (TDISP), rules for a locked TDI; the text is not public, wording unverified' }],
  },
  'tdisp-vfs-disabled': {
    severity: 'error',
    summary: "An SR-IOV write that takes a PF's VFs away (VF Enable, NumVFs, VF MSE): their locked TDIs go to ERROR.",
    sources: [
      { where: 'PCIe Base SR-IOV capability: VF Enable, VF MSE, NumVFs; section number unverified' },
      { where: 'Linux drivers/pci/iov.c, pci_disable_sriov' },
    ],
  },
  'tdisp-stop-unlocked': {
    severity: 'warning',
    summary: 'STOP_INTERFACE_REQUEST to a TDI in CONFIG_UNLOCKED: unconfirmed in the spec, refused by the DMTF sample responder.',
    sources: [
      {
        where:
          'DMTF spdm-emu library/pci_tdisp_device_lib_sample/pci_tdisp_device_stop_interface.c: CONFIG_UNLOCKED is INVALID_INTERFACE_STATE',
      },
    ],
  },
  'tdisp-power-loss': {
    severity: 'error',
    summary: 'A power transition that loses state while the TDI is locked.',
    sources: [{ where: 'PCIe Base 6.x chapter 11 (TDISP), rules for a locked TDI; the text is not public, wording unverified' }],
  },
  'tdisp-link-down': {
    severity: 'error',
    summary: 'The link goes down under a locked TDI: its IDE stream is lost.',
    sources: [{ where: 'PCIe Base 6.x chapter 11 (TDISP), rules for a locked TDI; the text is not public, wording unverified' }],
  },
  'tdisp-dma-before-run': {
    severity: 'error',
    summary: 'A private device enabled for DMA, or converted to private, before its TDI is in RUN.',
    sources: [{ where: 'PCIe Base 6.x chapter 11 (TDISP): T-bit requests are rejected outside RUN; wording unverified' }],
  },
  'tdisp-avoidable-access': {
    severity: 'warning',
    summary: 'A config access a locked TDI does not need (INTx probing on a VF).',
    sources: [{ where: 'Linux drivers/pci/pci.c, pci_intx_mask_supported; VFs have no INTx (Interrupt Pin 0)' }],
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(TDISP_CODES);

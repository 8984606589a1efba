/** Firmware DMA at ExitBootServices: the finding codes this domain raises (sim/pciIo.ts and sim/exitBootServices.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const FIRMWARE_CODES = {
  'fw-misplaced-action': { severity: 'error', summary: "An action the handler's owner cannot take (stop-dma in the IOMMU protocol)." },
  'fw-mapping-left': {
    severity: 'error',
    summary: 'A mapping still present after ExitBootServices: its memory stays shared (decrypted) with the host.',
  },
  'fw-pending-bus-master': {
    severity: 'error',
    summary: 'BusMasterRead/Write for DMA still pending after the call returns; it needs CommonBuffer.',
  },
  'fw-teardown-before-stop': { severity: 'error', summary: 'A mapping torn down while its device may still do DMA into it: IOMMU fault.' },
  'fw-dma-after-handler': {
    severity: 'error',
    summary: "A device still doing DMA when its driver's ExitBootServices handler has returned.",
  },
  'fw-double-unmap': { severity: 'error', summary: 'Unmap() of a mapping that is no longer mapped: a stale Mapping handle.' },
  'fw-free-in-handler': { severity: 'error', summary: 'Memory freed inside an ExitBootServices handler: the memory map must not change.' },
  'fw-boot-service-in-handler': { severity: 'error', summary: 'A boot service called from an ExitBootServices handler.' },
  'fw-common-buffer-source': { severity: 'error', summary: 'A CommonBuffer mapping of memory that did not come from AllocateBuffer().' },
  'fw-32bit-above-4g': { severity: 'error', summary: 'A 32-bit DMA operation on a buffer above 4 GiB.' },
  'fw-orders-truncated': {
    severity: 'information',
    summary: 'Too many handler orders to explore them all; the verdicts cover the orders explored.',
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(FIRMWARE_CODES);

/** Xen: the finding codes this domain raises (sim/xen.ts), with their upstream sources. */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const XEN_CODES = {
  'xen-invalid-setting': {
    severity: 'error',
    summary: 'A Xen domain setting Xen does not accept for that kind of domain (HVM dom0, virtual VT-d on PV, ...).',
  },
  'xen-pvh-dom0-not-strict': {
    severity: 'warning',
    summary: 'A PVH dom0 asking for relaxed or passthrough: Xen ignores it and forces strict (check_hwdom_reqs).',
  },
  'xen-pv-iommu-on-maintained-map': { severity: 'error', summary: 'A domain drives through PV-IOMMU a map Xen maintains.' },
  'xen-stray-dma-faults': {
    severity: 'warning',
    summary: 'A domain drives its own IOMMU map without scratch-page quarantine: stray DMA faults the host.',
  },
  'xen-stray-dma-hidden': {
    severity: 'information',
    summary: 'A domain drives its own IOMMU map with scratch-page quarantine: stray DMA is silently absorbed.',
  },
  'xen-shared-rmrr': {
    severity: 'error',
    summary: 'A device passed through alone whose RMRR it shares with other devices: Xen refuses (-EPERM).',
  },
  'xen-identity-map-conflict': {
    severity: 'error',
    summary: 'An RMRR identity mapping overlapping another one of the domain with a different range (-EADDRINUSE).',
  },
  'xen-stale-iommu-mapping': {
    severity: 'error',
    summary: 'A balloon or free step on a domain whose IOMMU map Xen does not maintain: stale BFN -> MFN entries.',
  },
  'xen-p2m-outside-memory': {
    severity: 'warning',
    summary: 'A balloon or free step over memory the domain does not own (or gave back already).',
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(XEN_CODES);

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
  'xen-pvh-dom0-passthrough-panic': {
    severity: 'error',
    summary: 'A PVH dom0 with dom0-iommu passthrough on Xen 4.11 or older: Xen panics at boot.',
  },
  'xen-pv-iommu-on-maintained-map': {
    severity: 'information',
    summary: 'PV-IOMMU (a proposal, never merged) on a map Xen maintains: the two writers would undo each other.',
  },
  'xen-stray-dma-faults': {
    severity: 'information',
    summary: 'A domain driving its own IOMMU map (a proposal, never merged): stray DMA to an unmapped BFN would fault.',
  },
  'xen-not-upstream': {
    severity: 'information',
    summary: 'A Xen setting that describes no upstream behaviour (`iommu-map host-identity` on a domU).',
  },
  'xen-shared-rmrr': {
    severity: 'error',
    summary: 'A device passed through alone whose RMRR it shares with other devices: Xen refuses (-EPERM).',
  },
  'xen-identity-map-conflict': {
    severity: 'error',
    summary: 'An RMRR identity mapping overlapping another one of the domain with a different range (-EADDRINUSE).',
  },
  'xen-rmrr-in-guest-ram': {
    severity: 'error',
    summary: "An RMRR of a device passed to an HVM domain inside the domain's RAM: libxl or Xen refuse it (rdm_policy=strict).",
  },
  'xen-stale-iommu-mapping': {
    severity: 'information',
    summary: 'A balloon or free step on a map Xen does not maintain (a non-strict dom0 by design): the pages stay reachable by DMA.',
  },
  'xen-p2m-outside-memory': {
    severity: 'warning',
    summary: 'A balloon or free step over memory the domain does not own (or gave back already).',
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(XEN_CODES);

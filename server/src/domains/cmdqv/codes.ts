/** SMMUv3 CMDQV: the finding codes this domain raises (sim/cmdqv.ts), with their upstream sources. */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const CMDQV_CODES = {
  'cmdqv-missing': {
    severity: 'error',
    summary: 'A VINTF on an IOMMU that is not an SMMUv3 with a CMDQV (IOMMU_VIOMMU_ALLOC: -EOPNOTSUPP).',
  },
  'cmdqv-too-many-vintfs': {
    severity: 'error',
    summary: 'More guest VINTFs on one SMMU than its CMDQV has after VINTF0 ("no more available vintf", -ENOSPC), or two host VINTFs.',
  },
  'cmdqv-too-many-streams': {
    severity: 'error',
    summary: 'A vDEVICE for which no SID_MATCH/SID_REPLACE pair is left (IOMMU_VDEVICE_ALLOC: -ENOSPC).',
  },
  'cmdqv-wrong-smmu': {
    severity: 'error',
    summary: "A VINTF stream whose device sits behind another physical SMMU than the VINTF's (IOMMU_VDEVICE_ALLOC: -EINVAL).",
  },
  'cmdqv-wrong-guest': { severity: 'error', summary: 'A vIOMMU backed by a VINTF that belongs to another guest.' },
  'cmdqv-hyp-own-by-guest': { severity: 'error', summary: 'HYP_OWN set on a VINTF given to a guest: the kernel always clears it.' },
  'cmdqv-needs-iommufd': {
    severity: 'error',
    summary: 'A VINTF given to a guest that uses a VFIO type1 container: a VINTF is an iommufd vIOMMU.',
  },
  'cmdqv-duplicate-virtual-sid': {
    severity: 'error',
    summary: 'Two streams of one VINTF with the same virtual stream ID (IOMMU_VDEVICE_ALLOC: -EEXIST).',
  },
  'cmdqv-device-twice': { severity: 'error', summary: 'A device given two vDEVICEs on one VINTF (IOMMU_VDEVICE_ALLOC: -EEXIST).' },
  'cmdqv-stream-not-assigned': { severity: 'error', summary: "A VINTF stream whose device is not assigned to the VINTF's guest." },
  'cmdqv-multi-stream-device': {
    severity: 'warning',
    summary: 'A VINTF stream for a device with several stream IDs: the SID pair maps only the first.',
  },
  'cmdqv-queue-refused': {
    severity: 'error',
    summary: 'An LVCMDQ the driver refuses (index, order, size or alignment: tegra241_vintf_alloc_lvcmdq_user).',
  },
  'cmdqv-unsupported-command': {
    severity: 'error',
    summary: 'A command outside the restricted set on the queue of a VINTF with HYP_OWN=0.',
  },
  'cmdqv-mixed-batch': { severity: 'error', summary: 'A batch mixing commands the VINTF takes with commands it does not.' },
  'cmdqv-batch-without-sync': {
    severity: 'warning',
    summary: 'A batch not closed by CMD_SYNC: it executes, but the guest cannot know when it completed.',
  },
  'cmdqv-unmapped-stream': { severity: 'error', summary: 'A command naming a stream ID no SID_MATCH pair of the VINTF matches.' },
  'cmdqv-stage2-invalidation': { severity: 'error', summary: 'A stage-2 invalidation from a guest whose vSMMU has no stage 2.' },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(CMDQV_CODES);

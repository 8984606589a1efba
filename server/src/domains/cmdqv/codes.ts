/** SMMUv3 CMDQV: the finding codes this domain raises (sim/cmdqv.ts), with their upstream sources. */
import { findingBuilder, type CodeTable } from '../../model/findings';

// Tegra241 CMDQV and the iommufd vIOMMU (RULES §9).
const TEGRA = 'Linux drivers/iommu/arm/arm-smmu-v3/tegra241-cmdqv.c';
const VIOMMU = 'Linux drivers/iommu/iommufd/viommu.c';
const VDEVICE_ALLOC = `${VIOMMU}, iommufd_vdevice_alloc_ioctl`;
const RESTRICTED_SET = {
  where: `${TEGRA}, tegra241_vintf_hw_init and tegra241_guest_vcmdq_supports_cmd ("!HYP_OWN cmdq HWs only support a restricted set")`,
};
const VSMMU_CONVERT = {
  where: 'Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-iommufd.c, arm_vsmmu_convert_user_cmd (anything else: -EIO)',
};
const SEED_004 = { where: 'seed 004 (the RFC of the Tegra241 CMDQV guest support): the design discussion, not the merged driver' };

export const CMDQV_CODES = {
  'cmdqv-missing': {
    severity: 'error',
    summary: 'A VINTF on an IOMMU that is not an SMMUv3 with a CMDQV (IOMMU_VIOMMU_ALLOC: -EOPNOTSUPP).',
    sources: [{ where: `${VIOMMU}, iommufd_viommu_alloc_ioctl (no driver size for the type: -EOPNOTSUPP)` }],
  },
  'cmdqv-too-many-vintfs': {
    severity: 'error',
    summary: 'More guest VINTFs on one SMMU than its CMDQV has after VINTF0 ("no more available vintf", -ENOSPC), or two host VINTFs.',
    sources: [
      {
        where:
          `${TEGRA}, tegra241_cmdqv_init_structures (VINTF0 for the kernel) and ` +
          'tegra241_cmdqv_init_vintf_user ("no more available vintf", -ENOSPC)',
      },
    ],
  },
  'cmdqv-too-many-streams': {
    severity: 'error',
    summary: 'A vDEVICE for which no SID_MATCH/SID_REPLACE pair is left (IOMMU_VDEVICE_ALLOC: -ENOSPC).',
    sources: [{ where: `${TEGRA}, tegra241_vintf_init_vsid (ida_alloc_max(num_sids_per_vintf - 1): -ENOSPC)` }],
  },
  'cmdqv-wrong-smmu': {
    severity: 'error',
    summary: "A VINTF stream whose device sits behind another physical SMMU than the VINTF's (IOMMU_VDEVICE_ALLOC: -EINVAL).",
    sources: [{ where: `${VDEVICE_ALLOC} (the vIOMMU's iommu_dev is not the device's IOMMU: -EINVAL)` }],
  },
  'cmdqv-wrong-guest': {
    severity: 'error',
    summary: 'A vIOMMU backed by a VINTF that belongs to another guest.',
    sources: [{ where: `${VIOMMU}: a vIOMMU is an object of one iommufd context; another process cannot name it (-ENOENT)` }],
  },
  'cmdqv-hyp-own-by-guest': {
    severity: 'error',
    summary: 'HYP_OWN set on a VINTF given to a guest: the kernel always clears it.',
    sources: [
      { where: `${TEGRA}, tegra241_cmdqv_init_vintf_user (tegra241_vintf_hw_init(vintf, false); only the LVCMDQ pages are mmapped)` },
      SEED_004,
    ],
  },
  'cmdqv-needs-iommufd': {
    severity: 'error',
    summary: 'A VINTF given to a guest that uses a VFIO type1 container: a VINTF is an iommufd vIOMMU.',
    sources: [{ where: `${VIOMMU}, iommufd_viommu_alloc_ioctl (IOMMU_VIOMMU_ALLOC over a nest-parent HWPT on /dev/iommu)` }],
  },
  'cmdqv-duplicate-virtual-sid': {
    severity: 'error',
    summary: 'Two streams of one VINTF with the same virtual stream ID (IOMMU_VDEVICE_ALLOC: -EEXIST).',
    sources: [{ where: `${VDEVICE_ALLOC} (xa_cmpxchg on the vIOMMU's vDEVICE IDs: -EEXIST)` }],
  },
  'cmdqv-device-twice': {
    severity: 'error',
    summary: 'A device given two vDEVICEs on one VINTF (IOMMU_VDEVICE_ALLOC: -EEXIST).',
    sources: [
      {
        where: `${VDEVICE_ALLOC} (idev->vdev: -EEXIST)`,
        versions: 'recent kernels; the first vDEVICE code lacked the check (release not verified)',
      },
    ],
  },
  'cmdqv-stream-not-assigned': {
    severity: 'error',
    summary: "A VINTF stream whose device is not assigned to the VINTF's guest.",
    sources: [{ where: `${VDEVICE_ALLOC} (iommufd_get_device: the device is bound to this iommufd)` }],
  },
  'cmdqv-multi-stream-device': {
    severity: 'warning',
    summary: 'A VINTF stream for a device with several stream IDs: the SID pair maps only the first.',
    sources: [{ where: `${TEGRA}, tegra241_vintf_init_vsid (SID_REPLACE = master->streams[0]; WARN_ON_ONCE(num_streams != 1))` }],
  },
  'cmdqv-queue-refused': {
    severity: 'error',
    summary: 'An LVCMDQ the driver refuses (index, order, size or alignment: tegra241_vintf_alloc_lvcmdq_user).',
    sources: [{ where: `${TEGRA}, tegra241_vintf_alloc_lvcmdq_user (IOMMU_HW_QUEUE_ALLOC)` }],
  },
  'cmdqv-unsupported-command': {
    severity: 'error',
    summary: 'A command outside the restricted set on the queue of a VINTF with HYP_OWN=0.',
    sources: [RESTRICTED_SET, VSMMU_CONVERT],
  },
  'cmdqv-mixed-batch': {
    severity: 'error',
    summary: 'A batch mixing commands the VINTF takes with commands it does not.',
    sources: [
      { where: 'Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, arm_smmu_cmdq_batch_add (a new batch when the queue changes)' },
      SEED_004,
    ],
  },
  'cmdqv-batch-without-sync': {
    severity: 'warning',
    summary: 'A batch not closed by CMD_SYNC: it executes, but the guest cannot know when it completed.',
    sources: [{ where: `${TEGRA}, tegra241_vcmdq_hw_flush_timeout (an ATC_INV left without CMD_SYNC)` }, SEED_004],
  },
  'cmdqv-unmapped-stream': {
    severity: 'error',
    summary: 'A command naming a stream ID no SID_MATCH pair of the VINTF matches.',
    sources: [SEED_004, { where: `${TEGRA}, tegra241_vintf_user_handle_error (queue errors go to the VMM as a vEVENT)` }],
  },
  'cmdqv-stage2-invalidation': {
    severity: 'error',
    summary: 'A stage-2 invalidation from a guest whose vSMMU has no stage 2.',
    sources: [RESTRICTED_SET, VSMMU_CONVERT, SEED_004],
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(CMDQV_CODES);

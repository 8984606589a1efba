/** Xen: the finding codes this domain raises (sim/xen.ts), with their upstream sources. */
import { findingBuilder, type CodeTable } from '../../model/findings';

// Xen (RULES §8): the hypervisor tree, libxl and the docs.
const XEN_DOM0_DOC = { where: 'Xen docs/misc/xen-command-line.pandoc, dom0-iommu (strict "hardwired to true for x86 PVH dom0\'s")' };
const XEN_NEED_SYNC = {
  where:
    "Xen xen/drivers/passthrough/iommu.c, iommu_domain_init (need_sync; \"'relaxed' " +
    'h/w domains don\'t need the IOMMU mappings to be kept in-sync")',
};
const PV_IOMMU_PROPOSAL = {
  where:
    'seed 003 (2018), the PV-IOMMU series: a proposal, never merged (xen/include/public/xen.h has no __HYPERVISOR_iommu_op; ' +
    'only 072268c1c1, "iommu: introduce the concept of DFN", was merged, in 4.12)',
};
const XEN_DEASSIGN = { where: 'Xen xen/drivers/passthrough/pci.c, deassign_device (iommu=quarantine acts on de-assignment only)' };

export const XEN_CODES = {
  'xen-invalid-setting': {
    severity: 'error',
    summary: 'A Xen domain setting Xen does not accept for that kind of domain (HVM dom0, virtual VT-d on PV, ...).',
    sources: [
      { where: 'Xen xen/arch/x86/domain.c, emulation_flags_ok (PV and PVH hardware domains only)' },
      {
        where: 'Xen xen/drivers/passthrough/iommu.c, parse_iommu_param (iommu=quarantine is one global option)',
        versions: 'quarantine since 4.13 (XSA-302, ba2ab00bbb)',
      },
    ],
  },
  'xen-pvh-dom0-not-strict': {
    severity: 'warning',
    summary: 'A PVH dom0 asking for relaxed or passthrough: Xen ignores it and forces strict (check_hwdom_reqs).',
    sources: [
      {
        where:
          'Xen xen/drivers/passthrough/iommu.c, check_hwdom_reqs (strict forced, ' +
          'passthrough cleared) and iommu_setup (" - Dom0 mode: ...")',
        versions:
          'every release with a PVH dom0 (4.10 on); the strict panic eb8ce7d5ca added in ' +
          '4.13 is unreachable; passthrough panics on 4.11 and older',
      },
      XEN_DOM0_DOC,
    ],
  },
  'xen-pvh-dom0-passthrough-panic': {
    severity: 'error',
    summary: 'A PVH dom0 with dom0-iommu passthrough on Xen 4.11 or older: Xen panics at boot.',
    sources: [
      {
        where:
          'Xen xen/drivers/passthrough/iommu.c, check_hwdom_reqs: panic "Dom0 uses ' +
          'paging translated mode, dom0-passthrough must not be enabled"',
        versions: 'Xen 4.10 and 4.11; removed in 391266f012 (4.12)',
      },
    ],
  },
  'xen-pv-iommu-on-maintained-map': {
    severity: 'information',
    summary: 'PV-IOMMU (a proposal, never merged) on a map Xen maintains: the two writers would undo each other.',
    sources: [PV_IOMMU_PROPOSAL, XEN_NEED_SYNC],
  },
  'xen-stray-dma-faults': {
    severity: 'information',
    summary: 'A domain driving its own IOMMU map (a proposal, never merged): stray DMA to an unmapped BFN would fault.',
    sources: [PV_IOMMU_PROPOSAL, XEN_DEASSIGN],
  },
  'xen-not-upstream': {
    severity: 'information',
    summary: 'A Xen setting that describes no upstream behaviour (`iommu-map host-identity` on a domU).',
    sources: [XEN_NEED_SYNC],
  },
  'xen-shared-rmrr': {
    severity: 'error',
    summary: 'A device passed through alone whose RMRR it shares with other devices: Xen refuses (-EPERM).',
    sources: [
      {
        where:
          'Xen xen/drivers/passthrough/vtd/iommu.c, intel_iommu_assign_device ("It\'s disallowed to ' +
          'assign ... with shared RMRR", -EPERM; "It\'s risky ..." when relaxed)',
        versions: 'since 6457dae996 (4.6)',
      },
      {
        where:
          'Xen tools/libs/light/libxl_pci.c (rdm_policy=strict clears ' +
          "XEN_DOMCTL_DEV_RDM_RELAXED) and tools/xl/xl_parse.c (the device's rdm_policy over rdm=)",
      },
      { where: 'Xen xen/drivers/passthrough/amd/pci_amd_iommu.c, amd_iommu_assign_device (IVMD unity maps: no sharing check)' },
    ],
  },
  'xen-identity-map-conflict': {
    severity: 'error',
    summary: 'An RMRR identity mapping overlapping another one of the domain with a different range (-EADDRINUSE).',
    sources: [
      {
        where: 'Xen xen/drivers/passthrough/x86/iommu.c, iommu_identity_mapping (-EADDRINUSE)',
        versions: 'since c0e19d7c6c (XSA-378): 4.16, 4.15.1, 4.14.3, 4.13.4; older releases map overlapping RMRRs silently',
      },
      {
        where:
          'Xen xen/drivers/passthrough/vtd/iommu.c, setup_hwdom_rmrr ("IOMMU: mapping ' +
          'reserved region failed", a dprintk) and intel_iommu_assign_device',
      },
      { where: 'Xen xen/drivers/passthrough/x86/iommu.c, arch_iommu_hwdom_init (map-reserved maps every E820-reserved range for dom0)' },
    ],
  },
  'xen-rmrr-in-guest-ram': {
    severity: 'error',
    summary: "An RMRR of a device passed to an HVM domain inside the domain's RAM: libxl or Xen refuse it (rdm_policy=strict).",
    sources: [
      {
        where: 'Xen tools/libs/light/libxl_dm.c, libxl__domain_device_construct_rdm ("RDM conflict at 0x%lx."; rdm_mem_boundary 2048 MiB)',
        versions: 'since 25652f232c (4.6)',
      },
      {
        where:
          'Xen xen/arch/x86/mm/p2m.c, p2m_add_identity_entry ("Cannot setup identity map d%d:%lx, gfn already mapped to %lx.", -EBUSY)',
        versions: 'since 5ae03990c1 (4.6)',
      },
      {
        where:
          'Xen docs/man/xl.cfg.5.pod.in, rdm (strategy=host, policy=strict|relaxed) and docs/man/xl-pci-configuration.5.pod, rdm_policy',
      },
    ],
  },
  'xen-stale-iommu-mapping': {
    severity: 'information',
    summary: 'A balloon or free step on a map Xen does not maintain (a non-strict dom0 by design): the pages stay reachable by DMA.',
    sources: [XEN_NEED_SYNC, XEN_DOM0_DOC],
  },
  'xen-p2m-outside-memory': {
    severity: 'warning',
    summary: 'A balloon or free step over memory the domain does not own (or gave back already).',
    sources: [{ where: 'Xen xen/common/memory.c, decrease_reservation (returns the number of extents done)' }],
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(XEN_CODES);

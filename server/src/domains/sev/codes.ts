/** SEV-SNP and SEV-TIO: the finding codes this domain raises (sim/joinRules.ts and sim/launchUpdate.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const SEV_CODES = {
  'sev-not-confidential': {
    severity: 'error',
    summary: 'Private DMA or SNP_LAUNCH_UPDATE for a guest that is not (SEV-SNP) confidential.',
    sources: [{ where: 'Linux arch/x86/kvm/svm/sev.c: the KVM_SEV_SNP_* commands are for SNP guests; exact check unverified' }],
  },
  'sev-mixed-instance': {
    severity: 'error',
    summary: 'One iommufd instance of an SEV-TIO guest serves both private and shared devices.',
    sources: [
      { where: 'seed 001: each IOMMUFD instance in the VM is either all private or all shared', versions: 'SEV-TIO RFC only, not merged' },
      { where: 'QEMU docs/devel/vfio-iommufd.rst: iommufd= per vfio-pci device' },
    ],
  },
  'sev-private-needs-iommufd': {
    severity: 'error',
    summary: 'A private (TDISP) device on the legacy VFIO type1 container: the TSM bind needs an iommufd vIOMMU/vDEVICE.',
    sources: [
      { where: 'QEMU docs/devel/vfio-iommufd.rst: without iommufd= the legacy VFIO container' },
      { where: 'TSM bind RFCs: private assignment through an iommufd vIOMMU/vDEVICE', versions: 'SEV-TIO RFC only, not merged' },
    ],
  },
  'sev-dma-window': {
    severity: 'error',
    summary: "A device's DMA window on the wrong side of vTOM for its mode.",
    sources: [
      { where: 'AMD APM vol 2, 15.36.8: vTOM' },
      { where: 'seed 001: the IOMMU vTOM decides the C-bit of device DMA', versions: 'SEV-TIO RFC only, not merged' },
    ],
  },
  'sev-convert-needs-replug': {
    severity: 'error',
    summary: 'A device realized shared or private is converted; its DTE needs unplug and replug.',
    sources: [
      { where: 'seed 001: the DTE is written at realize; conversion events as unplug/replug', versions: 'SEV-TIO RFC only, not merged' },
    ],
  },
  'sev-launch-private-pinned': {
    severity: 'error',
    summary: 'A device realized private before SNP_LAUNCH_UPDATE: the launch fails with -EEXIST.',
    sources: [
      {
        where: 'Linux arch/x86/kvm/svm/sev.c, sev_gmem_post_populate: -EEXIST on a page already assigned',
        versions: 'SNP host support since Linux 6.11, release unverified',
      },
      { where: 'QEMU target/i386/sev.c, sev_snp_launch_finish: error_report SNP_LAUNCH_UPDATE ret= and exit' },
      {
        where: 'seed 001: iommufd pins guest memory as private at a private realize',
        versions: 'SEV-TIO RFC only, not merged, unconfirmed',
      },
    ],
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(SEV_CODES);

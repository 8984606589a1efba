/** The documentation of the keywords of VINTFs and SMMU command batches, for completion (ide/keywordDocs.ts keeps the core's). */
import type { KeywordDocs } from '../../../ide/contribution';

export const CMDQV_KEYWORDS: KeywordDocs = {
  enumTitles: { ownerKind: 'VINTF owner' },
  docs: {
    vintf:
      'An SMMUv3 CMDQV virtual interface (RULES §9): given to a guest as an iommufd vIOMMU, or ' +
      "without `for` the host kernel's VINTF0. `vintf NAME on IOMMU [for GUEST] { ... }`",
    commands: 'The SMMU command batches a guest issues through a VINTF. `commands VINTF { batch { ... } }`',
    cmdqv:
      'The SMMU has an NVIDIA Tegra241 CMDQV: `cmdqv [vintfs COUNT] [sids-per-vintf ' +
      'COUNT] [vcmdqs COUNT]`, powers of two (RULES §9.3, §9.7).',
    owner:
      'Who uses the VINTF, for the reader: what its queues accept follows HYP_OWN, which ' +
      'the kernel clears for every VINTF of user space (RULES §9.1).',
    stream: "The device's SMMU stream IDs (Arm), the first one first. `iommu IOMMU stream NUMBER, ...`",
    vmid: 'The VMID programmed into the VINTF (0 to 0xffff); it replaces the VMID of every guest command (RULES §9.3).',
    'hyp-own':
      "The VINTF's HYP_OWN bit (on for the host's VINTF0, off for a guest's): it decides what " +
      'the queues accept; the kernel never sets it for a guest (RULES §9.1).',
    queue: 'An LVCMDQ the VMM allocates (IOMMU_HW_QUEUE_ALLOC), in ascending order. `queue INDEX size BYTES [at ADDRESS]`',
    batch: 'The SMMU commands a guest submits at once; it must end with CMD_SYNC (RULES §9.2, §9.4).',
    vintfs: "How many VINTFs (virtual interfaces) the CMDQV has, a power of two; VINTF0 is the host kernel's (RULES §9.7).",
    vcmdqs: 'How many VCMDQs the CMDQV has, a power of two; each VINTF can map `vcmdqs / vintfs` of them as LVCMDQs.',
    'sids-per-vintf': 'How many stream-ID match/replace pairs each VINTF can use, at most 16 (RULES §9.3).',
    host: 'The host kernel uses the VINTF (VINTF0, HYP_OWN = 1 by default): its queues accept any command (RULES §9.1).',
  },
  // Where a keyword means something else, keyed `CONTEXT:word` (an enumeration, a rule or a block).
  senses: {
    'ownerKind:guest':
      'A guest uses the VINTF (HYP_OWN = 0): its queues accept only TLBI_NH_ASID, TLBI_NH_VA, ATC_INV and CMD_SYNC (RULES §9.2).',
    'vintfDecl:for': "The guest the VINTF is given to (as an iommufd vIOMMU); without `for`, the VINTF is the host kernel's VINTF0.",
    'streamStmt:as': 'The virtual stream ID the guest uses for the device.',
    'streamStmt:stream':
      "A SID_MATCH / SID_REPLACE pair: the guest's stream ID stands for the device's " +
      'physical one (RULES §9.3, §9.5). `stream DEVICE as VIRTUAL-SID`',
  },
};

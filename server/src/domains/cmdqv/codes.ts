/** SMMUv3 CMDQV: the finding codes this domain raises (sim/cmdqv.ts), with their upstream sources. */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const CMDQV_CODES = {
  'cmdqv-missing': { severity: 'error', summary: 'A VINTF on an IOMMU that is not an SMMUv3 with a CMDQV.' },
  'cmdqv-too-many-vintfs': { severity: 'error', summary: 'More VINTFs on one SMMU than its CMDQV has.' },
  'cmdqv-too-many-streams': { severity: 'error', summary: 'More streams in a VINTF than it has SID_MATCH/SID_REPLACE pairs.' },
  'cmdqv-wrong-smmu': { severity: 'error', summary: "A VINTF stream whose device sits behind another physical SMMU than the VINTF's." },
  'cmdqv-wrong-guest': { severity: 'error', summary: 'A vIOMMU backed by a VINTF that belongs to another guest.' },
  'cmdqv-hyp-own-by-guest': { severity: 'error', summary: 'HYP_OWN left set on a guest-owned VINTF.' },
  'cmdqv-unsupported-command': {
    severity: 'error',
    summary: "A command a guest-owned VINTF's queue does not take; it belongs on the emulated main queue.",
  },
  'cmdqv-mixed-batch': { severity: 'error', summary: 'A batch mixing commands the VINTF takes with commands it does not.' },
  'cmdqv-batch-without-sync': { severity: 'error', summary: 'A batch not closed by CMD_SYNC: the guest cannot know it completed.' },
  'cmdqv-unmapped-stream': { severity: 'error', summary: 'A command naming a stream ID no SID_MATCH pair of the VINTF matches.' },
  'cmdqv-stage2-invalidation': { severity: 'error', summary: 'A stage-2 invalidation from a guest whose vSMMU has no stage 2.' },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(CMDQV_CODES);

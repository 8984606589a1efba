/** What the SEV domain shows in the editor: the vTOM split of an SEV-SNP guest's RAM (RULES §6.1). */
import type { IdeParts } from '../../../ide/analysis';
import { SEV_KEYWORDS } from './keywords';
import { describeVtomSplit } from '../sim/joinRules';

export const SEV_IDE: IdeParts = {
  keywords: SEV_KEYWORDS,
  ramNote: (g, range) => describeVtomSplit(range, g),
};

/** What the TDISP domain shows in the editor: completion of its vocabulary. */
import type { IdeParts } from '../../../ide/analysis';
import { TDISP_KEYWORDS } from './keywords';
import { TDISP_FILLERS } from './completion';

export const TDISP_IDE: IdeParts = {
  keywords: TDISP_KEYWORDS,
  slotFillers: TDISP_FILLERS,
};

/** What the TDISP domain shows in the editor: completion of its vocabulary. */
import type { IdeParts } from '../../../ide/analysis';
import { TDISP_KEYWORDS } from './keywords';
import { TDISP_FILLERS } from './completion';

export const TDISP_IDE: IdeParts = {
  keywords: TDISP_KEYWORDS,
  slotFillers: TDISP_FILLERS,
  deviceNote(d, brief) {
    if (!d.tdisp) return undefined;
    if (brief) return 'TDISP-capable.';
    return `TDISP-capable: has a TDI the TSM can lock and start for a confidential VM${d.pf ? ` (a VF of ${d.pf.sym.name})` : ''}.`;
  },
};

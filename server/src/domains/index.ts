/**
 * The registry of domains: the one place that lists them. The top layers (lsp, cli) and the
 * tests import it and hand what it assembles to the core, which never imports a domain.
 */
import { CORE_CODES, codeTable, type CodeTable } from '../model/codes';
import { CMDQV_CODES } from './cmdqv/codes';
import { FIRMWARE_CODES } from './firmware/codes';
import { POOL_CODES } from './pools/codes';
import { SEV_CODES } from './sev/codes';
import { TDISP_CODES } from './tdisp/codes';
import { TIMELINE_CODES } from './timelines/codes';
import { XEN_CODES } from './xen/codes';

export interface Domain {
  /** Its folder's name under server/src/domains. */
  id: string;
  /** The only other domains its files may import (the architecture test holds it). */
  needs: readonly string[];
  /** The finding codes it raises. */
  codes: CodeTable;
}

/** Every domain, one line each, in the order of the generated settings. */
export const DOMAINS: readonly Domain[] = [
  { id: 'timelines', needs: ['tdisp', 'sev'], codes: TIMELINE_CODES },
  { id: 'tdisp', needs: [], codes: TDISP_CODES },
  { id: 'sev', needs: ['tdisp'], codes: SEV_CODES },
  { id: 'firmware', needs: [], codes: FIRMWARE_CODES },
  { id: 'pools', needs: [], codes: POOL_CODES },
  { id: 'xen', needs: [], codes: XEN_CODES },
  { id: 'cmdqv', needs: [], codes: CMDQV_CODES },
];

/** Every finding code: the core's, then each domain's. */
export const CODES = codeTable(CORE_CODES, ...DOMAINS.map((d) => d.codes));

export function isCode(s: string): boolean {
  return Object.hasOwn(CODES, s);
}

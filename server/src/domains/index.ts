/**
 * The registry of domains: the one place that lists them. The top layers (lsp, cli) and the
 * tests import it and hand what it assembles to the core, which never imports a domain.
 */
import { CORE_CODES, codeTable } from '../model/codes';
import { CMDQV_CODES } from './cmdqv/codes';
import { FIRMWARE_CODES } from './firmware/codes';
import { POOL_CODES } from './pools/codes';
import { SEV_CODES } from './sev/codes';
import { TDISP_CODES } from './tdisp/codes';
import { TIMELINE_CODES } from './timelines/codes';
import { XEN_CODES } from './xen/codes';

/** Every finding code: the core's, then each domain's (the order of the generated settings). */
export const CODES = codeTable(CORE_CODES, TIMELINE_CODES, TDISP_CODES, SEV_CODES, FIRMWARE_CODES, POOL_CODES, XEN_CODES, CMDQV_CODES);

export function isCode(s: string): boolean {
  return Object.hasOwn(CODES, s);
}

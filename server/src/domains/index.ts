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
import { CMDQV_ENGINE } from './cmdqv/engine';
import { FIRMWARE_ENGINE } from './firmware/engine';
import { POOLS_ENGINE } from './pools/engine';
import { TIMELINES_ENGINE } from './timelines/engine';
import { XEN_ENGINE } from './xen/engine';
import { engineIds, type SimEngine } from '../sim';
import { modelSchemaOf, type DomainParts } from '../ide/analysis';
import { CMDQV_MODEL } from './cmdqv/model/part';
import { FIRMWARE_MODEL } from './firmware/model/part';
import { POOLS_MODEL } from './pools/model/pool';
import { SEV_MODEL } from './sev/model/confidential';
import { TDISP_MODEL } from './tdisp/model/part';
import { TIMELINES_MODEL } from './timelines/model/timeline';
import { XEN_MODEL } from './xen/model/part';
import { CMDQV_IDE } from './cmdqv/ide/contribution';
import { FIRMWARE_IDE } from './firmware/ide/contribution';
import { POOLS_IDE } from './pools/ide/contribution';
import { TIMELINES_IDE } from './timelines/ide/contribution';
import { TDISP_IDE } from './tdisp/ide/contribution';
import { SEV_IDE } from './sev/ide/contribution';
import { checkGuestAssignments } from './sev/sim/joinRules';
import { XEN_IDE } from './xen/ide/contribution';

export interface Domain extends DomainParts {
  /** Its folder's name under server/src/domains. */
  id: string;
  /** The only other domains its files may import (the architecture test holds it). */
  needs: readonly string[];
  /** The finding codes it raises. */
  codes: CodeTable;
}

/** Every domain, one line each, in the order of the generated settings and of the engines' runs. */
export const DOMAINS: readonly Domain[] = [
  {
    id: 'timelines',
    needs: ['tdisp', 'sev'],
    codes: TIMELINE_CODES,
    model: TIMELINES_MODEL,
    engine: TIMELINES_ENGINE,
    ide: TIMELINES_IDE,
  },
  { id: 'tdisp', needs: [], codes: TDISP_CODES, model: TDISP_MODEL, ide: TDISP_IDE },
  { id: 'sev', needs: ['tdisp'], codes: SEV_CODES, model: SEV_MODEL, guestChecks: [checkGuestAssignments], ide: SEV_IDE },
  { id: 'pools', needs: [], codes: POOL_CODES, model: POOLS_MODEL, engine: POOLS_ENGINE, ide: POOLS_IDE },
  { id: 'firmware', needs: [], codes: FIRMWARE_CODES, model: FIRMWARE_MODEL, engine: FIRMWARE_ENGINE, ide: FIRMWARE_IDE },
  { id: 'xen', needs: [], codes: XEN_CODES, model: XEN_MODEL, engine: XEN_ENGINE, ide: XEN_IDE },
  { id: 'cmdqv', needs: [], codes: CMDQV_CODES, model: CMDQV_MODEL, engine: CMDQV_ENGINE, ide: CMDQV_IDE },
];

/** The domains' checks of each guest as VFIO starts it: what `simulate` takes after the engines. */
export const GUEST_CHECKS = DOMAINS.flatMap((d) => d.guestChecks ?? []);

/** The core's and the domains' model parts as one: what `buildModel` takes. */
export const MODEL_SCHEMA = modelSchemaOf(DOMAINS);

/** The domains' engines in the order they run (after the core's VFIO). */
export const ENGINES: readonly SimEngine[] = DOMAINS.flatMap((d) => (d.engine ? [d.engine] : []));
/** Every engine id: `vfio`, then the domains'. */
export const ENGINE_IDS: readonly string[] = engineIds(ENGINES);
export const ALL_ENGINES: ReadonlySet<string> = new Set(ENGINE_IDS);

/** Every finding code: the core's, then each domain's. */
export const CODES = codeTable(CORE_CODES, ...DOMAINS.map((d) => d.codes));

export function isCode(s: string): boolean {
  return Object.hasOwn(CODES, s);
}

/** What the CLI's `layout` command runs: the pools domain's layout of a guest safe on every host of a pool. */
export { POOLS_ENGINE };
export { noLayoutText, poolMachineLayout } from './pools/sim/pools';
export { machineLine, type MachineKnobs, type MachineType } from './pools/sim/ramLayout';

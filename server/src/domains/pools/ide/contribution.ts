/** What the pools domain shows in the editor: a pool's hover (its hosts' union and safe layout). */
import type { IdeParts } from '../../../ide/analysis';
import { POOL_KEYWORDS } from './keywords';
import { POOL_FILLERS } from './completion';
import { resultOf } from '../../../sim';
import { POOLS_ENGINE } from '../engine';
import { poolHover } from './poolHover';

export const POOLS_IDE: IdeParts = {
  looks: { pool: { token: 'type', outline: 'Array' } },
  keywords: POOL_KEYWORDS,
  slotFillers: POOL_FILLERS,
  hoverKinds: ['pool'],
  symbolDetails(model, out) {
    for (const pool of model.pools.values()) out.set(pool.sym, pool.hosts.map((h) => h.sym.name).join(', '));
  },
  symbolHover(a, sym) {
    const p = a.model.pools.get(sym.name);
    const l = p && resultOf(a.sim, POOLS_ENGINE).get(p);
    return l && p.sym === sym ? poolHover(p, l) : undefined;
  },
};

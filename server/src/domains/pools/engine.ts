/** Migration pools as an engine: it weighs the guests VFIO started on each host (RULES §4). */
import type { Pool } from './model/types';
import { mergeByDeclaration, VFIO, type SimEngine } from '../../sim/engine';
import { checkPools, type PoolLayout } from './sim/pools';

export const POOLS_ENGINE: SimEngine<Map<Pool, PoolLayout>> = {
  id: 'pools',
  description: 'Migration pools: every guest against every host of its pool.',
  needs: [VFIO],
  run: ({ model, regionsOf, guests }, sink) => checkPools(model, regionsOf, guests, sink),
  empty: () => new Map(),
  merge: mergeByDeclaration,
};

/** Pools: the finding codes this domain raises (sim/pools.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';
import { TYPE1_ATTACH, QEMU_MAP_FAILURE, RESV_REGIONS, SEED_002_PROPOSAL, POOL_RULE } from '../../model/codes';

export const POOL_CODES = {
  'pool-ram-conflict': {
    severity: 'warning',
    summary: 'Guest RAM overlaps a reserved region of another host of its pool.',
    sources: [POOL_RULE, RESV_REGIONS, QEMU_MAP_FAILURE],
  },
  'pool-doorbell-conflict': {
    severity: 'warning',
    summary: 'No longer reported (issue 24): it checked a guest msi-window against a pool; the window is fixed.',
    sources: [SEED_002_PROPOSAL],
  },
  'pool-address-width': {
    severity: 'warning',
    summary: 'Guest RAM beyond the IOMMU address width of another host of its pool.',
    sources: [POOL_RULE, TYPE1_ATTACH],
  },
  'pool-checks-truncated': {
    severity: 'information',
    summary: 'Too much work to check every guest against every host of the pool; the guests not checked may have conflicts not reported.',
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(POOL_CODES);

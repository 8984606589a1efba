/** Pools: the finding codes this domain raises (sim/pools.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';
import { TYPE1_ATTACH, QEMU_MAP_FAILURE, RESV_REGIONS, SEED_002_PROPOSAL, POOL_RULE } from '../../model/codes';

/** Where QEMU puts guest RAM and which knobs move it: what a pool-safe layout may use (RULES §3.9). */
const QEMU_SPLIT = {
  where: 'QEMU hw/i386/pc_q35.c, pc_q35_init and hw/i386/pc_piix.c, pc_init1: the split below 4 GiB and max-ram-below-4g',
};
const QEMU_AMD_1TB = {
  where: 'QEMU hw/i386/pc.c, pc_memory_init: above-4G RAM at 1 TiB for AMD vCPUs (enforce_amd_1tb_hole, machine types after 7.0)',
};
const QEMU_VIRT_RAM = { where: 'QEMU hw/arm/virt.c, virt_set_memmap: virt RAM is one block at 1 GiB; more comes as DIMMs above it' };

export const POOL_CODES = {
  'pool-ram-conflict': {
    severity: 'warning',
    summary: 'Guest RAM overlaps a reserved region of another host of its pool.',
    sources: [POOL_RULE, RESV_REGIONS, QEMU_MAP_FAILURE, QEMU_SPLIT, QEMU_AMD_1TB, QEMU_VIRT_RAM],
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

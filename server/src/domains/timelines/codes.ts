/** Timelines: the finding codes this domain raises (sim/runner.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';
import { TYPE1_ATTACH, SEED_002_PROPOSAL, POOL_RULE } from '../../model/codes';

export const TIMELINE_CODES = {
  'guest-not-running': {
    severity: 'error',
    summary: 'A step needs a running guest (hotplug, migrate, stop) and the guest is not running.',
  },
  'guest-already-running': { severity: 'error', summary: 'A guest is started twice in one timeline.' },
  'device-not-plugged': {
    severity: 'error',
    summary: 'An unplug of a device the guest does not hold.',
    sources: [{ where: 'QEMU qdev-monitor.c, qmp_device_del: "Device \'%s\' not found"' }],
  },
  'migrate-device-missing': {
    severity: 'error',
    summary: 'A device the guest holds does not exist on the migration target.',
    sources: [{ where: 'QEMU hw/vfio/pci.c, vfio_realize: the destination realizes -device vfio-pci,host=BDF' }],
  },
  'migrate-doorbell-conflict': {
    severity: 'error',
    summary: 'No longer reported (issue 24): it checked a movable doorbell window across a migration; the window is fixed.',
    sources: [SEED_002_PROPOSAL],
  },
  'migrate-address-width': {
    severity: 'warning',
    summary: "The migration target's IOMMU cannot reach the guest's RAM: the migration succeeds, a later hot-add there fails.",
    sources: [POOL_RULE, TYPE1_ATTACH],
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(TIMELINE_CODES);

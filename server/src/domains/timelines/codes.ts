/** Timelines: the finding codes this domain raises (sim/runner.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const TIMELINE_CODES = {
  'guest-not-running': {
    severity: 'error',
    summary: 'A step needs a running guest (hotplug, migrate, stop) and the guest is not running.',
  },
  'guest-already-running': { severity: 'error', summary: 'A guest is started twice in one timeline.' },
  'device-not-plugged': { severity: 'error', summary: 'An unplug of a device the guest does not hold.' },
  'migrate-device-missing': { severity: 'error', summary: 'A device the guest holds does not exist on the migration target.' },
  'migrate-doorbell-conflict': {
    severity: 'error',
    summary: "The guest's msi-window is free on the source but reserved on the migration target.",
  },
  'migrate-address-width': { severity: 'error', summary: "The migration target's IOMMU cannot reach the guest's RAM." },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(TIMELINE_CODES);

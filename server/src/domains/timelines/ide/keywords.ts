/** The documentation of the keywords of timeline steps, for completion (ide/keywordDocs.ts keeps the core's). */
import type { KeywordDocs } from '../../../ide/contribution';

export const TIMELINE_KEYWORDS: KeywordDocs = {
  statementNouns: { timeline: 'timeline step' },
  docs: {
    timeline:
      'Steps applied in order from a world where no guest runs: start, migrate, ' +
      'hot-plug, config writes, TDISP messages, ... `timeline NAME { ... }`',
    start: 'Start the guest on its platform: its memory map is fixed, its assigned devices realized (RULES §2, §3.5). `start GUEST`',
    stop: 'Stop the guest; its devices are released. `stop GUEST`',
    migrate:
      'Live-migrate the guest to another platform: the memory map stays, the devices move by name (RULES §4). `migrate GUEST to PLATFORM`',
    hotplug:
      "Hot-add a device to a running guest (device_add); fails when its group's regions " +
      'overlap guest RAM (RULES §3.5). `hotplug DEVICE into GUEST [as MODE]`',
    unplug: 'Hot-remove a device from its guest. `unplug DEVICE [from GUEST]`',
  },
};

/** The documentation of the keywords of confidential guests and SEV-TIO steps, for completion (ide/keywordDocs.ts keeps the core's). */
import type { KeywordDocs } from '../../../ide/contribution';

export const SEV_KEYWORDS: KeywordDocs = {
  enumTitles: { confidentialKind: 'confidential-computing technology', convertMode: 'DMA mode' },
  docs: {
    confidential: 'An AMD SEV-SNP or Intel TDX guest: `confidential sev-snp | tdx [ { vtom ADDRESS } ]` (RULES §6).',
    vtom:
      'The virtual top of memory for device DMA: guest addresses below it are private, ' +
      'at or above it shared (AMD APM vol. 2 §15.36.8; RULES §6.1).',
    'launch-update':
      'SNP_LAUNCH_UPDATE of the guest: fails with -EEXIST when a device realized ' +
      '`private` pinned its memory first (RULES §6.3). `launch-update GUEST`',
    convert:
      "The guest switches a device's DMA between private and shared memory; only a " +
      '`bind-capable` device can (RULES §6.4). `convert DEVICE to private | shared`',
    shared: 'The device does DMA to shared memory (the default).',
    private: 'The device does DMA to private memory through a locked TDI; decided when QEMU realizes it (RULES §6.2).',
    'bind-capable': 'The device runs shared until the guest asks to convert it to private (RULES §6.4).',
    'dma-window':
      "Where the device's DMA lands, guest-physical: below vTOM for a private device, " +
      'at or above for a shared one (RULES §6.1). `dma-window RANGE`',
    'sev-snp': 'AMD SEV-SNP guest: private memory, vTOM split of device DMA, SEV-TIO for private devices (RULES §6).',
    tdx: 'Intel TDX guest.',
  },
  // Where a keyword means something else, keyed `CONTEXT:word` (an enumeration, a rule or a block).
  senses: {
    'convertMode:private': 'Convert the device to private DMA: only a bind-capable device whose TDI is in RUN can (RULES §6.4).',
    'convertMode:shared': 'Convert the device back to shared DMA (RULES §6.4).',
    'convertStep:to': 'The memory the device should DMA to.',
  },
};

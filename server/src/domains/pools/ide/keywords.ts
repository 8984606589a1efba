/** The documentation of the keywords of pools, for completion (ide/keywordDocs.ts keeps the core's). */
import type { KeywordDocs } from '../../../ide/contribution';

export const POOL_KEYWORDS: KeywordDocs = {
  docs: {
    pool: 'Hosts a guest may be migrated between; every host must accept its memory map (RULES §4). `pool NAME { PLATFORM, ... }`',
  },
};

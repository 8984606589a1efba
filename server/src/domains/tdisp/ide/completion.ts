/** Completion of the TDISP domain's vocabulary: config-space bits of `config` steps, device quirks. */
import type { Candidate, Ctx } from '../../../ide/completion';
import { DEVICE_QUIRKS } from '../../../model/quirks';
import { CONFIG_BIT_DOCS } from './configBits';
import type { SlotFiller } from '../../../ide/contribution';
import type { Analysis } from '../../../ide/analysis';

/** `config D command|devctl BITS`: the register's bits not written yet on the line. */
function configBits(c: Ctx): Candidate[] {
  const words = c.assist.statement;
  const register = words.slice(2).find((w): w is 'command' | 'devctl' => w === 'command' || w === 'devctl');
  if (!register) return [];
  const written = new Set(words.map((w) => w.toUpperCase()));
  return Object.entries(CONFIG_BIT_DOCS[register])
    .filter(([b]) => !written.has(b))
    .map(([label, documentation]) => ({
      label,
      kind: 'bit' as const,
      detail: register === 'command' ? 'Command register bit' : 'Device Control register bit',
      documentation,
    }));
}

export const TDISP_FILLERS: Readonly<Record<string, SlotFiller<Analysis>>> = {
  'configStep/bits': (c) => configBits(c),
  'quirkStmt/word': (c) =>
    Object.entries(DEVICE_QUIRKS)
      .filter(([q]) => !c.assist.statement.includes(q))
      .map(([label, what]) => ({ label, kind: 'quirk' as const, detail: 'device quirk', documentation: `${what}.` })),
};

/** Completion in pool declarations: the platforms not listed yet. */
import { platforms } from '../../../ide/completion';
import type { SlotFiller } from '../../../ide/contribution';
import type { Analysis } from '../../../ide/analysis';

export const POOL_FILLERS: Readonly<Record<string, SlotFiller<Analysis>>> = {
  'poolDecl/ref0': (c) => platforms(c).filter((p) => !c.assist.statement.includes(p.label)),
};

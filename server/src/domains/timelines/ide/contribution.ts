/** What the timelines domain shows in the editor: the world after each step, and each device's states. */
import type { IdeParts } from '../../../ide/analysis';
import { TIMELINE_KEYWORDS } from './keywords';
import { TIMELINE_FILLERS } from './completion';
import { deviceSections } from './deviceStates';
import { timelineGroups, timelineLines } from './guestRam';
import { stepAt, stepHover } from './stepHover';

export const TIMELINES_IDE: IdeParts = {
  keywords: TIMELINE_KEYWORDS,
  slotFillers: TIMELINE_FILLERS,
  // Any step: asked after the other domains, whose steps (Xen's balloon and free) say more.
  fallbackStatementHover(a, uri, offset) {
    const step = stepAt(a, uri, offset);
    return step && { markdown: stepHover(step), span: step.step.step.span };
  },
  symbolDetails(model, out) {
    for (const t of model.timelines.values()) out.set(t.sym, `${t.steps.length} steps`);
  },
  addressDeclarations: (model) => [[...model.timelines.values()]],
  guestRamSections: timelineLines,
  guestGroups: timelineGroups,
  deviceSections: (a, _p, d) => deviceSections(a, d),
};

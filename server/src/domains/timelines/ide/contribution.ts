/** What the timelines domain shows in the editor: the world after each step, and each device's states. */
import type { IdeParts } from '../../../ide/analysis';
import { TIMELINE_KEYWORDS } from './keywords';
import { TIMELINE_FILLERS } from './completion';
import { deviceSections } from './deviceStates';
import { timelineGroups, timelineLines } from './guestRam';
import { stepAt, stepHover } from './stepHover';

export const TIMELINES_IDE: IdeParts = {
  looks: { timeline: { token: 'function', outline: 'Event' } },
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
  // A number in a step is about the guest and platform of that step.
  addressContext(a, decl, literal) {
    for (const t of a.model.timelines.values()) {
      if (t.decl !== decl) continue;
      const r = t.steps.find((x) => x.step.span.start <= literal.start && literal.end <= x.step.span.end);
      return { guest: r?.guest, platform: r?.platform };
    }
    return undefined;
  },
  guestRamSections: timelineLines,
  guestGroups: timelineGroups,
  deviceSections: (a, _p, d) => deviceSections(a, d),
};

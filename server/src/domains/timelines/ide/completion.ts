/** Completion in timeline steps: guests, platforms, and the devices of the platforms the timeline's guests are on at the cursor. */
import type { Guest, Platform } from '../../../model';
import { blockOf, devices, guests, platforms, type Ctx } from '../../../ide/completion';
import type { SlotFiller } from '../../../ide/contribution';
import type { Analysis } from '../../../ide/analysis';

/**
 * Where a device named in a timeline step may be: the platforms the timeline's guests are on
 * at the cursor (each guest where its last `start` or `migrate` put it), or every platform
 * before the timeline uses a guest, as name resolution does.
 */
function platformsInTimeline(c: Ctx): Platform[] {
  const t = c.a.model.timelines.get(blockOf(c, 'timelineBody')?.words[1] ?? '');
  const at = new Map<Guest, Platform>();
  if (t && t.sym.uri === c.uri) {
    for (const s of t.steps) {
      if (s.step.span.end > c.offset) break;
      const where = s.target ?? s.platform ?? s.guest?.platform;
      if (s.guest && where) at.set(s.guest, where);
    }
  }
  return at.size ? [...new Set(at.values())] : [...c.a.model.platforms.values()];
}

const timelineDevices = (c: Ctx) => devices(c, platformsInTimeline(c));

export const TIMELINE_FILLERS: Readonly<Record<string, SlotFiller<Analysis>>> = {
  'startStep/ref0': guests,
  'stopStep/ref0': guests,
  'launchUpdateStep/ref0': guests,
  'migrateStep/ref0': guests,
  'migrateStep/ref2': platforms,
  'hotplugStep/ref0': timelineDevices,
  'hotplugStep/ref2': guests,
  'unplugStep/ref0': timelineDevices,
  'unplugStep/ref2': guests,
  'tdispStep/ref0': (c) => {
    const ps = platformsInTimeline(c);
    return devices(c, ps, new Set(ps.flatMap((p) => [...p.devices.values()].filter((d) => d.tdisp).map((d) => d.sym.name))));
  },
  'configStep/ref0': timelineDevices,
  'powerStep/ref0': timelineDevices,
  'linkStep/ref0': timelineDevices,
  'convertStep/ref0': timelineDevices,
};

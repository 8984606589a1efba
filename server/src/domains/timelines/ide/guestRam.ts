/**
 * The timelines' part of a guest RAM hover: the guest as each step that concerns it leaves it,
 * and the groups its hot-adds and carried devices bring into its container.
 */
import type { Guest } from '../../../model';
import { groupLabel, resultOf, type GroupRegions, type GuestRamRange } from '../../../sim';
import type { Analysis } from '../../../ide/analysis';
import { fileNote, lineOf } from '../../../ide/hoverParts';
import { capped } from '../../../ide/markdown';
import { isMapped, modeNote } from '../../../ide/ramHover';
import { TIMELINES_ENGINE } from '../engine';
import type { GuestSnapshot } from '../sim/runner';
import { stepText } from './stepHover';

const LIMIT = 8;

/** The guest as each timeline step that concerns it leaves it, under a heading per timeline. */
export function timelineLines(a: Analysis, g: Guest, ranges: readonly GuestRamRange[], here: string): string[] {
  const out: string[] = [];
  for (const run of resultOf(a.sim, TIMELINES_ENGINE).values()) {
    const lines: string[] = [];
    let before: GuestSnapshot | undefined;
    for (const st of run.states) {
      const now = st.guests.find((x) => x.guest === g);
      // A step that leaves the guest alone keeps its snapshot (timeline.ts): only changes and its own steps are listed.
      if (now && (st.step.guest === g || now !== before))
        lines.push(`- line ${lineOf(a, st.step.uri, st.step.step.span.start)} \`${stepText(st)}\`: ${status(now, ranges)}`);
      before = now;
    }
    if (lines.length)
      out.push('', `Timeline **${run.timeline.sym.name}**${fileNote(run.timeline.sym.uri, here)}:`, ...capped(lines, LIMIT));
  }
  return out;
}

function status(s: GuestSnapshot, ranges: readonly GuestRamRange[]): string {
  if (!s.running) return 'not running';
  const on = s.platform ? `on ${s.platform.sym.name}` : 'running';
  if (!s.devices.length) return `${on}, no device: not mapped`;
  const held = s.devices.map((h) => `${h.device.sym.name} (${groupLabel(h.gr.group)}${modeNote(h.mode)})`).join(', ');
  const mapped = ranges.filter((r) => isMapped(s.container.mappings, r.range));
  if (mapped.length === ranges.length) return `${on}, mapped for ${held}`;
  if (!mapped.length) return `${on}, holding ${held}: not mapped`;
  return `${on}, holding ${held}: mapped ${mapped.map((r) => r.name).join(', ')} only`;
}

/** The groups each timeline brings into the guest's container: its hot-adds and carried devices. */
export function timelineGroups(a: Analysis, g: Guest): GroupRegions[] {
  const out = new Set<GroupRegions>();
  for (const run of resultOf(a.sim, TIMELINES_ENGINE).values()) {
    for (const st of run.states) for (const s of st.guests) if (s.guest === g) for (const h of s.devices) out.add(h.gr);
    // From the steps, not the states: a very long timeline keeps states only for its first steps.
    for (const r of run.timeline.steps) {
      if (r.step.kind === 'hotplug' && r.guest === g && r.device && r.platform) {
        const pr = a.sim.regionsOf(r.platform);
        const group = pr.groupOf(r.device);
        if (group) out.add(pr.regions(group));
      }
    }
  }
  return [...out];
}

/**
 * A device's state after each timeline step that touches it (which guest holds it and how,
 * its TDI's state and registers, power and link), one line per step with the step's line:
 * the timelines' part of the device hover.
 */
import type { Device } from '../../../model';
import { groupLabel, resultOf } from '../../../sim';
import { formatRegister } from '../../tdisp/sim/pciConfig';
import type { GuestSnapshot, Held, TimelineRun } from '../sim/runner';
import type { TdiSnapshot } from '../../tdisp/sim/timelineInterfaces';
import type { Analysis } from '../../../ide/analysis';
import { fileNote, lineOf } from '../../../ide/hoverParts';
import { capped } from '../../../ide/markdown';
import { TIMELINES_ENGINE } from '../engine';
import { stepText } from './stepHover';

const LIMIT = 12;

/** One section per timeline that touches the device. */
export function deviceSections(a: Analysis, d: Device): string[] {
  const out: string[] = [];
  for (const run of resultOf(a.sim, TIMELINES_ENGINE).values()) {
    const lines = timelineStates(a, run, d);
    if (lines.length)
      out.push('', `Timeline **${run.timeline.sym.name}**${fileNote(run.timeline.sym.uri, d.sym.uri)}:`, ...capped(lines, LIMIT));
  }
  return out;
}

interface DeviceState {
  holder?: { guest: GuestSnapshot; held: Held };
  tdi?: TdiSnapshot;
}

function stateIn(guests: readonly GuestSnapshot[], tdis: readonly TdiSnapshot[], d: Device): DeviceState {
  for (const g of guests) {
    const held = g.running ? g.devices.find((h) => h.device === d) : undefined;
    if (held) return { holder: { guest: g, held }, tdi: tdis.find((t) => t.device === d) };
  }
  return { tdi: tdis.find((t) => t.device === d) };
}

/**
 * One line per step that names the device or changes what holds it or its TDI. A line
 * repeats only what changed since the line before, except the TDI state.
 */
function timelineStates(a: Analysis, run: TimelineRun, d: Device): string[] {
  const out: string[] = [];
  let before: DeviceState = {};
  let shown: DeviceState | undefined;
  for (const st of run.states) {
    const r = st.step;
    const now = stateIn(st.guests, st.tdis, d);
    const named = r.device === d;
    if (!named && holderKey(before) === holderKey(now) && tdiKey(before) === tdiKey(now)) {
      before = now;
      continue;
    }
    const parts: string[] = [];
    if (!shown || holderKey(shown) !== holderKey(now)) parts.push(holderText(now));
    if (now.tdi) {
      const t = now.tdi;
      parts.push(`TDI ${t.state}`);
      if (!shown?.tdi || shown.tdi.regs.command !== t.regs.command) parts.push(`Command ${formatRegister('command', t.regs.command)}`);
      if (!shown?.tdi || shown.tdi.regs.devctl !== t.regs.devctl) parts.push(`Device Control ${formatRegister('devctl', t.regs.devctl)}`);
    }
    if (named && (r.step.kind === 'power' || r.step.kind === 'link') && r.step.state) parts.push(`${r.step.kind} ${r.step.state.text}`);
    out.push(`- line ${lineOf(a, r.uri, r.step.span.start)} \`${stepText(st)}\`: ${parts.length ? parts.join(', ') : 'no change'}`);
    before = shown = now;
  }
  const next = run.timeline.steps[run.states.length];
  if (next && (out.length || run.timeline.steps.slice(run.states.length).some((r) => r.device === d)))
    out.push(
      `- from line ${lineOf(a, next.uri, next.step.span.start)} on, the state is not kept: this timeline is too large (docs/limits.md)`,
    );
  return out;
}

function holderKey(s: DeviceState): string {
  return s.holder ? `${s.holder.guest.guest.sym.name} ${s.holder.held.mode} ${s.holder.held.dma}` : '';
}

function tdiKey(s: DeviceState): string {
  return s.tdi ? `${s.tdi.state} ${s.tdi.regs.command} ${s.tdi.regs.devctl}` : '';
}

function holderText(s: DeviceState): string {
  if (!s.holder) return 'in no guest';
  const { guest, held } = s.holder;
  const mode = held.mode === 'shared' ? '' : held.mode === 'bind-capable' ? `, bind-capable, DMA ${held.dma}` : ', private';
  return `in guest ${guest.guest.sym.name} (${groupLabel(held.gr.group)}${mode})`;
}

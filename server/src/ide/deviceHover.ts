/**
 * Hover on a device: its IOMMU, its group with the group's `reserved_regions` exactly as
 * sysfs prints them and the usable IOVA list VFIO reports, who it is assigned to, and
 * its state after each timeline step that touches it (which guest holds it and how, its
 * TDI's state and registers, power and link), one line per step with the step's line.
 */
import { formatBdf, formatInterval, formatIovaRange, hex, type Device, type Platform } from '../model';
import { DEVICE_QUIRKS } from '../domains/tdisp/model/pciRegisters';
import { formatRegister, groupLabel, sysfsLine, type GuestSnapshot, type Held, type TdiSnapshot, type TimelineRun } from '../sim';
import type { Analysis } from './analysis';
import { fileNote, lineOf } from './hoverParts';
import { capped, codeBlock } from './markdown';
import { stepText } from '../domains/timelines/ide/stepHover';

const LIMIT = 12;

export function deviceHover(a: Analysis, p: Platform, d: Device): string {
  const pr = a.sim.regionsOf(p);
  const group = pr.groupOf(d);
  const out = [`**device ${d.sym.name}**${d.bdf ? ` \`${formatBdf(d.bdf)}\`` : ''} on platform ${p.sym.name}`];
  if (d.tdisp)
    out.push('', `TDISP-capable: has a TDI the TSM can lock and start for a confidential VM${d.pf ? ` (a VF of ${d.pf.sym.name})` : ''}.`);
  for (const q of d.quirks) out.push('', `Quirk \`${q}\`: ${DEVICE_QUIRKS[q] ?? ''}.`);
  if (!d.iommu) {
    out.push('', 'Behind no IOMMU: it has no IOMMU group and cannot be assigned with VFIO.');
  } else {
    out.push(
      '',
      `IOMMU ${d.iommu.sym.name} (${d.iommu.kind ?? 'kind not given'})${d.stream !== undefined ? `, stream ${hex(d.stream)}` : ''}`,
    );
    if (group) {
      const gr = pr.regions(group);
      out.push('', `${groupLabel(group)}: ${group.devices.map((x) => x.sym.name).join(', ')}`);
      const path =
        group.number !== undefined
          ? `/sys/kernel/iommu_groups/${group.number}/reserved_regions`
          : 'reserved_regions (group number not given)';
      out.push('', `\`${path}\`:`, codeBlock(gr.list().map(sysfsLine)));
      out.push(
        '',
        `Usable IOVA (VFIO_IOMMU_GET_INFO, aperture ${formatInterval(gr.aperture)}):`,
        codeBlock(gr.usable().map(formatIovaRange)),
      );
    }
  }
  const users = [...a.sim.guests.values()].filter((s) => s.guest.assigns.some((x) => x.device === d)).map((s) => s.guest.sym.name);
  if (users.length) out.push('', `Assigned to guest ${users.join(', ')}.`);
  for (const run of a.sim.timelines.values()) {
    const lines = timelineStates(a, run, d);
    if (lines.length)
      out.push('', `Timeline **${run.timeline.sym.name}**${fileNote(run.timeline.sym.uri, d.sym.uri)}:`, ...capped(lines, LIMIT));
  }
  return out.join('\n');
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

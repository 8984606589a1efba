/**
 * The hover on a timeline step: the world after it (where each guest runs, what it holds,
 * its usable IOVA, every TDI's state).
 */
import { refText, type Ref } from '@iommu-lens/grammar';
import { formatIovaRange } from '../../../model';
import { groupLabel } from '../../../sim';
import { formatRegister } from '../../tdisp/sim/pciConfig';
import type { GuestSnapshot, Held, StepState } from '../sim/runner';
import type { TdiSnapshot } from '../../tdisp/sim/timelineInterfaces';
import type { Analysis } from '../../../ide/analysis';
import { codeBlock } from '../../../ide/markdown';
import { inside } from '../../../ide/positions';
import { resultOf } from '../../../sim';
import { TIMELINES_ENGINE } from '../engine';

/** The step under the cursor and the state after it. */
export function stepAt(a: Analysis, uri: string, offset: number): StepState | undefined {
  for (const run of resultOf(a.sim, TIMELINES_ENGINE).values()) {
    if (run.timeline.sym.uri !== uri || !inside(run.timeline.decl.span, offset)) continue;
    return run.states.find((s) => inside(s.step.step.span, offset));
  }
  return undefined;
}

export function stepHover(s: StepState): string {
  const out = [`**after \`${stepText(s)}\`**`];
  if (!s.guests.length) out.push('', 'No guest has started yet in this timeline.');
  for (const g of s.guests) out.push('', ...guestState(g));
  if (s.tdis.length) out.push('', ...tdiStates(s.tdis));
  return out.join('\n');
}

/** A step as written, names resolved as the user wrote them. */
export function stepText(s: StepState): string {
  const st = s.step.step;
  const name = (r?: Ref) => (r ? refText(r) : '?');
  switch (st.kind) {
    case 'start':
    case 'stop':
    case 'launch-update':
      return `${st.kind} ${name(st.guest)}`;
    case 'migrate':
      return `migrate ${name(st.guest)} to ${name(st.to)}`;
    case 'hotplug':
      return `hotplug ${name(st.device)} into ${name(st.guest)}${st.mode ? ` as ${st.mode.text}` : ''}`;
    case 'unplug':
      return `unplug ${name(st.device)}${st.guest ? ` from ${name(st.guest)}` : ''}`;
    case 'tdisp':
      return `tdisp ${name(st.device)} ${st.message?.text ?? ''}`;
    case 'config':
      return `config ${name(st.device)} ${[st.what, ...st.bits, st.bar, st.value]
        .filter((w) => w)
        .map((w) => w!.text)
        .join(' ')}`;
    case 'power':
    case 'link':
      return `${st.kind} ${name(st.device)} ${st.state?.text ?? ''}`;
    case 'convert':
      return `convert ${name(st.device)} to ${st.mode?.text ?? ''}`;
    default:
      return st.kind;
  }
}

/** Every TDI after the step: its state, its registers and the step that put it there. */
function tdiStates(tdis: readonly TdiSnapshot[]): string[] {
  const width = Math.max(...tdis.map((t) => t.device.sym.name.length));
  const lines = tdis.map(
    (t) =>
      `${t.device.sym.name.padEnd(width)}  ${t.state.padEnd(15)}  ` +
      `Command ${formatRegister('command', t.regs.command)}, Device Control ${formatRegister('devctl', t.regs.devctl)}`,
  );
  return ['TDIs (TDISP interface states, RULES §5):', codeBlock(lines)];
}

function guestState(g: GuestSnapshot): string[] {
  const where = g.platform ? ` on ${g.platform.sym.name}` : '';
  const head = `guest **${g.guest.sym.name}**${where}: ${g.running ? 'running' : 'not running'}`;
  if (!g.running) return [head];
  const held = g.devices.map((h) => `${h.device.sym.name} (${groupLabel(h.gr.group)}${modeText(h)})`);
  const lines = [head, `- devices: ${held.length ? held.join(', ') : 'none (no VFIO container in use)'}`];
  if (g.guest.confidential?.technology === 'sev-snp') lines.push(`- SNP_LAUNCH_UPDATE: ${g.launched ? 'done' : 'not yet'}`);
  if (g.container.groups.length) {
    lines.push(
      `- ${g.guest.container === 'iommufd' ? 'iommufd IOAS' : 'type1 container'}: ` +
        `${g.container.mappings.length} RAM mapping${g.container.mappings.length === 1 ? '' : 's'}; usable IOVA:`,
    );
    lines.push(codeBlock(g.container.usable().map(formatIovaRange)));
  }
  return lines;
}

function modeText(h: Held): string {
  if (h.mode === 'shared') return '';
  return h.mode === 'bind-capable' ? `, bind-capable, DMA ${h.dma}` : ', private';
}

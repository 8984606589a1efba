/**
 * SEV-SNP / SEV-TIO rules about how devices join a confidential guest (RULES §6):
 * - the IOMMU vTOM splits guest-physical space: private below, shared at or above;
 * - QEMU gives all vfio-pci devices of a VM one iommufd instance, and with vTOM deciding
 *   the C-bit an instance is all private or all shared (§6.1);
 * - a device's DMA window must lie on its mode's side of vTOM (§6.1);
 * - private and bind-capable devices need a TDISP-capable function and a confidential guest.
 * Used for a guest's `assign` lines and for `hotplug` and `convert` steps.
 */
import type { Finding, Location, Related } from '../../../model/findings';
import { finding } from '../codes';
import { finding as tdispFinding } from '../../tdisp/codes';
import { formatInterval, hex, U64_MAX, type Interval } from '../../../model/interval';
import type { AssignMode, Device, Guest } from '../../../model/types';

/** Which side of vTOM a range is on. Without `vtom` the RFC's setting applies: vTOM at its maximum, all private. */
export function vtomSplit(range: Interval, vtom: bigint | undefined): { private?: Interval; shared?: Interval } {
  const top = vtom ?? U64_MAX + 1n;
  if (range.end < top) return { private: range };
  if (range.start >= top) return { shared: range };
  return { private: { start: range.start, end: top - 1n }, shared: { start: top, end: range.end } };
}

/** One line of hover text: the private and shared parts of a guest RAM range. */
export function describeVtomSplit(range: Interval, g: Guest): string | undefined {
  if (g.confidential?.technology !== 'sev-snp') return undefined;
  const vtom = g.confidential.vtom;
  const s = vtomSplit(range, vtom);
  const parts = [s.private && `private \`${formatInterval(s.private)}\``, s.shared && `shared \`${formatInterval(s.shared)}\``].filter(
    Boolean,
  );
  return `SEV-SNP, vTOM ${vtom === undefined ? 'not given (at its maximum)' : `\`${hex(vtom)}\``}: ${parts.join(', ')} (device DMA below vTOM is private, at or above shared)`;
}

/** The side of vTOM a device's DMA is on: bind-capable devices run shared until converted (§6.4). */
export function dmaSide(mode: AssignMode): 'private' | 'shared' {
  return mode === 'private' ? 'private' : 'shared';
}

/** A device in a guest, as the SEV checks see it. */
export interface Member {
  device: Device;
  mode: AssignMode;
  window?: Interval;
  /** The line that set its mode: an `assign`, a `hotplug` or a `convert`. */
  at: Location;
}

/**
 * Checks a device joining (or converting in) a guest against the guest's settings and the
 * devices already in its iommufd instance. `prefix` opens each message.
 */
export function checkMember(g: Guest, m: Member, others: readonly Member[], prefix: string, out: Finding[], context: Related[] = []): void {
  const d = m.device;
  if (m.mode !== 'shared') {
    if (!g.confidential) {
      out.push(
        finding(
          'sev-not-confidential',
          m.at,
          `${prefix}${d.sym.name} is assigned ${m.mode}, but guest ${g.sym.name} is not confidential (no \`confidential\` statement): private DMA needs an SEV-SNP or TDX guest, so QEMU refuses the TDISP (x-tio) device`,
          { related: [{ uri: g.sym.uri, span: g.sym.nameSpan, message: `guest ${g.sym.name}` }, ...context] },
        ),
      );
    }
    if (!d.tdisp) {
      out.push(
        tdispFinding(
          'tdisp-not-capable',
          m.at,
          `${prefix}${d.sym.name} is assigned ${m.mode}, but it does not support TDISP (no \`tdisp\` in its declaration): private DMA needs a TDI the TSM can lock and start (RULES §5)`,
          { related: [{ uri: d.sym.uri, span: d.sym.nameSpan, message: `device ${d.sym.name}` }, ...context] },
        ),
      );
    }
  }
  if (g.confidential?.technology !== 'sev-snp') return;
  const side = dmaSide(m.mode);
  const vtom = g.confidential.vtom;
  if (m.window && vtom !== undefined) {
    const s = vtomSplit(m.window, vtom);
    const wrong = side === 'private' ? s.shared : s.private;
    if (wrong) {
      out.push(
        finding(
          'sev-dma-window',
          m.at,
          `${prefix}the DMA window ${formatInterval(m.window)} of ${m.mode} device ${d.sym.name} reaches ${formatInterval(wrong)}, ${side === 'private' ? 'at or above' : 'below'} vTOM ${hex(vtom)}: the IOMMU treats DMA there as ${side === 'private' ? 'shared (C-bit clear), so the device would write guest data in the clear' : 'private (C-bit set), which a shared device may not touch: the RMP check faults'} (RULES §6.1)`,
          { related: [{ uri: g.sym.uri, span: g.confidential.stmt.span, message: `vTOM of guest ${g.sym.name}` }, ...context] },
        ),
      );
    }
  }
  const other = others.find((o) => o.device !== d && dmaSide(o.mode) !== side);
  if (other) {
    out.push(
      finding(
        'sev-mixed-instance',
        m.at,
        `${prefix}${d.sym.name} DMAs ${side === 'private' ? 'privately' : 'to shared memory'} (${m.mode}) and ${other.device.sym.name} ${dmaSide(other.mode) === 'private' ? 'privately' : 'to shared memory'} (${other.mode}), through the one iommufd instance QEMU gives guest ${g.sym.name}: with SEV-TIO the IOMMU's vTOM decides the C-bit for the whole instance, so it is all private or all shared; mixed private and shared DMA in one IOMMU is unsupported (RULES §6.1)`,
        { related: [{ ...other.at, message: `${other.device.sym.name} is ${other.mode} here` }, ...context] },
      ),
    );
  }
}

/**
 * Checks a guest's own `assign` lines, in order. Each is compared with the first earlier
 * one on the other side of vTOM (the one the check names), not with every earlier one:
 * thousands of assignments cost thousands of checks.
 */
export function checkGuestAssignments(g: Guest, out: Finding[]): void {
  const first: Partial<Record<'private' | 'shared', Member>> = {};
  for (const a of g.assigns) {
    if (!a.device) continue;
    const m: Member = { device: a.device, mode: a.mode, window: a.dmaWindow, at: { uri: a.uri, span: a.stmt.span } };
    const side = dmaSide(m.mode);
    const other = first[side === 'private' ? 'shared' : 'private'];
    checkMember(g, m, other ? [other] : [], '', out);
    first[side] ??= m;
  }
}

/**
 * SEV-SNP / SEV-TIO rules about how devices join a confidential guest (RULES §6). Private
 * device assignment is the SEV-TIO RFC's path (seed 001): not merged in Linux or QEMU, so
 * every finding built on it says so.
 * - the IOMMU vTOM splits guest-physical space: private below, shared at or above;
 * - a vfio-pci device uses the iommufd instance its `iommufd=` names, or the legacy type1
 *   container without one (QEMU docs/devel/vfio-iommufd.rst); a VM may have several. With
 *   vTOM deciding the C-bit, each instance is all private or all shared (§6.1, §6.6);
 * - private assignment binds the TDI through an iommufd vIOMMU/vDEVICE, which the legacy
 *   container does not have (§6.5);
 * - a device's DMA window must lie on its mode's side of vTOM (§6.1);
 * - private and bind-capable devices need a TDISP-capable function and a confidential guest.
 * Used for a guest's `assign` lines and for `hotplug` and `convert` steps.
 */
import type { Finding, Location, Related } from '../../../model/findings';
import { finding } from '../codes';
import { finding as tdispFinding } from '../../tdisp/codes';
import { formatInterval, hex, U64_MAX, type Interval } from '../../../model/interval';
import type { Fix } from '../../../model/findings';
import type { AssignMode, Device, Guest } from '../../../model/types';

/** Where a rule rests on the unmerged SEV-TIO series. */
const RFC = 'SEV-TIO RFC, not merged';

/**
 * The iommufd instance a device uses: the one its line names (`iommufd NAME`), else the
 * guest's implicit one (`container iommufd`, the empty name), else none: QEMU without
 * `iommufd=` uses the legacy VFIO type1 container.
 */
export function instanceOf(g: Guest, named?: string): string | undefined {
  return named ?? (g.container === 'iommufd' ? '' : undefined);
}

function instanceName(g: Guest, instance: string): string {
  return instance ? `iommufd instance ${instance}` : `the iommufd instance of guest ${g.sym.name} (container iommufd)`;
}

/** `container iommufd` for guest `g`: rewrites its `container` line, or adds one first in its body. */
function iommufdContainerFix(g: Guest): Fix[] {
  const uri = g.sym.uri;
  const stmt = g.decl.items.find((i) => i.kind === 'container');
  if (stmt?.kind === 'container' && stmt.value) {
    return [{ title: `Use iommufd for guest ${g.sym.name}`, edits: [{ uri, span: stmt.value.span, newText: 'iommufd' }] }];
  }
  const first = g.decl.items[0];
  if (!first) return [];
  const at = first.span.start;
  return [
    { title: `Use iommufd for guest ${g.sym.name}`, edits: [{ uri, span: { start: at, end: at }, newText: 'container iommufd\n  ' }] },
  ];
}

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
  return (
    `SEV-SNP, vTOM ${vtom === undefined ? 'not given (at its maximum)' : `\`${hex(vtom)}\``}: ` +
    `${parts.join(', ')} (device DMA below vTOM is private, at or above shared)`
  );
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
  /** Its iommufd instance (`instanceOf`); none: the legacy type1 container. */
  instance?: string;
  /** The line that set its mode: an `assign`, a `hotplug` or a `convert`. */
  at: Location;
}

/**
 * Checks a device joining (or converting in) a guest against the guest's settings and the
 * devices already in its iommufd instance. `prefix` opens each message.
 */
export function checkMember(g: Guest, m: Member, others: readonly Member[], prefix: string, out: Finding[], context: Related[] = []): void {
  const d = m.device;
  if (m.mode === 'private' && m.instance === undefined) {
    out.push(
      finding(
        'sev-private-needs-iommufd',
        m.at,
        `${prefix}${d.sym.name} is assigned private, but it uses the legacy VFIO ` +
          'container (type1): private (TDISP) assignment binds the TDI ' +
          `through an iommufd vIOMMU/vDEVICE, which the legacy container does not have (${RFC}). Give ${d.sym.name} an iommufd backend ` +
          '(`-object iommufd,id=...` and `iommufd=` on the device: `container iommufd`, or `iommufd NAME` on the line) (RULES §6.5)',
        { related: [{ uri: g.sym.uri, span: g.sym.nameSpan, message: `guest ${g.sym.name}` }, ...context], fixes: iommufdContainerFix(g) },
      ),
    );
  }
  if (m.mode !== 'shared') {
    if (!g.confidential) {
      out.push(
        finding(
          'sev-not-confidential',
          m.at,
          `${prefix}${d.sym.name} is assigned ${m.mode}, but guest ${g.sym.name} is not confidential (no \`confidential\` ` +
            `statement): private DMA needs an SEV-SNP or TDX guest, so the TDISP (x-tio) device cannot be private (${RFC})`,
          { related: [{ uri: g.sym.uri, span: g.sym.nameSpan, message: `guest ${g.sym.name}` }, ...context] },
        ),
      );
    }
    if (!d.tdisp) {
      out.push(
        tdispFinding(
          'tdisp-not-capable',
          m.at,
          `${prefix}${d.sym.name} is assigned ${m.mode}, but it does not support TDISP (no \`tdisp\` in ` +
            'its declaration): private DMA needs a TDI the TSM can lock and start (RULES §5)',
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
          `${prefix}the DMA window ${formatInterval(m.window)} of ${m.mode} device ${d.sym.name} ` +
            `reaches ${formatInterval(wrong)}, ${side === 'private' ? 'at or above' : 'below'} vTOM ${hex(vtom)}: the IOMMU ` +
            'treats DMA there as ' +
            `${
              side === 'private'
                ? 'shared (C-bit clear), so the device would write guest data in the clear'
                : 'private (C-bit set), which a shared device may not touch: the RMP check faults'
            } (RULES §6.1)`,
          { related: [{ uri: g.sym.uri, span: g.confidential.stmt.span, message: `vTOM of guest ${g.sym.name}` }, ...context] },
        ),
      );
    }
  }
  if (m.instance === undefined) return;
  const other = others.find((o) => o.device !== d && o.instance === m.instance && dmaSide(o.mode) !== side);
  if (other) {
    out.push(
      finding(
        'sev-mixed-instance',
        m.at,
        `${prefix}${d.sym.name} DMAs ${side === 'private' ? 'privately' : 'to shared memory'} (${m.mode}) ` +
          `and ${other.device.sym.name} ${dmaSide(other.mode) === 'private' ? 'privately' : 'to shared memory'} ` +
          `(${other.mode}), through ${instanceName(g, m.instance)}: with SEV-TIO the IOMMU's vTOM decides the C-bit for the ` +
          'whole instance, so it is all private or all shared; mixed private and shared DMA in one instance is unsupported ' +
          `(${RFC}). Give one of them an iommufd instance of its own (\`iommufd NAME\`) (RULES §6.1, §6.6)`,
        { related: [{ ...other.at, message: `${other.device.sym.name} is ${other.mode} here` }, ...context] },
      ),
    );
  }
}

/**
 * Checks a guest's own `assign` lines, in order. Each is compared with the first earlier
 * one of its iommufd instance on the other side of vTOM (the one the check names), not with
 * every earlier one: thousands of assignments cost thousands of checks.
 */
export function checkGuestAssignments(g: Guest, out: Finding[]): void {
  const first = new Map<string | undefined, Partial<Record<'private' | 'shared', Member>>>();
  for (const a of g.assigns) {
    if (!a.device) continue;
    const instance = instanceOf(g, a.iommufd);
    const m: Member = { device: a.device, mode: a.mode, window: a.dmaWindow, instance, at: { uri: a.uri, span: a.stmt.span } };
    const side = dmaSide(m.mode);
    const seen = first.get(instance) ?? {};
    first.set(instance, seen);
    const other = seen[side === 'private' ? 'shared' : 'private'];
    checkMember(g, m, other ? [other] : [], '', out);
    seen[side] ??= m;
  }
}

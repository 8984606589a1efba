/** Completion in Xen declarations and balloon/free steps: platforms, the host's devices, Xen domains. */
import { blockOf, devices, doc, guests, platformNamed, platforms, wordAfter, type Candidate, type Ctx } from '../../../ide/completion';
import type { SlotFiller } from '../../../ide/contribution';
import type { Analysis } from '../../../ide/analysis';

function xenDevices(c: Ctx): Candidate[] {
  const words = blockOf(c, 'xenBody')?.words;
  const p = platformNamed(c, wordAfter(words, 'on')) ?? c.a.model.xens.get(words?.[1] ?? '')?.platform;
  return p ? devices(c, [p]) : [];
}

/** `balloon`/`free`: guests, and Xen domains as `XEN.DOMAIN` (after `XEN.`, that host's domains). */
function balloonTargets(c: Ctx): Candidate[] {
  const q = c.slot.qualifier;
  const xens = q === undefined ? [...c.a.model.xens.values()] : [c.a.model.xens.get(q)].filter((x) => x !== undefined);
  const domains = xens
    .flatMap((x) => [...x.domains.values()])
    .map(
      (d): Candidate => ({
        label: q === undefined ? `${d.xen.sym.name}.${d.sym.name}` : d.sym.name,
        kind: 'domain',
        detail: `${d.isDom0 ? 'dom0' : 'Xen domain'} of ${d.xen.sym.name}${d.mode ? `, ${d.mode}` : ''}`,
        documentation: doc(c, d.sym, [d.iommuMap ? `IOMMU map: ${d.iommuMap}.` : undefined]),
      }),
    )
    .sort((x, y) => x.label.localeCompare(y.label));
  return q === undefined ? [...guests(c), ...domains] : domains;
}

export const XEN_FILLERS: Readonly<Record<string, SlotFiller<Analysis>>> = {
  'xenDecl/ref0': platforms,
  'passStmt/ref0': (c) => xenDevices(c),
  'passStmt/ref2': (c) => xenDevices(c),
  'balloonStep/ref0': (c) => balloonTargets(c),
  'freeStep/ref0': (c) => balloonTargets(c),
};

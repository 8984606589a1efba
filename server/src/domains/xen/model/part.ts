/** Xen's part of the model: Xen hosts and their domains, resolved after guests. */
import type * as A from '@iommu-lens/grammar';
import type { ModelPart } from '../../../model/part';
import { xen } from './xen';

export const XEN_MODEL: ModelPart = {
  kinds: {
    xen: { noun: 'Xen host', global: { plural: 'Xen hosts' } },
    domain: { noun: 'Xen domain' },
  },
  maps: ['xens'],
  passes: { 'after-guests': { decls: { xen } } },
  // A timeline names a domain bare (`balloon dom0 ...`).
  bareNames: domainNames,
};

function domainNames(d: A.Decl): string[] {
  if (d.kind !== 'xen') return [];
  const out: string[] = [];
  for (const item of d.items)
    if (item.kind === 'dom0') out.push('dom0');
    else if (item.kind === 'domain' && item.name) out.push(item.name.text);
  return out;
}

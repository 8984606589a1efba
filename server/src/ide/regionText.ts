/** How hovers name where a region comes from and the groups that share a line. */
import { groupLabel, someOf, type IommuGroup } from '../sim';
import type { RegionSource } from '../sim/regions';

const LIMIT = 8;

/** Where a region comes from, in a few words. */
export function sourceName(s: RegionSource): string {
  switch (s.kind) {
    case 'declared':
      return `reserved region ${s.region.sym.name}`;
    case 'builtin':
      return `${s.label} of IOMMU ${s.iommu.sym.name}`;
  }
}

/** `groups 9, 13, 17`: numbered groups share one word; a device's own group is named by its device. */
export function groupsText(groups: readonly IommuGroup[]): string {
  const numbered = groups.filter((g) => g.number !== undefined).map((g) => g.number!.toString());
  const own = groups.filter((g) => g.number === undefined).map(groupLabel);
  const parts = [...(numbered.length ? [`group${numbered.length > 1 ? 's' : ''} ${someOf(numbered, LIMIT)}`] : []), ...own];
  return someOf(parts, LIMIT);
}

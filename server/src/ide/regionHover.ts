/**
 * Hover on a reserved region: what its type means to Linux (`enum iommu_resv_type`), who
 * it applies to, and the exact line each group's `reserved_regions` prints for it after
 * the kernel's merge (which may join it with touching regions of the same type).
 */
import { formatInterval, formatSize, intervalSize, type Platform, type ReservedRegion } from '../model';
import { groupLabel, someOf, sysfsLine, type IommuGroup } from '../sim';
import { mergedAround } from '../sim/addressQuery';
import type { Analysis } from './analysis';
import { sourceName } from './regionText';
import { codeBlock } from './markdown';
import { REGION_MEANING } from './keywordDocs';

const LIMIT = 8;

export function regionHover(a: Analysis, p: Platform, r: ReservedRegion): string {
  const out = [
    `**reserved region ${r.sym.name}**: \`${r.type ?? '?'}\`` +
      `${r.range ? ` \`${formatInterval(r.range)}\` (${formatSize(intervalSize(r.range))})` : ''}`,
  ];
  if (r.type) out.push('', `\`${REGION_MEANING[r.type].enumName}\`: ${REGION_MEANING[r.type].meaning}.`);
  const who =
    r.targets.length === 0
      ? 'every device of the platform'
      : r.targets
          .map((t) =>
            t.kind === 'device'
              ? `device ${t.device.sym.name}`
              : t.kind === 'iommu'
                ? `the devices behind ${t.iommu.sym.name}`
                : `group ${t.group}`,
          )
          .join(', ');
  out.push('', `Applies to ${who}.`);
  if (!r.type || !r.range) return out.join('\n');
  const pr = a.sim.regionsOf(p);
  // Each group's merged region holding this one, grouped by the line sysfs prints.
  const lines = new Map<string, { groups: IommuGroup[]; others: string[] }>();
  for (const g of pr.groups) {
    const m = mergedAround(pr.regions(g), r.type, r.range);
    if (!m?.sources.some((s) => s.kind === 'declared' && s.region === r)) continue;
    const line = sysfsLine(m);
    let l = lines.get(line);
    if (!l)
      lines.set(
        line,
        (l = { groups: [], others: [...new Set(m.sources.filter((s) => !(s.kind === 'declared' && s.region === r)).map(sourceName))] }),
      );
    l.groups.push(g);
  }
  const groups = [...lines.values()].flatMap((l) => l.groups);
  if (!groups.length) {
    out.push('', `No device's group holds it; sysfs would print it as \`${sysfsLine({ type: r.type, range: r.range })}\`.`);
    return out.join('\n');
  }
  out.push('', `In the reserved regions of ${someOf(groups.map(groupLabel), LIMIT)}.`);
  for (const [line, l] of lines) {
    const merged = l.others.length ? `, merged with ${someOf(l.others, 4)}` : '';
    out.push('', `\`reserved_regions\` of ${someOf(l.groups.map(groupLabel), LIMIT)}${merged}:`, codeBlock([line]));
  }
  return out.join('\n');
}

/**
 * Hover on a device: its IOMMU, its group with the group's `reserved_regions` exactly as
 * sysfs prints them and the usable IOVA list VFIO reports, who it is assigned to, then what
 * each domain adds (its timelines' states: timelines/ide/deviceStates.ts).
 */
import { formatBdf, formatInterval, formatIovaRange, hex, type Device, type Platform } from '../model';
import { DEVICE_QUIRKS } from '../model/quirks';
import { groupLabel, sysfsLine } from '../sim';
import type { Analysis } from './analysis';
import { codeBlock } from './markdown';

export function deviceHover(a: Analysis, p: Platform, d: Device): string {
  const pr = a.sim.regionsOf(p);
  const group = pr.groupOf(d);
  const out = [`**device ${d.sym.name}**${d.bdf ? ` \`${formatBdf(d.bdf)}\`` : ''} on platform ${p.sym.name}`];
  for (const x of a.domains) {
    const note = x.ide?.deviceNote?.(d, false);
    if (note) out.push('', note);
  }
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
  for (const x of a.domains) out.push(...(x.ide?.deviceSections?.(a, p, d) ?? []));
  return out.join('\n');
}

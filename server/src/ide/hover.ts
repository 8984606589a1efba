/**
 * Hover: what the simulator knows about the name under the cursor. A device shows its
 * IOMMU group's reserved regions exactly as `/sys/kernel/iommu_groups/N/reserved_regions`
 * prints them and the usable IOVA list VFIO would report; a guest its RAM map and
 * container; a region or IOMMU what it is and who it applies to. Markdown out.
 */
import type { Span } from '@iommu-lens/grammar';
import { formatBdf, formatInterval, formatIovaRange, formatSize, hex, intervalSize, type Device, type Guest, type Iommu, type Platform, type ReservedRegion, type Sym } from '../model';
import { DEFAULT_ADDRESS_WIDTH, describeVtomSplit, groupLabel, MSI_IOVA_WINDOW, someOf, sysfsLine } from '../sim';
import { DEVICE_QUIRKS } from '../model/pciRegisters';
import type { Analysis } from './analysis';
import { codeBlock } from './markdown';
import { firmwareHover, firmwarePartHover } from './firmwareHover';
import { machineAt, machineHover, poolHover, stepAt, stepHover } from './stateHover';
import { domainHover, p2mAt, p2mHover, xenHover } from './xenHover';
import { commandAt, commandHover, vintfHover } from './cmdqvHover';

export interface HoverResult { markdown: string; span: Span }

const REGION_MEANING: Record<string, string> = {
  direct: 'must stay identity-mapped (IOVA = PA); a device with one cannot be assigned (RULES §1.6)',
  'direct-relaxable': 'identity-mapped, but may be dropped for device assignment; not cut from the usable IOVA list',
  reserved: 'never mapped, never given to a device; cut from the usable IOVA list',
  msi: 'a hardware MSI doorbell, not translated by the IOMMU; cut from the usable IOVA list',
  'sw-msi': 'a software-managed MSI window, translated to the doorbell by the IOMMU; sysfs prints it as `msi`',
};

/** The declaration or reference whose name covers `offset`. */
function symbolAt(a: Analysis, uri: string, offset: number): { sym: Sym; span: Span } | undefined {
  const inside = (s: Span) => s.start <= offset && offset <= s.end;
  for (const r of a.model.references) if (r.uri === uri && inside(r.span)) return { sym: r.target, span: r.span };
  for (const s of a.model.symbols) if (s.uri === uri && inside(s.nameSpan)) return { sym: s, span: s.nameSpan };
  return undefined;
}

export function hover(a: Analysis, uri: string, offset: number): HoverResult | undefined {
  const main = entityHover(a, uri, offset);
  const trace = traceHover(a, uri, offset);
  if (!trace) return main;
  return main ? { markdown: `${main.markdown}\n\n---\n\n${trace.markdown}`, span: main.span } : trace;
}

/** Findings that carry a simulated trace (an order of notify functions) list it. */
function traceHover(a: Analysis, uri: string, offset: number): HoverResult | undefined {
  const hits = (a.findings.get(uri) ?? []).filter((f) => f.trace && f.span.start <= offset && offset <= f.span.end);
  if (!hits.length) return undefined;
  const markdown = hits.map((f) => [`**\`${f.code}\`: one order in which it happens**`, '',
    ...f.trace!.map((t) => `${t.message} (line ${a.lineIndex(t.uri).position(t.span.start).line + 1})`)].join('\n')).join('\n\n');
  return { markdown, span: hits[0]!.span };
}

function entityHover(a: Analysis, uri: string, offset: number): HoverResult | undefined {
  const at = symbolAt(a, uri, offset);
  if (!at) return statementHover(a, uri, offset);
  const { sym } = at;
  let markdown: string | undefined;
  const platform = sym.container ? a.model.platforms.get(sym.container) : undefined;
  switch (sym.kind) {
    case 'device': { const d = platform?.devices.get(sym.name); if (d && d.sym === sym) markdown = deviceHover(a, platform!, d); break; }
    case 'guest': { const g = a.model.guests.get(sym.name); if (g && g.sym === sym) markdown = guestHover(a, g); break; }
    case 'reserved': { const r = platform?.reserved.find((x) => x.sym === sym); if (r) markdown = regionHover(a, platform!, r); break; }
    case 'iommu': { const i = platform?.iommus.get(sym.name); if (i && i.sym === sym) markdown = iommuHover(a, platform!, i); break; }
    case 'firmware': { const fw = a.model.firmwares.get(sym.name); if (fw && fw.sym === sym) markdown = firmwareHover(a, fw); break; }
    case 'driver': case 'mapping': markdown = firmwarePartHover(a, sym); break;
    case 'domain': markdown = domainHover(a, sym); break;
    case 'xen': { const x = a.model.xens.get(sym.name); if (x && x.sym === sym) markdown = xenHover(a, x); break; }
    case 'vintf': { const v = a.model.vintfs.get(sym.name); if (v && v.sym === sym) markdown = vintfHover(a, v); break; }
    case 'pool': { const p = a.model.pools.get(sym.name); const l = p && a.sim.pools.get(p); if (l && p.sym === sym) markdown = poolHover(p, l); break; }
    case 'guest-ram': {
      const g = sym.container ? a.model.guests.get(sym.container) : undefined;
      const r = g?.ram.find((x) => x.sym === sym);
      if (r?.range) {
        const split = describeVtomSplit(r.range, g!);
        markdown = `**guest RAM ${sym.name}** of guest ${g!.sym.name}: \`${formatInterval(r.range)}\` (${formatSize(intervalSize(r.range))}), guest-physical; VFIO maps it for DMA at IOVA = GPA${split ? `\n\n${split}` : ''}`;
      }
      break;
    }
    default: break;
  }
  return markdown ? { markdown, span: at.span } : undefined;
}

/** Hovers on statements without a name under the cursor: timeline steps, SMMU commands, `machine`. */
function statementHover(a: Analysis, uri: string, offset: number): HoverResult | undefined {
  const p2m = p2mAt(a, uri, offset);
  if (p2m) return { markdown: p2mHover(p2m), span: p2m.step.step.span };
  const cmd = commandAt(a, uri, offset);
  if (cmd) return { markdown: commandHover(cmd), span: cmd.cmd.node.span };
  const step = stepAt(a, uri, offset);
  if (step) return { markdown: stepHover(step), span: step.step.step.span };
  const g = machineAt(a, uri, offset);
  const markdown = g && machineHover(g);
  return markdown ? { markdown, span: g!.machine!.stmt.span } : undefined;
}

function deviceHover(a: Analysis, p: Platform, d: Device): string {
  const pr = a.sim.regionsOf(p);
  const group = pr.groupOf(d);
  const out = [`**device ${d.sym.name}**${d.bdf ? ` \`${formatBdf(d.bdf)}\`` : ''} on platform ${p.sym.name}`];
  if (d.tdisp) out.push('', `TDISP-capable: has a TDI the TSM can lock and start for a confidential VM${d.pf ? ` (a VF of ${d.pf.sym.name})` : ''}.`);
  for (const q of d.quirks) out.push('', `Quirk \`${q}\`: ${DEVICE_QUIRKS[q] ?? ''}.`);
  if (!d.iommu) {
    out.push('', 'Behind no IOMMU: it has no IOMMU group and cannot be assigned with VFIO.');
    return out.join('\n');
  }
  out.push('', `IOMMU ${d.iommu.sym.name} (${d.iommu.kind ?? 'kind not given'})${d.stream !== undefined ? `, stream ${hex(d.stream)}` : ''}`);
  if (!group) return out.join('\n');
  const gr = pr.regions(group);
  const members = group.devices.map((x) => x.sym.name).join(', ');
  out.push('', `${groupLabel(group)}: ${members}`);
  const path = group.number !== undefined ? `/sys/kernel/iommu_groups/${group.number}/reserved_regions` : 'reserved_regions (group number not given)';
  out.push('', `\`${path}\`:`, codeBlock(gr.list().map(sysfsLine)));
  out.push('', `Usable IOVA (VFIO_IOMMU_GET_INFO, aperture ${formatInterval(gr.aperture)}):`,
    codeBlock(gr.usable().map(formatIovaRange)));
  const users = [...a.sim.guests.values()].filter((s) => s.guest.assigns.some((x) => x.device === d)).map((s) => s.guest.sym.name);
  if (users.length) out.push('', `Assigned to guest ${users.join(', ')}.`);
  return out.join('\n');
}

function guestHover(a: Analysis, g: Guest): string {
  const s = a.sim.guests.get(g);
  const out = [`**guest ${g.sym.name}**${g.platform ? ` on platform ${g.platform.sym.name}` : ''}`];
  if (!s) return out.join('\n');
  out.push('', 'Guest RAM (mapped for DMA at IOVA = GPA):', codeBlock(s.ram.map((r) => `${r.name.padEnd(14)} ${formatInterval(r.range)}  ${formatSize(intervalSize(r.range))}`)));
  const split = s.ram.map((r) => [r.name, describeVtomSplit(r.range, g)] as const).filter((x) => x[1]);
  if (split.length) out.push('', ...split.map(([n, x]) => `- ${n}: ${x}`));
  const modes = g.assigns.filter((x) => x.device && x.mode !== 'shared').map((x) => `${x.device!.sym.name} ${x.mode}`);
  if (modes.length) out.push('', `Device modes: ${modes.join(', ')} (the rest shared).`);
  if (g.msiWindow) out.push('', `MSI doorbell window: \`${formatInterval(g.msiWindow)}\``);
  const attached = s.container.groups.map((x) => groupLabel(x.group));
  out.push('', `VFIO ${g.container === 'iommufd' ? 'iommufd IOAS' : 'type1 container'}: ${attached.length ? `attached ${attached.join(', ')}` : 'no group attached'}`);
  if (attached.length) out.push('', 'Usable IOVA (VFIO_IOMMU_GET_INFO):', codeBlock(s.container.usable().map(formatIovaRange)));
  return out.join('\n');
}

function regionHover(a: Analysis, p: Platform, r: ReservedRegion): string {
  const out = [`**reserved region ${r.sym.name}**: \`${r.type ?? '?'}\`${r.range ? ` \`${formatInterval(r.range)}\` (${formatSize(intervalSize(r.range))})` : ''}`];
  if (r.type) out.push('', REGION_MEANING[r.type]!);
  const who = r.targets.length === 0 ? 'every device of the platform'
    : r.targets.map((t) => (t.kind === 'device' ? `device ${t.device.sym.name}` : t.kind === 'iommu' ? `the devices behind ${t.iommu.sym.name}` : `group ${t.group}`)).join(', ');
  out.push('', `Applies to ${who}.`);
  const pr = a.sim.regionsOf(p);
  const groups = pr.groups.filter((g) => pr.regions(g).list().some((m) => m.sources.some((s) => s.kind === 'declared' && s.region === r)));
  if (groups.length) out.push('', `In the reserved regions of ${someOf(groups.map(groupLabel), 8)}.`);
  return out.join('\n');
}

function iommuHover(a: Analysis, p: Platform, i: Iommu): string {
  const width = i.addressWidth ?? DEFAULT_ADDRESS_WIDTH;
  const out = [`**IOMMU ${i.sym.name}** (${i.kind ?? 'kind not given'}) on platform ${p.sym.name}`, '',
    `Aperture \`0x0..${hex((1n << BigInt(width)) - 1n)}\` (${width} bits${i.addressWidth === undefined ? ', assumed' : ''})`];
  if (i.pageSizes.length) out.push('', `Page sizes: ${i.pageSizes.map(formatSize).join(' ')}`);
  const own = a.sim.regionsOf(p).everyRegion().filter((r) => r.source.kind === 'builtin' && r.source.iommu === i);
  const extra = i.kind === 'smmuv3' || i.kind === 'virtio-iommu' ? [`sw-msi ${formatInterval(MSI_IOVA_WINDOW)} (MSI_IOVA_BASE), unless a declared sw-msi region moves it`] : [];
  const lines = [...own.map((r) => `${r.type} ${formatInterval(r.range)}: ${r.source.kind === 'builtin' ? r.source.why : ''}`), ...extra];
  if (lines.length) out.push('', 'Regions its driver reserves for every device:', ...lines.map((l) => `- ${l}`));
  return out.join('\n');
}

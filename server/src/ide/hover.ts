/**
 * Hover: what the simulator knows about what is under the cursor. In order: a name (a
 * device, guest, region, IOMMU, guest RAM, ...), an address or size literal, a statement
 * without a name (a timeline step, an SMMU command, a guest `ram` line, `machine`); then
 * what led to the findings there. Nothing in comments. Markdown out.
 */
import { formatInterval, formatIovaRange, formatSize, hex, intervalSize, type Guest, type Iommu, type Platform } from '../model';
import { DEFAULT_ADDRESS_WIDTH, groupLabel, MSI_IOVA_WINDOW } from '../sim';
import type { Analysis } from './analysis';
import { ramNote } from './hoverParts';
import type { HoverResult } from './contribution';
import { numberHover } from './addressHover';
import { deviceHover } from './deviceHover';
import { findingHover, findingsAt } from './findingHover';
import { codeBlock } from './markdown';
import { inComment, numberAt } from './numberAt';
import { guestRamAt, guestRamHover, ramStory } from './ramHover';
import { regionHover } from './regionHover';
import { machineAt, machineHover } from './machineHover';
import { symbolAt } from './navigation';
import { kernelAt, releaseHover } from './versionHover';

export type { HoverResult } from './contribution';

/** Findings listed under one hover at most: a step with many findings stays readable. */
const MAX_FINDINGS = 4;

export function hover(a: Analysis, uri: string, offset: number): HoverResult | undefined {
  if (inComment(a, uri, offset)) return undefined;
  const main = entityHover(a, uri, offset) ?? numberHoverAt(a, uri, offset) ?? statementHover(a, uri, offset);
  const findings = findingsAt(a, uri, offset);
  if (!findings.length) return main;
  const more = findings.length > MAX_FINDINGS ? [`... and ${findings.length - MAX_FINDINGS} more findings here`] : [];
  const extra = [...findings.slice(0, MAX_FINDINGS).map((f) => findingHover(a, uri, f)), ...more].join('\n\n');
  return main ? { markdown: `${main.markdown}\n\n---\n\n${extra}`, span: main.span } : { markdown: extra, span: findings[0]!.span };
}

/** An address or size literal under the cursor. */
function numberHoverAt(a: Analysis, uri: string, offset: number): HoverResult | undefined {
  const n = numberAt(a, uri, offset);
  const markdown = n && numberHover(a, n);
  return markdown ? { markdown, span: n!.lit.span } : undefined;
}

function entityHover(a: Analysis, uri: string, offset: number): HoverResult | undefined {
  const at = symbolAt(a, uri, offset);
  if (!at) return undefined;
  const { sym } = at;
  let markdown: string | undefined;
  const platform = sym.container ? a.model.platforms.get(sym.container) : undefined;
  switch (sym.kind) {
    case 'device': {
      const d = platform?.devices.get(sym.name);
      if (d && d.sym === sym) markdown = deviceHover(a, platform!, d);
      break;
    }
    case 'guest': {
      const g = a.model.guests.get(sym.name);
      if (g && g.sym === sym) markdown = guestHover(a, g);
      break;
    }
    case 'reserved': {
      const r = platform?.reserved.find((x) => x.sym === sym);
      if (r) markdown = regionHover(a, platform!, r);
      break;
    }
    case 'iommu': {
      const i = platform?.iommus.get(sym.name);
      if (i && i.sym === sym) markdown = iommuHover(a, platform!, i);
      break;
    }
    case 'guest-ram': {
      const g = sym.container ? a.model.guests.get(sym.container) : undefined;
      const r = g?.ram.find((x) => x.sym === sym);
      if (r) markdown = guestRamHover(a, g!, r);
      break;
    }
    default:
      markdown = a.domains.find((x) => x.ide?.hoverKinds?.includes(sym.kind))?.ide?.symbolHover?.(a, sym);
      break;
  }
  return markdown ? { markdown, span: at.span } : undefined;
}

/** Hovers on statements without a name under the cursor: the domains' (steps, SMMU commands), guest `ram` lines, `machine`. */
function statementHover(a: Analysis, uri: string, offset: number): HoverResult | undefined {
  for (const x of a.domains) {
    const h = x.ide?.statementHover?.(a, uri, offset);
    if (h) return h;
  }
  for (const x of a.domains) {
    const h = x.ide?.fallbackStatementHover?.(a, uri, offset);
    if (h) return h;
  }
  const kernel = kernelAt(a, uri, offset);
  if (kernel) return { markdown: releaseHover('linux', kernel.platform.kernel, `platform ${kernel.platform.sym.name}`), span: kernel.span };
  const ram = guestRamAt(a, uri, offset);
  const ramMarkdown = ram && guestRamHover(a, ram.guest, ram.ram);
  if (ramMarkdown) return { markdown: ramMarkdown, span: ram!.ram.decl.span };
  const g = machineAt(a, uri, offset);
  const markdown = g && machineHover(a, g);
  if (!markdown) return undefined;
  const stmt = g!.machine!.stmt;
  const ranges = (a.sim.guests.get(g!)?.ram ?? []).filter((r) => r.span === stmt.span);
  const story = ranges.length ? ramStory(a, g!, ranges, { uri: g!.sym.uri, span: stmt.span }, { split: false }) : [];
  return { markdown: [markdown, ...story].join('\n'), span: stmt.span };
}

function guestHover(a: Analysis, g: Guest): string {
  const s = a.sim.guests.get(g);
  const out = [`**guest ${g.sym.name}**${g.platform ? ` on platform ${g.platform.sym.name}` : ''}`];
  if (!s) return out.join('\n');
  out.push(
    '',
    'Guest RAM (mapped for DMA at IOVA = GPA):',
    codeBlock(s.ram.map((r) => `${r.name.padEnd(14)} ${formatInterval(r.range)}  ${formatSize(intervalSize(r.range))}`)),
  );
  const split = s.ram.map((r) => [r.name, ramNote(a, g, r.range)] as const).filter((x) => x[1]);
  if (split.length) out.push('', ...split.map(([n, x]) => `- ${n}: ${x}`));
  const modes = g.assigns.filter((x) => x.device && x.mode !== 'shared').map((x) => `${x.device!.sym.name} ${x.mode}`);
  if (modes.length) out.push('', `Device modes: ${modes.join(', ')} (the rest shared).`);
  const attached = s.container.groups.map((x) => groupLabel(x.group));
  out.push(
    '',
    `VFIO ${g.container === 'iommufd' ? 'iommufd IOAS' : 'type1 container'}: ` +
      `${attached.length ? `attached ${attached.join(', ')}` : 'no group attached'}`,
  );
  if (attached.length) out.push('', 'Usable IOVA (VFIO_IOMMU_GET_INFO):', codeBlock(s.container.usable().map(formatIovaRange)));
  return out.join('\n');
}

function iommuHover(a: Analysis, p: Platform, i: Iommu): string {
  const width = i.addressWidth ?? DEFAULT_ADDRESS_WIDTH;
  const out = [
    `**IOMMU ${i.sym.name}** (${i.kind ?? 'kind not given'}) on platform ${p.sym.name}`,
    '',
    `Aperture \`0x0..${hex((1n << BigInt(width)) - 1n)}\` (${width} bits${i.addressWidth === undefined ? ', assumed' : ''})`,
  ];
  if (i.pageSizes.length) out.push('', `Page sizes: ${i.pageSizes.map(formatSize).join(' ')}`);
  const own = a.sim
    .regionsOf(p)
    .everyRegion()
    .filter((r) => r.source.kind === 'builtin' && r.source.iommu === i);
  const extra =
    i.kind === 'smmuv3' || i.kind === 'virtio-iommu'
      ? [`sw-msi ${formatInterval(MSI_IOVA_WINDOW)} (MSI_IOVA_BASE), unless a declared sw-msi region moves it`]
      : [];
  const lines = [...own.map((r) => `${r.type} ${formatInterval(r.range)}: ${r.source.kind === 'builtin' ? r.source.why : ''}`), ...extra];
  if (lines.length) out.push('', 'Regions its driver reserves for every device:', ...lines.map((l) => `- ${l}`));
  return out.join('\n');
}

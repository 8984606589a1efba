/**
 * The story of guest RAM, for a `ram` line or the ranges a `machine` statement lays out:
 * where it sits guest-physically, which container maps it for which devices and at which
 * IOVA (VFIO maps guest RAM at IOVA = GPA; a vIOMMU or a `dma-window` changes what a
 * device reaches), private or shared under vTOM, what it overlaps in the groups that
 * join (or try to join) the guest's container, and what the kernel and QEMU do about it,
 * quoted from the findings on that line rather than derived again.
 */
import {
  formatInterval,
  formatSize,
  intersect,
  intervalSize,
  type Finding,
  type Guest,
  type GuestRam,
  type Interval,
  type Location,
} from '../model';
import { groupLabel, guestRam, sysfsLine, type GroupRegions, type GuestRamRange, type IommuGroup } from '../sim';
import { mergedAround } from '../sim/addressQuery';
import { overlaps as overlapsInterval, type MergedRegion } from '../sim/regions';
import type { Analysis } from './analysis';
import { groupsText, sourceName } from './regionText';
import { ramNote, where } from './hoverParts';
import { inside } from './positions';
import { capped } from './markdown';

const LIMIT = 8;

/** The guest `ram` statement covering the offset (anywhere on it, not just its name). */
export function guestRamAt(a: Analysis, uri: string, offset: number): { guest: Guest; ram: GuestRam } | undefined {
  for (const g of a.model.guests.values()) {
    if (g.sym.uri !== uri || !inside(g.decl.span, offset)) continue;
    const ram = g.ram.find((r) => inside(r.decl.span, offset));
    return ram ? { guest: g, ram } : undefined;
  }
  return undefined;
}

export function guestRamHover(a: Analysis, g: Guest, r: GuestRam): string | undefined {
  if (!r.range) return undefined;
  const ranges = (a.sim.guests.get(g)?.ram ?? guestRam(g)).filter((x) => x.sym === r.sym);
  const out = [
    `**guest RAM ${r.sym.name}** of guest ${g.sym.name}: ` +
      `\`${formatInterval(r.range)}\` (${formatSize(intervalSize(r.range))}), guest-physical`,
  ];
  out.push(
    ...ramStory(a, g, ranges.length ? ranges : [{ name: r.sym.name, range: r.range, uri: r.sym.uri, span: r.decl.span, sym: r.sym }], {
      uri: r.sym.uri,
      span: r.decl.span,
    }),
  );
  return out.join('\n');
}

/** Sections (each opening with a blank line) about RAM ranges made by one statement. */
export function ramStory(a: Analysis, g: Guest, ranges: readonly GuestRamRange[], stmt: Location, opts = { split: true }): string[] {
  const out: string[] = [];
  const many = ranges.length > 1;
  const label = (r: GuestRamRange) => (many ? `${r.name}: ` : '');
  // The `machine` hover shows the vTOM split with its layout already.
  const split = opts.split ? ranges.map((r) => [r, ramNote(a, g, r.range)] as const).filter((x) => x[1]) : [];
  if (split.length) out.push('', ...split.map(([r, x]) => `${many ? `- ${r.name}: ` : ''}${x}`));
  out.push('', ...mapping(a, g, ranges, label));
  for (const x of a.domains) out.push(...(x.ide?.guestRamSections?.(a, g, ranges, stmt.uri) ?? []));
  const overlaps = overlapLines(a, g, ranges, label);
  if (overlaps.length) out.push('', 'Overlaps:', ...capped(overlaps, LIMIT));
  const real = realSystem(a, stmt);
  if (real.length) out.push('', 'What the real system does (the findings about this RAM):', ...capped(real, LIMIT));
  return out;
}

export function modeNote(mode: string): string {
  return mode === 'shared' ? '' : `, ${mode}`;
}

/** Which container maps the ranges when the guest starts, for which devices, and what a vIOMMU or DMA window changes. */
function mapping(a: Analysis, g: Guest, ranges: readonly GuestRamRange[], label: (r: GuestRamRange) => string): string[] {
  const s = a.sim.guests.get(g);
  const kind = g.container === 'iommufd' ? 'iommufd IOAS' : 'VFIO type1 container';
  const out = [`When the guest starts (${kind}, IOVA = GPA):`];
  if (!s) return [...out, '- not simulated: the guest has no platform'];
  // The assigned devices whose group made it into the container, with that group.
  const who = g.assigns.flatMap((x) => {
    const gr = x.device && s.container.groups.find((c) => c.group.devices.includes(x.device!));
    return gr ? [`${x.device!.sym.name} (${groupLabel(gr.group)}${modeNote(x.mode)})`] : [];
  });
  for (const r of ranges) {
    if (!s.container.groups.length) {
      out.push(
        `- ${label(r)}not mapped: no assigned device is in the ` +
          `container${g.assigns.some((x) => x.device) ? ' (every attach was refused)' : ''}`,
      );
    } else if (isMapped(s.container.mappings, r.range)) {
      out.push(`- ${label(r)}mapped at IOVA \`${formatInterval(r.range)}\` for ${who.join(', ')}`);
    } else {
      out.push(`- ${label(r)}not mapped: ${who.join(', ')} ${who.length > 1 ? 'are' : 'is'} attached, but the map was refused (below)`);
    }
  }
  for (const x of g.assigns) {
    if (!x.device || !x.dmaWindow) continue;
    const reach = ranges.map((r) => intersect(r.range, x.dmaWindow!)).filter((i): i is Interval => !!i);
    out.push(
      `- ${x.device.sym.name}'s \`dma-window\` \`${formatInterval(x.dmaWindow)}\`: ` +
        `${
          reach.length
            ? `its DMA reaches only \`${reach.map(formatInterval).join('`, `')}\` of this RAM`
            : 'its DMA does not reach this RAM'
        }`,
    );
  }
  for (const v of g.viommus) {
    const nested = v.via !== undefined;
    out.push(
      `- vIOMMU ${v.sym.name} (${v.kind ?? 'kind not given'}${nested ? `, accelerated via ${v.via!.sym.name}` : ''}): ` +
        `the guest's driver picks the IOVAs its devices use. ${
          nested
            ? 'The host map above (IOVA = GPA) is the nesting parent (stage 2); ' +
              "the guest's stage-1 tables translate its IOVAs to these GPAs"
            : 'QEMU shadows each mapping the guest makes (guest IOVA → this RAM) into the ' +
              'container, so device IOVAs equal GPAs only where the guest maps them 1:1'
        }`,
    );
  }
  return out;
}

/** Whether a container holds exactly this RAM range (VFIO maps each range whole). */
export function isMapped(mappings: readonly { range: Interval }[], range: Interval): boolean {
  return mappings.some((m) => m.range.start === range.start && m.range.end === range.end);
}

/**
 * Every group that joins or tries to join the guest's container: its assignments, and what the
 * domains' runs add (timelines: hot-adds, carried devices).
 */
function groupsOf(a: Analysis, g: Guest): GroupRegions[] {
  const out = new Set<GroupRegions>(a.sim.guests.get(g)?.groups ?? []);
  for (const x of a.domains) for (const gr of x.ide?.guestGroups?.(a, g) ?? []) out.add(gr);
  return [...out];
}

function overlapLines(a: Analysis, g: Guest, ranges: readonly GuestRamRange[], label: (r: GuestRamRange) => string): string[] {
  const lines = new Map<string, { head: string; tail: string; groups: IommuGroup[] }>();
  for (const gr of groupsOf(a, g)) {
    for (const r of ranges) {
      const hits = gr.overlapping(r.range).slice(0, LIMIT + 1);
      for (const hit of hits) {
        const m = mergedAround(gr, hit.type, hit.range) ?? hit;
        const key = `${gr.group.platform.sym.name} ${label(r)}${sysfsLine(m)}`;
        let line = lines.get(key);
        if (!line)
          lines.set(
            key,
            (line = {
              head: `${label(r)}\`${sysfsLine(m)}\` (${describe(m)})`,
              tail: `on ${gr.group.platform.sym.name}: ${consequence(m)}`,
              groups: [],
            }),
          );
        line.groups.push(gr.group);
      }
    }
  }
  const out = [...lines.values()].map((l) => `- ${l.head}, ${groupsText(l.groups)} ${l.tail}`);
  for (const r of ranges) {
    const all = a.sim.guests.get(g)?.ram ?? [];
    for (const o of all) {
      if (o.name !== r.name && overlapsInterval(o.range, r.range))
        out.push(`- ${label(r)}guest RAM ${o.name} \`${formatInterval(o.range)}\`: the second map of the same IOVA fails with -EEXIST`);
    }
  }
  return out;
}

function describe(m: MergedRegion): string {
  return [...new Set(m.sources.map(sourceName))].join(', ');
}

function consequence(m: MergedRegion): string {
  if (m.type === 'direct-relaxable') return 'not cut from the usable IOVA list (relaxable)';
  if (m.type === 'direct') return 'a direct region: VFIO refuses the group';
  return 'cut from the usable IOVA list, so this RAM cannot be mapped there';
}

/** The findings on the statement's lines, and those elsewhere that point back at it. */
function realSystem(a: Analysis, stmt: Location): string[] {
  const lines = a.lineIndex(stmt.uri);
  const first = lines.position(stmt.span.start).line;
  const last = lines.position(stmt.span.end).line;
  const onLine = (f: Finding) =>
    f.uri === stmt.uri && lines.position(f.span.start).line <= last && lines.position(f.span.end).line >= first;
  const pointsHere = (f: Finding) => f.related.some((r) => r.uri === stmt.uri && r.span.start === stmt.span.start);
  const out: string[] = [];
  for (const f of a.findings.get(stmt.uri) ?? []) if (onLine(f)) out.push(`- \`${f.code}\`: ${f.message}`);
  for (const list of a.findings.values()) {
    for (const f of list) if (!onLine(f) && pointsHere(f)) out.push(`- \`${f.code}\` at ${where(a, f, stmt.uri)}: ${f.message}`);
  }
  return out;
}

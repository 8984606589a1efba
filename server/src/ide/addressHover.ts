/**
 * Hover on a number literal: an address shows every region holding it in every address
 * space (host physical, each IOMMU group's IOVA space as sysfs lists it, each guest's
 * guest-physical space); a size shows its value and the range it makes. Lookups are
 * binary searches on sorted indexes, built once per analysis and kept per model object.
 */
import {
  evaluateNumber,
  evaluateRange,
  formatInterval,
  formatSize,
  hex,
  type Guest,
  type Interval,
  type Platform,
  type ReservedRegion,
} from '../model';
import { guestRam, machineLayout, PlatformRegions, someOf, sysfsLine, type GuestState, type IommuGroup, type MergedRegion } from '../sim';
import { regionsAt, StabIndex, usableAt } from '../sim/addressQuery';
import type { Analysis } from './analysis';
import { capped } from './markdown';
import type { NumberAt } from './numberAt';
import { isMapped } from './ramHover';
import { groupsText, sourceName } from './regionText';

const LIMIT = 8;

interface Named {
  what: string;
  range: Interval;
}

/** Host-physical ranges of a platform (RAM, I/O APIC pages, ECAM windows, Xen's own), indexed once. */
const hostIndexes = new WeakMap<Platform, StabIndex<Named>>();
const guestIndexes = new WeakMap<Guest, StabIndex<Named>>();
/**
 * Each platform's groups and regions, built from the platform alone (as the simulation
 * builds them), and kept while the platform is: the hover looks at every platform, and
 * components keep no simulation between analyses.
 */
const platformRegions = new WeakMap<Platform, PlatformRegions>();

export function numberHover(a: Analysis, n: NumberAt): string | undefined {
  const v = evaluateNumber(n.lit);
  if (!v.ok) return undefined;
  if (n.role === 'size') return sizeHover(n, v.value);
  if (n.role === 'address') return addressHover(a, v.value, contextOf(a, n));
  return undefined;
}

function sizeHover(n: NumberAt, size: bigint): string {
  const out = [`**size \`${formatSize(size)}\`** = \`${hex(size)}\` (${size} bytes)`];
  const r = n.range && evaluateRange(n.range);
  if (r?.ok) out.push('', `The range \`${formatInterval(r.value)}\`.`);
  return out.join('\n');
}

/** Where the literal is: its platform and guest come first. */
interface Context {
  platform?: Platform;
  guest?: Guest;
}

function contextOf(a: Analysis, n: NumberAt): Context {
  const m = a.model;
  for (const p of m.platforms.values()) if (p.decl === n.decl) return { platform: p };
  for (const g of m.guests.values()) if (g.decl === n.decl) return { guest: g, platform: g.platform };
  for (const d of a.domains) {
    const c = d.ide?.addressContext?.(a, n.decl, n.lit.span);
    if (c) return c;
  }
  return {};
}

const MAX_PLATFORMS = 6;

export function addressHover(a: Analysis, v: bigint, ctx: Context = {}): string {
  const out = [`**address \`${hex(v)}\`**`];
  const quiet: string[] = [];
  const busy: { name: string; lines: string[] }[] = [];
  const platforms = [...a.model.platforms.values()];
  if (ctx.platform) platforms.sort((x, y) => Number(y === ctx.platform) - Number(x === ctx.platform));
  for (const p of platforms) {
    const host = hostIndex(a, p)
      .at(v)
      .map((x) => `- host physical: ${x.what} \`${formatInterval(x.range)}\``);
    let pr = platformRegions.get(p);
    if (!pr) platformRegions.set(p, (pr = new PlatformRegions(p)));
    const iova = pr.groups.length ? iovaLines(pr, v) : ungrouped(p, v);
    if (!host.length && !iova.some((l) => l.busy) && p !== ctx.platform) {
      quiet.push(p.sym.name);
      continue;
    }
    const none = host.length || iova.length ? [] : ['- no RAM, I/O APIC, ECAM window or reserved region holds it'];
    busy.push({
      name: p.sym.name,
      lines: [
        '',
        `**${p.sym.name}**${p === ctx.platform ? " (this line's platform)" : ''}:`,
        ...capped(host, LIMIT),
        ...capped(
          iova.map((l) => l.text),
          LIMIT,
        ),
        ...none,
      ],
    });
  }
  for (const section of busy.slice(0, MAX_PLATFORMS)) out.push(...section.lines);
  if (busy.length > MAX_PLATFORMS)
    out.push(
      '',
      `... and ${busy.length - MAX_PLATFORMS} more platforms: ${someOf(
        busy.slice(MAX_PLATFORMS).map((x) => x.name),
        LIMIT,
      )}`,
    );
  const guests = guestLines(a, v, LIMIT, ctx.guest);
  if (guests.length) out.push('', 'Guest-physical:', ...capped(guests, LIMIT));
  if (quiet.length)
    out.push(
      '',
      `Nothing holds it on ${someOf(quiet, LIMIT)}: no RAM, I/O APIC, ECAM or reserved region, and it is usable IOVA in every group there.`,
    );
  return out.join('\n');
}

function hostIndex(a: Analysis, p: Platform): StabIndex<Named> {
  let ix = hostIndexes.get(p);
  if (ix) return ix;
  const named: Named[] = [];
  for (const r of p.ram) if (r.range) named.push({ what: `RAM ${r.sym.name}`, range: r.range });
  for (const x of p.ioapics) named.push({ what: 'I/O APIC', range: x.range });
  for (const x of p.mmcfg) named.push({ what: 'PCIe ECAM (mmcfg)', range: x.range });
  for (const d of a.domains) named.push(...(d.ide?.hostRanges?.(a, p) ?? []));
  hostIndexes.set(p, (ix = new StabIndex(named, (x) => x.range)));
  return ix;
}

const reservedIndexes = new WeakMap<Platform, StabIndex<ReservedRegion>>();

/** A platform without devices has no groups: its declared regions are listed as written. */
function ungrouped(p: Platform, v: bigint): { text: string; busy: boolean }[] {
  let ix = reservedIndexes.get(p);
  if (!ix)
    reservedIndexes.set(
      p,
      (ix = new StabIndex(
        p.reserved.filter((r) => r.range && r.type),
        (r) => r.range!,
      )),
    );
  return ix.at(v).map((r) => ({
    text: `- reserved region ${r.sym.name} \`${formatInterval(r.range!)}\` (${r.type}): the platform has no device, so no group lists it`,
    busy: true,
  }));
}

/** One line per distinct outcome, naming the groups that share it: thousands of groups stay a few lines. */
function iovaLines(pr: PlatformRegions, v: bigint): { text: string; busy: boolean }[] {
  type Outcome = { groups: IommuGroup[]; text: string; busy: boolean };
  const outcomes = new Map<string, Outcome>();
  // Groups of one shape have one region list: its first group answers for all of them.
  const byShape = new Map<readonly IommuGroup[], Outcome>();
  for (const g of pr.groups) {
    const shape = pr.shapeOf(g);
    let o = byShape.get(shape);
    if (!o) {
      const gr = pr.regions(g);
      const regions = regionsAt(gr, v);
      const usable = usableAt(gr, v, regions);
      const beyond = v > gr.aperture.end;
      const key = `${regions.map(sysfsLine).join('|')} ${usable} ${beyond ? gr.aperture.end : ''}`;
      o = outcomes.get(key);
      if (!o) {
        const verdict = beyond
          ? `beyond the aperture \`${formatInterval(gr.aperture)}\`: not usable`
          : usable
            ? 'usable'
            : 'cut from the usable IOVA list';
        const text = regions.length ? `${regions.map(describe).join('; ')}: ${verdict}` : verdict;
        outcomes.set(key, (o = { groups: [], text, busy: regions.length > 0 || !usable }));
      }
      byShape.set(shape, o);
    }
    o.groups.push(g);
  }
  return [...outcomes.values()].map((o) => ({ text: `- IOVA, ${groupsText(o.groups)}: ${o.text}`, busy: o.busy }));
}

function describe(m: MergedRegion): string {
  const from = [...new Set(m.sources.map(sourceName))];
  return `\`${sysfsLine(m)}\`${m.type === 'sw-msi' ? ' (sw-msi)' : ''} from ${someOf(from, LIMIT)}`;
}

/**
 * Every guest VFIO starts (those on a platform, in declaration order) with something at `v`,
 * then the domains' lines. A guest's RAM and PCI hole are its model's; whether the RAM is
 * mapped for DMA is its simulation's, made again for its file's components: so only the
 * first `shown` lines are written out, the others (which `capped` only counts) left empty.
 */
function guestLines(a: Analysis, v: bigint, shown: number, first?: Guest): string[] {
  const out: string[] = [];
  const guests = [...a.model.guests.values()].filter((g) => g.platform);
  if (first) guests.sort((x, y) => Number(y === first) - Number(x === first));
  for (const g of guests) {
    const at = guestIndex(g).at(v);
    const side = addressNote(a, g, v);
    if (!at.length && !(g === first && side)) continue;
    if (out.length >= shown) {
      out.push('');
      continue;
    }
    // No state when VFIO did not run there (left out while typing, or failed): no word on the mapping then.
    const s = a.simOf(g.sym.uri).guests.get(g);
    const hits = at.map((x) => `${x.what} \`${formatInterval(x.range)}\`${s && x.what.startsWith('RAM') ? mapped(s, x.range) : ''}`);
    if (!hits.length) hits.push('no RAM here');
    out.push(`- guest **${g.sym.name}**: ${hits.join('; ')}${side ? `; ${side}` : ''}`);
  }
  for (const d of a.domains) out.push(...(d.ide?.addressLines?.(a, v) ?? []));
  return out;
}

/** A guest's RAM (as QEMU lays it out: what VFIO maps) and 64-bit PCI hole, indexed once per guest. */
function guestIndex(g: Guest): StabIndex<Named> {
  let ix = guestIndexes.get(g);
  if (ix) return ix;
  const named: Named[] = guestRam(g).map((r) => ({ what: `RAM ${r.name}`, range: r.range }));
  const hole = machineLayout(g)?.pciHole64;
  if (hole) named.push({ what: '64-bit PCI hole (MMIO, not RAM)', range: hole });
  guestIndexes.set(g, (ix = new StabIndex(named, (x) => x.range)));
  return ix;
}

/** Whether the guest's container maps that RAM range (IOVA = GPA). */
function mapped(s: GuestState, range: Interval): string {
  if (!s.container.groups.length) return ', not mapped for DMA (no device attached)';
  return isMapped(s.container.mappings, range) ? ', mapped for DMA at IOVA = GPA' : ', not mapped for DMA (the map was refused)';
}

function addressNote(a: Analysis, g: Guest, v: bigint): string | undefined {
  for (const d of a.domains) {
    const note = d.ide?.addressNote?.(g, v);
    if (note) return note;
  }
  return undefined;
}

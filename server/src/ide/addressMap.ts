/**
 * The address-map data: every address space of a platform or a guest as bars (host
 * physical; each IOMMU group's IOVA space; a guest's physical space and its container's
 * IOVA space), read from what the simulator computed, with the findings of each bar's
 * line and the overlaps that make DMA maps fail marked. Rendering is addressMapSvg.ts
 * (the editor's webview and `iommu-lens map --svg`) or the CLI's text form.
 */
import type { Span } from '@iommu-lens/grammar';
import { ALL_ADDRESSES, byStart, intersect, type Guest, type Interval, type Platform, type Severity } from '../model';
import { groupLabel, machineLayout, someOf, usableRanges, type GroupRegions, type IommuGroup, type MergedRegion } from '../sim';
import { TYPE_ORDER, type RegionSource } from '../sim/regions';
import { forFile, type Analysis } from './analysis';
import { namesIn } from './navigation';
import { inside } from './positions';

export type BarKind =
  | 'ram'
  | 'reserved'
  | 'direct'
  | 'direct-relaxable'
  | 'msi'
  | 'sw-msi'
  | 'usable'
  | 'conflict'
  | 'private'
  | 'shared'
  | 'dma-window'
  | 'pci-hole'
  | 'ioapic'
  | 'mmcfg';

export interface BarSource {
  uri: string;
  span: Span;
}

export interface BarProblem {
  severity: Severity;
  code: string;
  message: string;
}

/** One range of an address space. `end` is inclusive, so 0xffff_ffff_ffff_ffff fits. */
export interface Bar {
  start: bigint;
  end: bigint;
  kind: BarKind;
  label: string;
  /** The line the range comes from: clicking the bar reveals it. */
  source?: BarSource;
  /** Errors and warnings reported on that line. */
  problems: BarProblem[];
}

export type SpaceKind = 'host-physical' | 'iova' | 'guest-physical';

export interface AddressSpace {
  kind: SpaceKind;
  title: string;
  /**
   * Spaces with the same axis are drawn on one address scale: under VFIO a guest's IOVA
   * is its guest-physical address, so both use `iova`; host physical has its own.
   */
  axis: 'host' | 'iova';
  /** Sorted by start, then end, then kind. */
  bars: Bar[];
  note?: string;
}

export type AddressMapTarget = { guest: string } | { platform: string };

export interface AddressMap {
  title: string;
  target: AddressMapTarget;
  spaces: AddressSpace[];
  /** What the picture leaves out, or why a space is empty. */
  notes: string[];
}

/** More bars than this in one space are left out (a platform may declare thousands of regions). */
export const MAX_BARS_PER_SPACE = 400;
/**
 * A platform's map merges the lists of this many group shapes at most (one merge each), so
 * it has this many IOVA spaces at most.
 */
export const MAX_GROUP_SHAPES = 24;

/** Every kind, in the order bars of equal range are listed (and the legend shows them). */
export const KIND_ORDER: readonly BarKind[] = [
  'ram',
  'pci-hole',
  'dma-window',
  'private',
  'shared',
  'usable',
  'direct',
  'direct-relaxable',
  'reserved',
  'msi',
  'sw-msi',
  'ioapic',
  'mmcfg',
  'conflict',
];
/** Each kind's place in KIND_ORDER. */
export const KIND_RANK = Object.fromEntries(KIND_ORDER.map((k, i) => [k, i])) as Record<BarKind, number>;

export function addressMap(whole: Analysis, target: AddressMapTarget): AddressMap | undefined {
  const notes: string[] = [];
  let title: string;
  let spaces: AddressSpace[];
  let a = whole;
  if ('guest' in target) {
    const g = a.model.guests.get(target.guest);
    if (!g) return undefined;
    // What the map draws is in the components of the file that declares it.
    a = forFile(whole, g.sym.uri);
    title = `guest ${g.sym.name}${g.platform ? ` on ${g.platform.sym.name}` : ''}`;
    spaces = guestSpaces(a, g);
  } else {
    const p = a.model.platforms.get(target.platform);
    if (!p) return undefined;
    a = forFile(whole, p.sym.uri);
    title = `platform ${p.sym.name}`;
    spaces = [hostSpace(p), ...groupSpaces(a, p, notes)];
  }
  const problemsOf = lineProblems(a);
  const cut = spaces.filter((s) => finish(s, problemsOf));
  if (cut.length === 1) notes.push(`${cut[0]!.title}: only the first ${MAX_BARS_PER_SPACE} ranges are drawn`);
  else if (cut.length)
    notes.push(`${cut.length} spaces have more than ${MAX_BARS_PER_SPACE} ranges: only the first ${MAX_BARS_PER_SPACE} of each are drawn`);
  return { title, target, spaces, notes };
}

/**
 * The guest or platform the cursor is on: a reference to one under the cursor, else the
 * declaration around the cursor, else the first guest or platform declared in the file.
 */
export function addressMapTargetAt(a: Analysis, uri: string, offset: number): AddressMapTarget | undefined {
  const toTarget = (kind: string, name: string): AddressMapTarget | undefined =>
    kind === 'guest' ? { guest: name } : kind === 'platform' ? { platform: name } : undefined;
  const { refs, syms } = namesIn(a, uri);
  for (const r of refs) {
    if (inside(r.span, offset)) {
      const t = toTarget(r.target.kind, r.target.name);
      if (t) return t;
    }
  }
  let first: { start: number; target: AddressMapTarget } | undefined;
  for (const s of syms) {
    if (s.container !== undefined) continue;
    const t = toTarget(s.kind, s.name);
    if (!t) continue;
    if (inside(s.span, offset)) return t;
    if (!first || s.span.start < first.start) first = { start: s.span.start, target: t };
  }
  return first?.target;
}

export interface MapSource {
  id: number;
  uri: string;
  span: Span;
}

/**
 * Every distinct source line of the map's bars, numbered in drawing order: the id table
 * behind the SVG's `data-target` attributes, so a click can be mapped back to a line.
 */
export function mapSources(map: AddressMap): { list: MapSource[]; idOf: (bar: Bar) => number | undefined } {
  const list: MapSource[] = [];
  const byKey = new Map<string, number>();
  const ids = new Map<Bar, number>();
  for (const space of map.spaces) {
    for (const bar of space.bars) {
      if (!bar.source) continue;
      const key = `${bar.source.uri}\n${bar.source.span.start}\n${bar.source.span.end}`;
      let id = byKey.get(key);
      if (id === undefined) {
        id = list.length;
        byKey.set(key, id);
        list.push({ id, uri: bar.source.uri, span: bar.source.span });
      }
      ids.set(bar, id);
    }
  }
  return { list, idOf: (bar) => ids.get(bar) };
}

// ----- platforms -------------------------------------------------------------------

function hostSpace(p: Platform): AddressSpace {
  const uri = p.sym.uri;
  const bars: Bar[] = [];
  for (const r of p.ram) if (r.range) bars.push(bar(r.range, 'ram', r.sym.name, { uri, span: r.decl.span }));
  for (const r of p.reserved) {
    if (!r.range || !r.type) continue;
    const who = r.targets.map((t) =>
      t.kind === 'device' ? t.device.sym.name : t.kind === 'iommu' ? t.iommu.sym.name : `group ${t.group}`,
    );
    bars.push(bar(r.range, r.type, who.length ? `${r.sym.name} (${someOf(who, 3)})` : r.sym.name, { uri, span: r.decl.span }));
  }
  for (const x of p.ioapics) bars.push(bar(x.range, 'ioapic', 'IO-APIC', { uri, span: x.stmt.span }));
  for (const x of p.mmcfg) bars.push(bar(x.range, 'mmcfg', 'MMCFG (ECAM)', { uri, span: x.stmt.span }));
  return { kind: 'host-physical', title: `host physical: ${p.sym.name}`, axis: 'host', bars };
}

/**
 * One IOVA space per group; groups whose regions and usable list are the same share one.
 * Groups of one shape (same IOMMUs, same regions declared for their number or devices) have
 * the same list by construction (sim/groups.ts), so a list is merged once per shape, not per
 * group: a platform with thousands of groups stays cheap.
 */
function groupSpaces(a: Analysis, p: Platform, notes: string[]): AddressSpace[] {
  const pr = a.sim.regionsOf(p);
  // Behind no IOMMU: no IOVA space (a shape's groups all have IOMMUs or none).
  const shapes = pr.shapes().filter((groups) => groups[0]!.devices.some((d) => d.iommu));
  const byContent = new Map<string, { groups: IommuGroup[]; regions: MergedRegion[]; usable: Interval[] }>();
  for (const groups of shapes.slice(0, MAX_GROUP_SHAPES)) {
    const gr = pr.regions(groups[0]!);
    const regions = gr.list();
    const usable = gr.usable();
    const key = [...regions.map((r) => `${r.type} ${r.range.start} ${r.range.end}`), ...usable.map((u) => `${u.start} ${u.end}`)].join(',');
    const seen = byContent.get(key);
    if (seen) for (const x of groups) seen.groups.push(x);
    else byContent.set(key, { groups: [...groups], regions, usable });
  }
  const left = shapes.slice(MAX_GROUP_SHAPES).reduce((n, x) => n + x.length, 0);
  if (left) notes.push(`${left} more groups with regions of their own are not shown`);
  if (!byContent.size) notes.push(`platform ${p.sym.name} has no device behind an IOMMU: no IOVA space`);
  return [...byContent.values()].map((x) => ({
    kind: 'iova',
    title: `IOVA: ${someOf(x.groups.map(groupTitle), 6)}`,
    axis: 'iova',
    bars: [...x.regions.map(regionBar), ...x.usable.map((u) => bar(u, 'usable', 'usable'))],
  }));
}

function groupTitle(g: IommuGroup): string {
  return g.number === undefined
    ? groupLabel(g)
    : `${groupLabel(g)} (${someOf(
        g.devices.map((d) => d.sym.name),
        3,
      )})`;
}

// ----- guests ----------------------------------------------------------------------

function guestSpaces(a: Analysis, g: Guest): AddressSpace[] {
  const state = a.sim.guests.get(g);
  const spaces: AddressSpace[] = [];
  const gpa: AddressSpace = { kind: 'guest-physical', title: `guest physical: ${g.sym.name}`, axis: 'iova', bars: [] };
  spaces.push(gpa);
  if (!state) {
    gpa.note = 'on no known platform: not simulated'; // every guest on a platform is started
    return spaces;
  }
  const ramBars = state.ram.map((r) => bar(r.range, 'ram', r.name, { uri: r.uri, span: r.span }));
  gpa.bars.push(...ramBars);
  const hole = machineLayout(g)?.pciHole64;
  if (hole && g.machine) gpa.bars.push(bar(hole, 'pci-hole', '64-bit PCI hole', { uri: g.sym.uri, span: g.machine.stmt.span }));
  const ram = state.ram.map((r) => r.range);
  for (const d of a.domains) for (const b of d.ide?.guestBars?.(g, ram) ?? []) gpa.bars.push(bar(b.range, b.kind, b.label, b.source));
  for (const x of g.assigns) {
    if (x.dmaWindow)
      gpa.bars.push(
        bar(x.dmaWindow, 'dma-window', `dma-window of ${x.device?.sym.name ?? '?'} (${x.mode})`, { uri: x.uri, span: x.stmt.span }),
      );
  }
  // Guest RAM over other guest RAM (sort and sweep): the second map fails.
  let reach: Bar | undefined; // the range reaching furthest so far
  for (const r of [...ramBars].sort(byStart)) {
    if (reach) conflict(gpa.bars, r, reach, reach.label);
    if (!reach || r.end > reach.end) reach = r;
  }

  const flavour = g.container === 'iommufd' ? 'iommufd IOAS' : 'VFIO type1 container';
  const iova: AddressSpace = { kind: 'iova', title: `IOVA, ${flavour}`, axis: 'iova', bars: [] };
  spaces.push(iova);
  if (!state.groups.length) {
    iova.note = g.assigns.length ? "none of its devices' groups is in it" : 'no device assigned';
  } else {
    iova.title += `: ${someOf(
      state.groups.map((gr) => groupTitle(gr.group)),
      4,
    )}`;
    const attached = new Set(state.container.groups);
    const refused = state.groups.filter((gr) => !attached.has(gr));
    if (refused.length)
      iova.note = `refused: ${someOf(
        refused.map((gr) => groupLabel(gr.group)),
        4,
      )}`;
    // Groups of one shape have the same regions (PlatformRegions.shapes), so each shape is
    // read once, through its first group: a guest with hundreds of groups does not repeat
    // the platform's regions hundreds of times.
    const pr = a.sim.regionsOf(state.groups[0]!.group.platform);
    const shapeOf = (g: IommuGroup) => pr.shapeOf(g);
    const named = firstOfEachShape(state.groups, shapeOf);
    const regions = containerRegions(named);
    iova.bars.push(...regions.map(regionBar));
    const usable = containerUsable(
      state.container.groups,
      refused.length ? containerRegions(firstOfEachShape(state.container.groups, shapeOf)) : regions,
    );
    iova.bars.push(...usable.map((u) => bar(u, 'usable', 'usable')));
    // What the container cuts out under guest RAM: the DMA map of that RAM fails.
    const hits = overlapsEach(ramBars, cutRegions(named), (m) => m.range);
    for (const [i, r] of ramBars.entries()) {
      for (const m of hits[i]!) conflict(iova.bars, r, m.range, `${m.type} ${regionLabel(m)}`);
    }
  }
  if (g.platform) spaces.push(hostSpace(g.platform));
  return spaces;
}

/** Every region type VFIO cuts from the usable list. */
const CUT: readonly ('direct' | 'reserved' | 'msi' | 'sw-msi')[] = ['direct', 'reserved', 'msi', 'sw-msi'];

/** The first group of each shape, in order. */
function firstOfEachShape(groups: readonly GroupRegions[], shapeOf: (g: IommuGroup) => readonly IommuGroup[]): GroupRegions[] {
  const seen = new Set<readonly IommuGroup[]>();
  return groups.filter((gr) => {
    const shape = shapeOf(gr.group);
    if (seen.has(shape)) return false;
    seen.add(shape);
    return true;
  });
}

/**
 * The regions of every group the guest names (attached or refused); the same region
 * reached through several groups is one, with every source. Pass one group per shape: the others add nothing (same regions, same names).
 * Sorted by start, then type, then end.
 */
function containerRegions(groups: readonly GroupRegions[]): MergedRegion[] {
  const lists = groups.map((gr) => gr.list());
  // Each list is sorted by start then type (mergeRegions), so one merge pass per list.
  let out: MergedRegion[] = [];
  for (const list of lists) {
    const next: MergedRegion[] = [];
    let i = 0;
    for (const m of list) {
      while (i < out.length && compareRegions(out[i]!, m) < 0) next.push(out[i++]!);
      if (i < out.length && compareRegions(out[i]!, m) === 0) {
        const seen = out[i++]!;
        for (const s of m.sources) if (!seen.sources.includes(s)) seen.sources.push(s);
        next.push(seen);
      } else next.push({ ...m, sources: [...m.sources] });
    }
    while (i < out.length) next.push(out[i++]!);
    out = next;
  }
  return out;
}

function compareRegions(x: MergedRegion, y: MergedRegion): number {
  return (
    byStart(x.range, y.range) ||
    TYPE_ORDER[x.type] - TYPE_ORDER[y.type] ||
    (x.range.end < y.range.end ? -1 : x.range.end > y.range.end ? 1 : 0)
  );
}

/**
 * What VFIO_IOMMU_GET_INFO reports for the attached groups, as the container computes it
 * (sim/container.ts): the aperture every attached group reaches, with `regions` (theirs)
 * cut out. A region listed once or once per
 * group cuts the same.
 */
function containerUsable(attached: readonly GroupRegions[], regions: readonly MergedRegion[]): Interval[] {
  let aperture: Interval | undefined;
  for (const gr of attached) {
    const a = gr.aperture;
    aperture = aperture ? (intersect(aperture, a) ?? aperture) : a;
  }
  return aperture ? usableRanges(aperture, regions) : [];
}

/**
 * The regions that make a DMA map fail, as each group's overlap query returns them (merged
 * per source, not across sources as in the sysfs list); one per type
 * and range, with every source, in the order the groups' queries first return them. Pass
 * one group per shape. The platform-wide regions are the same objects in every group:
 * skipped by identity after the first.
 */
function cutRegions(groups: readonly GroupRegions[]): MergedRegion[] {
  const objects = new Set<MergedRegion>();
  const byKey = new Map<string, MergedRegion>();
  const add = (m: MergedRegion) => {
    if (objects.has(m)) return;
    objects.add(m);
    const key = `${m.type} ${m.range.start} ${m.range.end}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...m, sources: [...m.sources] });
    else for (const s of m.sources) if (!seen.sources.includes(s)) seen.sources.push(s);
  };
  for (const gr of groups) for (const m of gr.overlapping(ALL_ADDRESSES, CUT)) add(m);
  return [...byKey.values()];
}

/**
 * For each of `queries`, the `items` overlapping it, in `items` order. One sort of each and
 * one sweep: an item is taken up when a query starts past its start and dropped once a
 * query starts past its end, so the work is the sort plus the pairs found.
 */
function overlapsEach<T>(queries: readonly Interval[], items: readonly T[], rangeOf: (x: T) => Interval): T[][] {
  const order = items.map((_, i) => i).sort((a, b) => byStart(rangeOf(items[a]!), rangeOf(items[b]!)));
  const out: T[][] = queries.map(() => []);
  let next = 0; // the first item of `order` not yet taken up
  let active: number[] = []; // items starting below the current query's start, not yet ended
  for (const qi of queries.map((_, i) => i).sort((a, b) => byStart(queries[a]!, queries[b]!))) {
    const q = queries[qi]!;
    while (next < order.length && rangeOf(items[order[next]!]!).start < q.start) active.push(order[next++]!);
    active = active.filter((i) => rangeOf(items[i]!).end >= q.start);
    const hits = [...active];
    for (let k = next; k < order.length && rangeOf(items[order[k]!]!).start <= q.end; k++) hits.push(order[k]!);
    out[qi] = hits.sort((a, b) => a - b).map((i) => items[i]!);
  }
  return out;
}

// ----- bars ------------------------------------------------------------------------

function bar(range: Interval, kind: BarKind, label: string, source?: BarSource): Bar {
  return { start: range.start, end: range.end, kind, label, ...(source ? { source } : {}), problems: [] };
}

function regionBar(m: MergedRegion): Bar {
  return bar(m.range, m.type, regionLabel(m), sourceOf(m.sources));
}

function regionLabel(m: MergedRegion): string {
  const names = [...new Set(m.sources.map((s) => (s.kind === 'declared' ? s.region.sym.name : s.label)))];
  return someOf(names, 3);
}

/** The line a region comes from: its `reserved` line, or the IOMMU that adds it. */
function sourceOf(sources: readonly RegionSource[]): BarSource | undefined {
  const s = sources[0];
  if (!s) return undefined;
  switch (s.kind) {
    case 'declared':
      return { uri: s.region.sym.uri, span: s.region.decl.span };
    case 'builtin':
      return { uri: s.iommu.sym.uri, span: s.iommu.decl.span };
  }
}

/** Pushes the overlap of `r` with `other` as a conflict bar on `r`'s line. */
function conflict(out: Bar[], r: Bar, other: Interval, what: string): void {
  const range = intersect(r, other);
  if (!range) return;
  out.push(bar(range, 'conflict', `${r.label} overlaps ${what}`, r.source));
}

/** Sorts and caps a space's bars and marks each with the errors and warnings of its line; true if capped. */
function finish(space: AddressSpace, problemsOf: (source: BarSource) => BarProblem[]): boolean {
  space.bars.sort((x, y) => byStart(x, y) || (x.end !== y.end ? (x.end < y.end ? -1 : 1) : KIND_RANK[x.kind] - KIND_RANK[y.kind]));
  const capped = space.bars.length > MAX_BARS_PER_SPACE;
  if (capped) space.bars.length = MAX_BARS_PER_SPACE;
  for (const b of space.bars) if (b.source) b.problems = problemsOf(b.source);
  return capped;
}

/** The errors and warnings that start on a source's first line; each file is indexed by line once. */
function lineProblems(a: Analysis): (source: BarSource) => BarProblem[] {
  const files = new Map<string, Map<number, BarProblem[]>>();
  return (source) => {
    const index = a.lineIndex(source.uri);
    let byLine = files.get(source.uri);
    if (!byLine) {
      files.set(source.uri, (byLine = new Map()));
      for (const f of a.findings.get(source.uri) ?? []) {
        if (f.severity !== 'error' && f.severity !== 'warning') continue;
        const line = index.position(f.span.start).line;
        push(byLine, line, { severity: f.severity, code: f.code, message: f.message });
      }
    }
    return byLine.get(index.position(source.span.start).line) ?? [];
  };
}

/** Appends `v` to the list under `k`, creating it: no copy per element. */
function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

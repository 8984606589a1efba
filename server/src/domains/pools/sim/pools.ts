/**
 * Pools (RULES §4): hosts a guest may migrate between must agree on its memory map. A
 * guest keeps the map chosen where it started, so every guest on a pool host is checked
 * against the regions of every other host of the pool, and a map safe on all of them
 * (layout.ts) is offered as the fix. Latent problems (they bite only after a migration and
 * a hot-add), hence warnings; a timeline that does migrate gets the error on its step.
 *
 * Cost (issue 22): every guest against every host is guests × hosts, so
 * - a guest is first tested against the pool's merged union of regions and its narrowest
 *   aperture (binary searches): most guests stop there;
 * - guests with the same RAM shape share the probe of every host (one per shape);
 * - a guest gets one finding per RAM line naming the first hosts ("and N more"), with a
 *   bounded list of related locations;
 * - the whole engine spends at most `POOL_BUDGET` units of work; past it, each pool not
 *   fully checked gets `pool-checks-truncated`, and what was found so far stays.
 */
import type * as A from '@iommu-lens/grammar';
import type { Finding, Fix, Location, Related, TextEdit } from '../../../model/findings';
import { finding } from '../codes';
import { ALL_ADDRESSES, firstEndingFrom, formatInterval, formatSize, hex, intervalSize, type Interval } from '../../../model/interval';
import type { Guest, Iommu, Machine, Model, Platform } from '../../../model/types';
import type { Pool } from '../model/types';
import { Budget } from '../../../sim/budget';
import { addressWidthOf, apertureEnd, DEFAULT_ADDRESS_WIDTH } from '../../../sim/builtins';
import { DEFAULT_PAGE_SIZE } from '../../../sim/container';
import { removalSpan } from '../../../sim/edits';
import { describeRegions, regionRelated, someOf } from '../../../sim/explain';
import type { PlatformRegions } from '../../../sim/platformRegions';
import { RangeSet } from '../../../sim/rangeset';
import { isArmGuest, type GuestState } from '../../../sim/vfio';
import { type Blocker, type Laid, type LayoutSearch, machineLine, type MachineKnobs, type MachineType, searchLayout } from './ramLayout';
import { type GuestRamRange, machineLayout, physBitsOf } from '../../../sim/qemu';
import type { MergedRegion } from '../../../sim/regions';
import type { RegionType } from '../../../model/types';

/** What a pool-safe guest map must respect. */
export interface PoolLayout {
  pool: Pool;
  /** The union of every host's `reserved`, `msi` and `sw-msi` regions, merged and sorted. */
  readonly avoid: Interval[];
  /** The end of the narrowest aperture of any IOMMU with devices on any host. */
  limit: bigint;
  /** The largest smallest-page of those IOMMUs, and at least 2 MiB (huge-page backing). */
  align: bigint;
}

/**
 * Units of work the pool checks may spend in one analysis, over all pools: a region merged
 * into a pool's union, a host probed for a RAM shape and each region it hits, a fix laid out
 * (the union's length). A pool of 1,800 hosts with one guest each, all conflicting, takes
 * about 160,000; a million guards against guests × hosts when every guest's RAM differs.
 */
export const POOL_BUDGET = 1_000_000;

/** Hosts named in a message; the rest are counted. Related locations come from the first two. */
const NAMED_HOSTS = 2;
const LISTED_HOSTS = 5;

const TWO_MIB = 2n << 20n;
/**
 * What guest RAM must avoid on a host it may move to: what VFIO cuts from the usable list,
 * but `direct` (a device with one is never assigned, RULES §1.6).
 */
const RAM_TYPES: readonly RegionType[] = ['reserved', 'msi', 'sw-msi'];

/**
 * The pool's layout. The union of regions is made on first use (hovers, `iommu-lens
 * layout`), unless the check already made it (`avoid`).
 */
export function poolLayout(pool: Pool, regionsOf: (p: Platform) => PlatformRegions, avoid?: Interval[]): PoolLayout {
  let limit: bigint | undefined;
  let align = TWO_MIB;
  for (const host of pool.hosts) {
    for (const i of regionsOf(host).iommusInUse()) {
      const end = apertureEnd(i);
      if (limit === undefined || end < limit) limit = end;
      const page = i.pageSizes.length ? i.pageSizes.reduce((a, b) => (a < b ? a : b)) : DEFAULT_PAGE_SIZE;
      if (page > align) align = page;
    }
  }
  let union = avoid;
  return {
    pool,
    get avoid() {
      return (union ??= poolUnion(pool, regionsOf)!);
    },
    limit: limit ?? (1n << BigInt(DEFAULT_ADDRESS_WIDTH)) - 1n,
    align,
  };
}

/** The merged union of the hosts' regions; undefined if `budget` runs out first. */
function poolUnion(pool: Pool, regionsOf: (p: Platform) => PlatformRegions, budget?: Budget): Interval[] | undefined {
  const ranges: Interval[] = [];
  for (const host of pool.hosts) {
    if (budget?.exhausted) return undefined;
    const regions = regionsOf(host).anyOverlapping(ALL_ADDRESSES, RAM_TYPES);
    for (const r of regions) ranges.push(r.range);
    budget?.take(regions.length);
  }
  return [...RangeSet.of(ranges).ranges()];
}

/** The machine type a guest's layout follows: its `machine`, else its platform's architecture. */
export function machineOf(g: Guest): MachineType {
  return g.machine?.type ?? (isArmGuest(g, g.platform) ? 'virt' : 'q35');
}

/**
 * QEMU's layout for a guest with these machine knobs: the simulator's own (`machineLayout`),
 * so a layout found here is the one the VFIO check makes of the line it writes. `g` lends its
 * file (the ranges' locations); without one the ranges point nowhere.
 */
export function realizeFor(g?: Guest): (k: MachineKnobs) => ReturnType<typeof machineLayout> {
  return (k) => {
    const stmt =
      g?.machine?.stmt ?? ({ kind: 'machine', span: g?.decl.span ?? { start: 0, end: 0 }, options: [] } as unknown as A.MachineStmt);
    const machine: Machine = { ...g?.machine, ...k, stmt };
    // machineLayout reads the guest's file and its `machine` settings only.
    const guest = g ? { ...g, machine } : ({ sym: { uri: '' }, machine } as unknown as Guest);
    return machineLayout(guest);
  };
}

/** A layout QEMU can produce of `want.memory` bytes that is safe on every host of the pool (RULES §3.9, §4). */
export function poolMachineLayout(layout: PoolLayout, want: MachineKnobs, g?: Guest): LayoutSearch {
  return searchLayout(layout, want, realizeFor(g));
}

/** The hosts of the pool behind a blocker, each with what blocks there. */
export function blockingHosts(pool: Pool, regionsOf: (p: Platform) => PlatformRegions, b: Blocker): { host: Platform; what: string }[] {
  const out: { host: Platform; what: string }[] = [];
  for (const host of pool.hosts) {
    const pr = regionsOf(host);
    if (b.kind === 'region') {
      const hits = pr.anyOverlapping(b.range, RAM_TYPES);
      if (hits.length) out.push({ host, what: describeRegions(hits) });
    } else if (b.kind === 'limit') {
      const narrow = pr.iommusNotReaching(b.top);
      if (narrow.length)
        out.push({ host, what: `the aperture of ${narrow.map((i) => `IOMMU ${i.sym.name} (${addressWidthOf(i)} bits)`).join(', ')}` });
    }
  }
  return out;
}

/** The sentence of a search that found nothing: no layout of that size, the largest that is safe, and who blocks more. */
export function noLayoutText(
  pool: Pool,
  regionsOf: (p: Platform) => PlatformRegions,
  want: MachineKnobs,
  s: Extract<LayoutSearch, { ok: false }>,
): string {
  const blocks = (b: Blocker, what: string) => {
    if (b.kind === 'phys-bits') {
      const bits = physBitsOf(want);
      return (
        `${want.physBits !== undefined ? `phys-bits ${want.physBits}` : `the default of ${bits?.bits} phys-bits (${bits?.why})`}` +
        ` is too few for ${what}`
      );
    }
    const hosts = blockingHosts(pool, regionsOf, b);
    const shown = hosts.slice(0, NAMED_HOSTS).map((h) => `${h.what} on ${h.host.sym.name}`);
    const rest = hosts.length - shown.length;
    const more = rest > 0 ? ` and ${rest} more host${rest > 1 ? 's' : ''}` : '';
    return `${shown.join(' and ')}${more} ${hosts.length > 1 ? 'block' : 'blocks'} ${what}`;
  };
  const none = `no ${want.type} layout of ${formatSize(want.memory)} is safe on every host of pool ${pool.sym.name}`;
  if (!s.largest) return `${none}, nor of any smaller size: ${blocks(s.blocker, 'it')}`;
  return (
    `${none}: the largest that is has ${formatSize(s.largest.knobs.memory)} ` +
    `('${machineLine(s.largest.knobs, formatSize)}'); ${blocks(s.largestBlocker ?? s.blocker, 'more')}`
  );
}

export function checkPools(
  model: Model,
  regionsOf: (p: Platform) => PlatformRegions,
  guests: ReadonlyMap<Guest, GuestState>,
  out: Finding[],
  budget = new Budget(POOL_BUDGET),
): Map<Pool, PoolLayout> {
  const layouts = new Map<Pool, PoolLayout>();
  if (!model.pools.size) return layouts;
  const onHost = new Map<Platform, GuestState[]>();
  for (const s of guests.values()) {
    const p = s.guest.platform!;
    const list = onHost.get(p);
    if (list) list.push(s);
    else onHost.set(p, [s]);
  }
  for (const pool of model.pools.values()) {
    const union = budget.exhausted ? undefined : poolUnion(pool, regionsOf, budget);
    const layout = poolLayout(pool, regionsOf, union);
    layouts.set(pool, layout);
    const checked = union && new PoolCheck(model, layout, union, regionsOf, budget, out).run(onHost);
    if (checked !== true) truncated(pool, checked, onHost, budget, out);
  }
  return layouts;
}

/** How far the check of one pool got: true when every guest was checked. */
type Progress = true | { guests: number };

/** `pool-checks-truncated` at a pool the budget did not cover. */
function truncated(pool: Pool, progress: Progress | undefined, onHost: Map<Platform, GuestState[]>, budget: Budget, out: Finding[]): void {
  const total = pool.hosts.reduce((n, h) => n + (onHost.get(h)?.length ?? 0), 0);
  const done = progress === undefined || progress === true ? 0 : progress.guests;
  out.push(
    finding(
      'pool-checks-truncated',
      { uri: pool.sym.uri, span: pool.sym.nameSpan },
      `the pool checks stopped after ${budget.limit.toLocaleString('en-US')} units of work: ${done} of the ${total} ` +
        `guest${total === 1 ? '' : 's'} on the hosts of pool ${pool.sym.name} ${done === 1 ? 'was' : 'were'} checked against the ` +
        'other hosts, the rest are not, so conflicts after a migration may be missing. Guests with the same RAM layout share the ' +
        'work: fewer distinct layouts, or smaller pools, keep the checks complete (docs/limits.md)',
    ),
  );
}

/** Hosts with a conflict, in pool order, and what conflicts on each. */
interface OnHosts<T> {
  hosts: Platform[];
  what: Map<Platform, T>;
}

function onHosts<T>(): OnHosts<T> {
  return { hosts: [], what: new Map() };
}

function add<T>(h: OnHosts<T>, host: Platform, what: T): void {
  h.hosts.push(host);
  h.what.set(host, what);
}

/** The hosts other than `own` with a conflict: the first `LISTED_HOSTS` and how many in all. O(LISTED_HOSTS). */
function others<T>(h: OnHosts<T>, own: Platform | undefined): { first: { host: Platform; what: T }[]; count: number } {
  const first: { host: Platform; what: T }[] = [];
  for (const host of h.hosts) {
    if (first.length === LISTED_HOSTS) break;
    if (host !== own) first.push({ host, what: h.what.get(host)! });
  }
  return { first, count: h.hosts.length - (own && h.what.has(own) ? 1 : 0) };
}

/** What every host of the pool makes of one RAM shape: per RAM line, the apertures. */
interface ShapeConflicts {
  lines: OnHosts<MergedRegion[]>[];
  narrow: OnHosts<Iommu[]>;
}

class PoolCheck {
  private readonly pool: Pool;
  private readonly shapes = new Map<string, ShapeConflicts>();
  /** Where each host is named in the pool, for the related location. */
  private readonly hostAt = new Map<string, A.Span>();
  private readonly poolMessage: string;

  constructor(
    private readonly model: Model,
    private readonly layout: PoolLayout,
    /** `layout.avoid`, sorted and disjoint. */
    private readonly union: readonly Interval[],
    private readonly regionsOf: (p: Platform) => PlatformRegions,
    private readonly budget: Budget,
    private readonly out: Finding[],
  ) {
    this.pool = layout.pool;
    for (const h of this.pool.decl.hosts) if (!this.hostAt.has(h.name.text)) this.hostAt.set(h.name.text, h.span);
    this.poolMessage = `pool ${this.pool.sym.name}: ${someOf(
      this.pool.hosts.map((h) => h.sym.name),
      8,
    )}`;
  }

  /** Checks every guest of the pool's hosts; how far it got if the budget ran out. */
  run(onHost: Map<Platform, GuestState[]>): Progress {
    let guests = 0;
    for (const host of this.pool.hosts) {
      for (const s of onHost.get(host) ?? []) {
        if (!this.checkGuest(s)) return { guests };
        guests++;
      }
    }
    return true;
  }

  /** False if the budget ran out before the guest was checked. */
  private checkGuest(s: GuestState): boolean {
    if (!this.budget.take(s.ram.length + 1)) return false;
    const top = s.ram.reduce((m, r) => (r.range.end > m ? r.range.end : m), -1n);
    const touched = s.ram.some((r) => this.inUnion(r.range)) || (s.ram.length > 0 && top > this.layout.limit);
    if (!touched) return true; // no host of the pool has anything there, and every aperture covers the RAM
    // The RAM ranges by the line that makes them (a `machine` line makes two).
    const lines = new Map<A.Span, GuestRamRange[]>();
    for (const r of s.ram) {
      const same = lines.get(r.span);
      if (same) same.push(r);
      else lines.set(r.span, [r]);
    }
    const shape = this.shapeOf(s, [...lines.values()], top);
    if (!shape) return false;
    this.report(s, [...lines.values()], shape, top);
    return true;
  }

  /** Whether `range` overlaps a region of some host of the pool: one binary search. */
  private inUnion(range: Interval): boolean {
    const next = this.union[firstEndingFrom(this.union, range.start, (x) => x)];
    return !!next && next.start <= range.end;
  }

  /**
   * Every host's conflicts with this RAM shape (the ranges by line, the top), probed once per shape;
   * undefined if the budget runs out on the way.
   */
  private shapeOf(s: GuestState, lines: readonly GuestRamRange[][], top: bigint): ShapeConflicts | undefined {
    const key = lines.map((line) => line.map((r) => formatInterval(r.range)).join(' ')).join(',');
    const known = this.shapes.get(key);
    if (known) return known;
    const shape: ShapeConflicts = { lines: lines.map(() => onHosts()), narrow: onHosts() };
    for (const host of this.pool.hosts) {
      const pr = this.regionsOf(host);
      let work = s.ram.length;
      lines.forEach((line, k) => {
        const found = line.flatMap((r) => pr.anyOverlapping(r.range, RAM_TYPES));
        work += found.length;
        if (found.length) add(shape.lines[k]!, host, found);
      });
      const narrow = s.ram.length ? pr.iommusNotReaching(top) : [];
      if (narrow.length) add(shape.narrow, host, narrow);
      if (!this.budget.take(1 + work + narrow.length)) return undefined;
    }
    this.shapes.set(key, shape);
    return shape;
  }

  private report(s: GuestState, lines: readonly GuestRamRange[][], shape: ShapeConflicts, top: bigint): void {
    const g = s.guest;
    const own = g.platform;
    const pool = this.pool;
    const hostSpan = this.hostAt.get(own?.sym.name ?? '') ?? pool.decl.span;
    const poolRelated: Related = { uri: pool.sym.uri, span: hostSpan, message: this.poolMessage };
    const migrate = `which pool ${pool.sym.name} lets it migrate to`;
    const consequence = `its memory map is fixed when it starts (RULES §4), so after migrating there`;
    // The fix (or, when QEMU can lay out no map of this size safely, why not), found once per guest.
    let plan: Plan | undefined;
    const planned = () => (plan ??= this.budget.exhausted ? { fixes: [] } : this.plan(g, s.ram));
    const note = () => (planned().note ? `; ${planned().note}` : '');
    lines.forEach((ram, line) => {
      const { first, count } = others(shape.lines[line]!, own);
      if (!count) return;
      const what = ram.map((r) => `${r.name} ${formatInterval(r.range)}`).join(' and ');
      const where = hostList(first, count, (hits) => describeRegions(hits), 'regions');
      this.out.push(
        finding(
          'pool-ram-conflict',
          at(ram[0]!),
          `guest ${g.sym.name}'s RAM ${what} overlaps ${where}, ${migrate}: ${consequence} hot-adding a ` +
            `device (or arriving with one) fails: VFIO_IOMMU_MAP_DMA -EINVAL${note()}`,
          { related: [...named(first).flatMap((x) => regionRelated(x.what)), poolRelated], fixes: planned().fixes },
        ),
      );
    });
    const narrow = others(shape.narrow, own);
    if (narrow.count && s.ram.length) {
      const highest = s.ram.reduce((a, b) => (b.range.end > a.range.end ? b : a));
      const iommus = (list: Iommu[]) => list.map((i) => `${i.sym.name} (${addressWidthOf(i)} bits)`).join(', ');
      const several = narrow.count > 1 || narrow.first[0]!.what.length > 1;
      this.out.push(
        finding(
          'pool-address-width',
          at(highest),
          `guest ${g.sym.name}'s RAM reaches ${hex(top)}, beyond the aperture ` +
            `of ${hostList(narrow.first, narrow.count, iommus, 'IOMMUs')}, ${migrate}: ${consequence} no ` +
            `device behind ${several ? 'them' : 'it'} can be hot-added (VFIO_IOMMU_MAP_DMA -EINVAL)${note()}`,
          {
            related: [
              ...named(narrow.first).flatMap((x) =>
                x.what.map((i) => ({ uri: i.sym.uri, span: i.sym.nameSpan, message: `IOMMU ${i.sym.name} of ${x.host.sym.name}` })),
              ),
              poolRelated,
            ],
            fixes: planned().fixes,
          },
        ),
      );
    }
  }

  /**
   * The pool-safe `machine` line for the guest's RAM, searched once per size and knobs (each
   * search costs about the union's length); when there is none, the sentence saying so.
   */
  private plan(g: Guest, ram: readonly GuestRamRange[]): Plan {
    if (!ram.length) return { fixes: [] };
    const want = wantOf(g, ram);
    const key = machineLine(want, String);
    let found = this.searched.get(key);
    if (!found) {
      this.budget.take(this.union.length);
      this.searched.set(key, (found = poolMachineLayout(this.layout, want, g)));
    }
    if (found.ok) return { fixes: layoutEdits(this.model, g, found.laid, this.pool) };
    let note = this.notes.get(key);
    if (note === undefined) {
      this.budget.take(this.pool.hosts.length);
      this.notes.set(key, (note = noLayoutText(this.pool, this.regionsOf, want, found)));
    }
    // No fix: a smaller guest is a trade-off for its owner, not a correction (docs/diagnostics.md#pool-ram-conflict).
    return { fixes: [], note };
  }

  private readonly searched = new Map<string, LayoutSearch>();
  /** The "no layout" sentence, shared by guests of the same size and knobs. */
  private readonly notes = new Map<string, string>();
}

interface Plan {
  fixes: Fix[];
  /** Why there is no fix: no layout of that size is safe on every host. */
  note?: string;
}

/** The knobs of the guest's layout now: its machine type and settings, and its whole RAM as `memory`. */
function wantOf(g: Guest, ram: readonly GuestRamRange[]): MachineKnobs {
  const m = g.machine;
  const type = machineOf(g);
  return {
    type,
    memory: ram.reduce((n, r) => n + intervalSize(r.range), 0n),
    maxRamBelow4g: type === 'virt' ? undefined : m?.maxRamBelow4g,
    cpu: m?.cpu,
    version: m?.version,
    pciHole64Size: m?.pciHole64Size,
    physBits: m?.physBits,
    cpuModel: m?.cpuModel,
    accel: m?.accel,
  };
}

/** The hosts named with what conflicts there: the first two, then a count of the rest with a few names. */
function hostList<T>(first: { host: Platform; what: T }[], count: number, describe: (what: T) => string, noun: string): string {
  const shown = named(first).map((x) => `${describe(x.what)} on ${x.host.sym.name}`);
  if (count <= NAMED_HOSTS) return shown.join(' and ');
  const rest = count - NAMED_HOSTS;
  const names = first.slice(NAMED_HOSTS).map((x) => x.host.sym.name);
  const list = names.length < rest ? `${names.join(', ')} and ${rest - names.length} more` : names.join(', ');
  return `${shown.join(', ')} and ${noun} on ${rest} more host${rest > 1 ? 's' : ''} (${list})`;
}

function named<T>(first: { host: Platform; what: T }[]): { host: Platform; what: T }[] {
  return first.slice(0, NAMED_HOSTS);
}

function at(r: GuestRamRange): Location {
  return { uri: r.uri, span: r.span };
}

/**
 * Writes the layout into the guest as QEMU's knobs: its `machine` statement gets the size and
 * `max-ram-below-4g` (its other options stay), and every `ram` line goes, since QEMU cannot
 * place RAM piece by piece. A guest with only `ram` lines gets a `machine` line in place of
 * the first. Comments stay.
 */
function layoutEdits(model: Model, g: Guest, laid: Laid, pool: Pool): Fix[] {
  const uri = g.sym.uri;
  const k = laid.knobs;
  const edits: TextEdit[] = [];
  const m = g.machine;
  if (m) {
    const opt = (key: string) => m.stmt.options.find((o) => o.key.text === key);
    const memory = opt('memory');
    const below = opt('max-ram-below-4g');
    // After the machine type (or the keyword): what the statement lacks.
    const anchor = m.stmt.machineType?.span.end ?? m.stmt.span.start + 'machine'.length;
    let insert = m.stmt.machineType ? '' : ` ${k.type}`;
    if (!memory?.value) insert += ` memory ${formatSize(k.memory)}`;
    else if (m.memory !== k.memory) edits.push({ uri, span: memory.value.span, newText: formatSize(k.memory) });
    if (k.maxRamBelow4g !== undefined && k.maxRamBelow4g !== m.maxRamBelow4g) {
      if (below?.value) edits.push({ uri, span: below.value.span, newText: formatSize(k.maxRamBelow4g) });
      else if (memory?.value)
        edits.push({
          uri,
          span: { start: memory.span.end, end: memory.span.end },
          newText: ` max-ram-below-4g ${formatSize(k.maxRamBelow4g)}`,
        });
      else insert += ` max-ram-below-4g ${formatSize(k.maxRamBelow4g)}`;
    }
    if (insert) edits.push({ uri, span: { start: anchor, end: anchor }, newText: insert });
  }
  const items = g.decl.items;
  let first = !m;
  items.forEach((item, i) => {
    if (item.kind !== 'ram') return;
    if (first) edits.push({ uri, span: item.span, newText: machineLine(k, formatSize) });
    else edits.push({ uri, span: removalSpan(model, uri, items[i - 1], item), newText: '' });
    first = false;
  });
  return [
    {
      title: `Lay out ${formatSize(k.memory)} of RAM safely for pool ${pool.sym.name}: ${machineLine(k, formatSize)}`,
      edits: foldInserts(edits),
    },
  ];
}

/** An insertion where a removal starts becomes part of the removal: edits must not overlap. */
function foldInserts(edits: TextEdit[]): TextEdit[] {
  const inserts = edits.filter((e) => e.span.start === e.span.end && e.newText);
  for (const ins of inserts) {
    const at = edits.find((e) => e !== ins && e.span.start === ins.span.start && e.span.end > e.span.start);
    if (!at) continue;
    at.newText = ins.newText + at.newText;
    edits.splice(edits.indexOf(ins), 1);
  }
  return edits;
}

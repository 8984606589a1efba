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
import type { Guest, Iommu, Model, Platform, Pool } from '../../../model/types';
import { Budget } from '../../../sim/budget';
import { addressWidthOf, apertureEnd, DEFAULT_ADDRESS_WIDTH } from '../../../sim/builtins';
import { DEFAULT_PAGE_SIZE } from '../../../sim/container';
import { removalSpan } from '../../../sim/edits';
import { describeRegions, regionRelated, someOf } from '../../../sim/explain';
import type { PlatformRegions } from '../../../sim/platformRegions';
import { RangeSet } from '../../../sim/rangeset';
import { isArmGuest, type GuestState } from '../../../sim/vfio';
import { ramLines, safeLayout, type MachineType } from './ramLayout';
import type { GuestRamRange } from '../../../sim/qemu';
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

/** A safe layout for `total` bytes of RAM in this pool. */
export function poolSafeLayout(layout: PoolLayout, total: bigint, machine: MachineType): Interval[] | undefined {
  return safeLayout({ total, machine, avoid: layout.avoid, limit: layout.limit, align: layout.align });
}

export function checkPools(
  model: Model,
  regionsOf: (p: Platform) => PlatformRegions,
  guests: Map<Guest, GuestState>,
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
      `the pool checks stopped after ${budget.limit.toLocaleString('en-US')} units of work: ${done} of the ${total} guest${total === 1 ? '' : 's'} on the hosts of pool ${pool.sym.name} ${done === 1 ? 'was' : 'were'} checked against the other hosts, the rest are not, so conflicts after a migration may be missing. Guests with the same RAM layout share the work: fewer distinct layouts, or smaller pools, keep the checks complete (docs/limits.md)`,
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
   * Every host's conflicts with this RAM shape (the ranges by line, the top), probed once per shape; undefined if the budget runs out on the way.
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
    let fixes: Fix[] | undefined;
    const fix = () => (fixes ??= this.layoutFix(g, s.ram));
    lines.forEach((ram, line) => {
      const { first, count } = others(shape.lines[line]!, own);
      if (!count) return;
      const what = ram.map((r) => `${r.name} ${formatInterval(r.range)}`).join(' and ');
      const where = hostList(first, count, (hits) => describeRegions(hits), 'regions');
      this.out.push(
        finding(
          'pool-ram-conflict',
          at(ram[0]!),
          `guest ${g.sym.name}'s RAM ${what} overlaps ${where}, ${migrate}: ${consequence} hot-adding a device (or arriving with one) fails: VFIO_IOMMU_MAP_DMA -EINVAL`,
          { related: [...named(first).flatMap((x) => regionRelated(x.what)), poolRelated], fixes: this.budgetFor(fix) },
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
          `guest ${g.sym.name}'s RAM reaches ${hex(top)}, beyond the aperture of ${hostList(narrow.first, narrow.count, iommus, 'IOMMUs')}, ${migrate}: ${consequence} no device behind ${several ? 'them' : 'it'} can be hot-added (VFIO_IOMMU_MAP_DMA -EINVAL)`,
          {
            related: [
              ...named(narrow.first).flatMap((x) =>
                x.what.map((i) => ({ uri: i.sym.uri, span: i.sym.nameSpan, message: `IOMMU ${i.sym.name} of ${x.host.sym.name}` })),
              ),
              poolRelated,
            ],
            fixes: this.budgetFor(fix),
          },
        ),
      );
    }
  }

  /** A fix, if the budget still allows laying one out (each costs about the union's length). */
  private budgetFor(fix: () => Fix[]): Fix[] {
    return this.budget.exhausted ? [] : fix();
  }

  /** The pool-safe layout of the guest's RAM, laid out once per size and machine. */
  private layoutFix(g: Guest, ram: readonly GuestRamRange[]): Fix[] {
    if (!ram.length) return [];
    const total = ram.reduce((n, r) => n + intervalSize(r.range), 0n);
    const machine = machineOf(g);
    const key = `${machine}|${total}`;
    let laid = this.laidOut.get(key);
    if (laid === undefined) {
      this.budget.take(this.union.length);
      this.laidOut.set(key, (laid = poolSafeLayout(this.layout, total, machine) ?? null));
    }
    if (!laid) return [];
    const names = g.ram.map((r) => r.sym.name);
    const textKey = `${key}|${names.join(',')}`;
    let text = this.ramText.get(textKey);
    if (text === undefined) this.ramText.set(textKey, (text = ramLines(laid, names).join('\n  ')));
    return layoutEdits(this.model, g, total, laid, text, this.pool);
  }

  private readonly laidOut = new Map<string, Interval[] | null>();
  /** The `ram` lines of a layout, shared by the fixes of guests of the same shape. */
  private readonly ramText = new Map<string, string>();
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
 * Rewrites the guest's RAM as explicit `ram` lines (`text`, laid out for the pool): the
 * first RAM line becomes the new lines (or they follow the `machine` statement, whose
 * `memory` goes), the other RAM lines go. Comments stay.
 */
function layoutEdits(model: Model, g: Guest, total: bigint, pieces: readonly Interval[], text: string, pool: Pool): Fix[] {
  const uri = g.sym.uri;
  const edits: TextEdit[] = [];
  const items = g.decl.items;
  const memory = g.machine?.stmt.options.find((o) => o.key.text === 'memory');
  if (memory && g.machine) {
    // ` memory 16G` goes; the machine type, cpu and phys-bits stay.
    const opts = g.machine.stmt.options;
    const k = opts.indexOf(memory);
    const from = k > 0 ? opts[k - 1]!.span.end : (g.machine.stmt.machineType?.span.end ?? memory.span.start);
    edits.push({ uri, span: { start: from, end: memory.span.end }, newText: '' });
  }
  let first = true;
  items.forEach((item, k) => {
    if (item.kind !== 'ram') return;
    edits.push(first ? { uri, span: item.span, newText: text } : { uri, span: removalSpan(model, uri, items[k - 1], item), newText: '' });
    first = false;
  });
  if (first && g.machine) {
    edits.push({ uri, span: { start: g.machine.stmt.span.end, end: g.machine.stmt.span.end }, newText: `\n  ${text}` });
  }
  // A layout around thousands of regions has thousands of pieces: the title names the first few.
  const shown = pieces
    .slice(0, 8)
    .map((p) => `${hex(p.start)} size ${formatSize(intervalSize(p))}`)
    .join(', ');
  const sizes = pieces.length > 8 ? `${shown} and ${pieces.length - 8} more` : shown;
  return [{ title: `Lay out ${formatSize(total)} of RAM safely for pool ${pool.sym.name}: ${sizes}`, edits }];
}

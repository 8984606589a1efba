/**
 * Pools (RULES §4): hosts a guest may migrate between must agree on its memory map. A
 * guest keeps the map chosen where it started, so every guest on a pool host is checked
 * against the regions of every other host of the pool, and a map safe on all of them
 * (layout.ts) is offered as the fix. Latent problems (they bite only after a migration and
 * a hot-add), hence warnings; a timeline that does migrate gets the error on its step.
 */
import type * as A from '@iommu-lens/grammar';
import { finding, type Finding, type Fix, type Location, type TextEdit } from '../model/findings';
import { ALL_ADDRESSES, formatInterval, formatSize, hex, intervalSize, type Interval } from '../model/interval';
import type { Guest, Model, Platform, Pool } from '../model/types';
import { addressWidthOf, apertureEnd, DEFAULT_ADDRESS_WIDTH } from './builtins';
import { DEFAULT_PAGE_SIZE } from './container';
import { placeDoorbell } from './doorbell';
import { removalSpan } from './edits';
import { describeRegions, regionRelated } from './explain';
import type { PlatformRegions } from './groups';
import { RangeSet } from './rangeset';
import { isArmGuest, msiWindowStmt, type GuestState } from './guests';
import { ramLines, safeLayout, type MachineType } from './layout';
import type { GuestRamRange } from './qemu';
import type { RegionType } from '../model/types';

/** What a pool-safe guest map must respect. */
export interface PoolLayout {
  pool: Pool;
  /** The union of every host's `reserved`, `msi` and `sw-msi` regions, merged and sorted. */
  avoid: Interval[];
  /** The end of the narrowest aperture of any IOMMU with devices on any host. */
  limit: bigint;
  /** The largest smallest-page of those IOMMUs, and at least 2 MiB (huge-page backing). */
  align: bigint;
}

const TWO_MIB = 2n << 20n;
/**
 * What guest RAM must avoid on a host it may move to: what VFIO cuts from the usable list,
 * but `direct` (a device with one is never assigned, RULES §1.6) and, when the guest names
 * its own msi-window, the sw-msi windows it replaces.
 */
const RAM_TYPES_WITH_WINDOW: readonly RegionType[] = ['reserved', 'msi'];
const RAM_TYPES: readonly RegionType[] = ['reserved', 'msi', 'sw-msi'];

export function poolLayout(pool: Pool, regionsOf: (p: Platform) => PlatformRegions): PoolLayout {
  const ranges: Interval[] = [];
  let limit: bigint | undefined;
  let align = TWO_MIB;
  for (const host of pool.hosts) {
    const pr = regionsOf(host);
    for (const r of pr.anyOverlapping(ALL_ADDRESSES, RAM_TYPES)) ranges.push(r.range);
    for (const i of pr.iommusInUse()) {
      const end = apertureEnd(i);
      if (limit === undefined || end < limit) limit = end;
      const page = i.pageSizes.length ? i.pageSizes.reduce((a, b) => (a < b ? a : b)) : DEFAULT_PAGE_SIZE;
      if (page > align) align = page;
    }
  }
  return { pool, avoid: [...RangeSet.of(ranges).ranges()], limit: limit ?? (1n << BigInt(DEFAULT_ADDRESS_WIDTH)) - 1n, align };
}

/** The machine type a guest's layout follows: its `machine`, else its platform's architecture. */
export function machineOf(g: Guest): MachineType {
  return g.machine?.type ?? (isArmGuest(g, g.platform) ? 'virt' : 'q35');
}

/** A safe layout for `total` bytes of RAM in this pool. */
export function poolSafeLayout(layout: PoolLayout, total: bigint, machine: MachineType, extraAvoid: readonly Interval[] = []): Interval[] | undefined {
  return safeLayout({ total, machine, avoid: [...layout.avoid, ...extraAvoid], limit: layout.limit, align: layout.align });
}

export function checkPools(model: Model, regionsOf: (p: Platform) => PlatformRegions, guests: Map<Guest, GuestState>, out: Finding[]): Map<Pool, PoolLayout> {
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
    const layout = poolLayout(pool, regionsOf);
    layouts.set(pool, layout);
    for (const host of pool.hosts) for (const s of onHost.get(host) ?? []) checkGuest(model, s, layout, regionsOf, out);
  }
  return layouts;
}

function checkGuest(model: Model, s: GuestState, layout: PoolLayout, regionsOf: (p: Platform) => PlatformRegions, out: Finding[]): void {
  const g = s.guest;
  const poolAt = layout.pool.decl.hosts.find((h) => h.name.text === g.platform!.sym.name) ?? layout.pool.decl;
  const poolRelated = { uri: layout.pool.sym.uri, span: poolAt.span, message: `pool ${layout.pool.sym.name}: ${layout.pool.hosts.map((h) => h.sym.name).join(', ')}` };
  const consequence = `its memory map is fixed when it starts (RULES §4), so after migrating there`;
  let fixes: Fix[] | undefined;
  const fix = () => (fixes ??= layoutFix(model, g, s.ram, layout));
  for (const host of layout.pool.hosts) {
    if (host === g.platform) continue;
    const pr = regionsOf(host);
    // One finding per RAM line (a `machine` line makes two ranges).
    const byLine = new Map<A.Span, { ram: GuestRamRange[]; hits: ReturnType<PlatformRegions['anyOverlapping']> }>();
    for (const ram of s.ram) {
      const hits = pr.anyOverlapping(ram.range, g.msiWindow ? RAM_TYPES_WITH_WINDOW : RAM_TYPES);
      if (!hits.length) continue;
      const e = byLine.get(ram.span) ?? { ram: [], hits: [] };
      e.ram.push(ram);
      e.hits.push(...hits);
      byLine.set(ram.span, e);
    }
    for (const { ram, hits } of byLine.values()) {
      const what = ram.map((r) => `${r.name} ${formatInterval(r.range)}`).join(' and ');
      out.push(finding('pool-ram-conflict', at(ram[0]!),
        `guest ${g.sym.name}'s RAM ${what} overlaps ${describeRegions(hits)} on ${host.sym.name}, which pool ${layout.pool.sym.name} lets it migrate to: ${consequence} hot-adding a device (or arriving with one) fails: VFIO_IOMMU_MAP_DMA -EINVAL`,
        { related: [...regionRelated(hits), poolRelated], fixes: fix() }));
    }
    if (g.msiWindow) {
      const hits = pr.anyOverlapping(g.msiWindow, RAM_TYPES_WITH_WINDOW);
      const stmt = msiWindowStmt(g);
      if (hits.length && stmt) {
        const moved = doorbellFix(g, stmt, layout, s.ram);
        out.push(finding('pool-doorbell-conflict', { uri: g.sym.uri, span: stmt.range?.span ?? stmt.span },
          `the msi-window ${formatInterval(g.msiWindow)} of guest ${g.sym.name} overlaps ${describeRegions(hits)} on ${host.sym.name}, which pool ${layout.pool.sym.name} lets it migrate to: the doorbell could not be mapped there (RULES §4)`,
          { related: [...regionRelated(hits), poolRelated], fixes: moved }));
      }
    }
    const top = s.ram.reduce((m, r) => (r.range.end > m ? r.range.end : m), -1n);
    const narrow = pr.iommusNotReaching(top);
    if (narrow.length && s.ram.length) {
      const highest = s.ram.reduce((a, b) => (b.range.end > a.range.end ? b : a));
      out.push(finding('pool-address-width', at(highest),
        `guest ${g.sym.name}'s RAM reaches ${hex(top)}, beyond the aperture of ${narrow.map((i) => `${i.sym.name} (${addressWidthOf(i)} bits)`).join(', ')} on ${host.sym.name}, which pool ${layout.pool.sym.name} lets it migrate to: ${consequence} no device behind ${narrow.length > 1 ? 'them' : 'it'} can be hot-added (VFIO_IOMMU_MAP_DMA -EINVAL)`,
        { related: [...narrow.map((i) => ({ uri: i.sym.uri, span: i.sym.nameSpan, message: `IOMMU ${i.sym.name}` })), poolRelated], fixes: fix() }));
    }
  }
}

function at(r: GuestRamRange): Location {
  return { uri: r.uri, span: r.span };
}

/** Moves the msi-window to a place free on every host of the pool and of the guest's RAM. */
function doorbellFix(g: Guest, stmt: A.MsiWindowStmt, layout: PoolLayout, ram: readonly GuestRamRange[]): Fix[] {
  if (!g.msiWindow || !stmt.range) return [];
  const size = intervalSize(g.msiWindow);
  const w = placeDoorbell(size, [...layout.avoid, ...ram.map((r) => r.range)]);
  if (!w) return [];
  const text = `${hex(w.start)} size ${formatSize(size)}`;
  return [{ title: `Move the MSI doorbell window to ${text} (free on every host of pool ${layout.pool.sym.name})`, edits: [{ uri: g.sym.uri, span: stmt.range.span, newText: text }] }];
}

/**
 * Rewrites the guest's RAM as explicit `ram` lines laid out for the pool: the first RAM
 * line becomes the new lines (or they follow the `machine` statement, whose `memory` goes),
 * the other RAM lines go. Comments stay.
 */
function layoutFix(model: Model, g: Guest, ram: readonly GuestRamRange[], layout: PoolLayout): Fix[] {
  const total = ram.reduce((n, r) => n + intervalSize(r.range), 0n);
  const pieces = poolSafeLayout(layout, total, machineOf(g), g.msiWindow ? [g.msiWindow] : []);
  if (!pieces || !ram.length) return [];
  const lines = ramLines(pieces, g.ram.map((r) => r.sym.name));
  const uri = g.sym.uri;
  const edits: TextEdit[] = [];
  const items = g.decl.items;
  const ramItems = items.filter((i): i is A.RamDecl => i.kind === 'ram');
  const memory = g.machine?.stmt.options.find((o) => o.key.text === 'memory');
  const text = (indent: string) => lines.join(`\n${indent}`);
  if (memory && g.machine) {
    // ` memory 16G` goes; the machine type, cpu and phys-bits stay.
    const opts = g.machine.stmt.options;
    const k = opts.indexOf(memory);
    const from = k > 0 ? opts[k - 1]!.span.end : (g.machine.stmt.machineType?.span.end ?? memory.span.start);
    edits.push({ uri, span: { start: from, end: memory.span.end }, newText: '' });
  }
  ramItems.forEach((item, k) => {
    if (k === 0) {
      edits.push({ uri, span: item.span, newText: text('  ') });
      return;
    }
    edits.push({ uri, span: removalSpan(model, uri, items[items.indexOf(item) - 1], item), newText: '' });
  });
  if (!ramItems.length && g.machine) {
    edits.push({ uri, span: { start: g.machine.stmt.span.end, end: g.machine.stmt.span.end }, newText: `\n  ${text('  ')}` });
  }
  const sizes = pieces.map((p) => `${hex(p.start)} size ${formatSize(intervalSize(p))}`).join(', ');
  return [{ title: `Lay out ${formatSize(total)} of RAM safely for pool ${layout.pool.sym.name}: ${sizes}`, edits }];
}

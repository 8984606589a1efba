/**
 * IOMMU groups and their reserved regions, per platform (RULES §1). A group's list is
 * the union of its devices' regions: platform-wide, per IOMMU, per `group N`, per device,
 * plus what each IOMMU driver adds by itself (builtins.ts).
 *
 * Platform-wide regions are indexed once; a group only adds its own few on top, so a
 * platform with 50,000 regions and 10,000 devices is not re-merged per group.
 */
import { ALL_ADDRESSES, type Interval } from '../model/interval';
import type { Device, Iommu, Platform, RegionTarget, RegionType } from '../model/types';
import { addressWidthOf, apertureEnd, builtinRegions, defaultMsiWindow, DEFAULT_ADDRESS_WIDTH } from './builtins';
import { mergeRegions, RegionIndex, REGION_TYPES, usableRanges, type Hits, type MergedRegion, type Resv } from './regions';

export interface IommuGroup {
  /** Unique across platforms; also names the group in messages. */
  key: string;
  platform: Platform;
  /** The `group N` the devices share; undefined for a device alone in its own group. */
  number?: bigint;
  devices: Device[];
}

/** How messages name a group: `group 258`, or the device's own group. */
export function groupLabel(g: IommuGroup): string {
  return g.number !== undefined ? `group ${g.number}` : `the IOMMU group of ${g.devices[0]!.sym.name}`;
}

/** The group number for QEMU messages; `<N>` where the description does not number it. */
export function groupNumberText(g: IommuGroup): string {
  return g.number !== undefined ? g.number.toString() : '<N>';
}

/**
 * What the groups of one shape share (`PlatformRegions.shapes`): their region lists are the
 * same by construction, so each list is built once for all of them. Thousands of groups
 * under thousands of platform-wide regions otherwise merged and cut the regions once per
 * group (groups × regions).
 */
export class GroupShape {
  merged?: MergedRegion[];
  /** The direct regions of the shape, and (when no region names devices or groups) what applies per IOMMU. */
  direct?: MergedRegion[];
  directUniform?: boolean;
  directByIommu?: Map<Iommu | undefined, Hits>;
  /** The usable list (every cut type). */
  usable?: readonly Interval[];
}

/** The regions of one group, queried without merging the platform's whole list again. */
export class GroupRegions {
  constructor(
    readonly group: IommuGroup,
    /** The IOMMUs behind the group's devices (usually one). */
    readonly iommus: Iommu[],
    private readonly indexes: RegionIndex[],
    private readonly raw: () => Resv[],
    /** Shared with the other groups of its shape. */
    readonly shape: GroupShape = new GroupShape(),
    /**
     * Set when these are one device's regions (iommufd since Linux 6.6 reserves per device):
     * the whole group's, which the 1:1 check still reads.
     */
    readonly whole?: GroupRegions,
  ) {}

  /** The aperture `0 .. 2^width - 1`; several IOMMUs: the narrowest. */
  get aperture(): Interval {
    const widths = this.iommus.map(addressWidthOf);
    const w = widths.length ? Math.min(...widths) : DEFAULT_ADDRESS_WIDTH;
    return { start: 0n, end: (1n << BigInt(w)) - 1n };
  }

  has(type: RegionType): boolean {
    return this.indexes.some((ix) => ix.has(type));
  }

  overlapping(range: Interval, types: readonly RegionType[] = REGION_TYPES): MergedRegion[] {
    return this.indexes.flatMap((ix) => ix.overlapping(range, types));
  }

  /** Like `overlapping`, but at most `cap` regions of each type from each source list, and how many there are. */
  hits(range: Interval, types: readonly RegionType[], cap: number): Hits {
    const out: Hits = { regions: [], total: 0 };
    for (const ix of this.indexes) ix.hits(range, types, cap, out);
    return out;
  }

  /**
   * The direct regions that apply to `dev` (RULES §1.6): the first `cap` and how many. A
   * region declared for no device in particular applies to all; one declared for devices,
   * an IOMMU or a group number to those. Without device or group targets the answer
   * depends only on the device's IOMMU, and is kept per shape: thousands of groups under
   * thousands of direct regions cost one pass over them.
   */
  directFor(dev: Device, cap: number): Hits {
    const s = this.shape;
    const all = (s.direct ??= this.overlapping(ALL_ADDRESSES, ['direct']));
    const applies = (m: MergedRegion) => m.sources.some((x) => x.kind !== 'declared' || appliesTo(x.region.targets, dev));
    const byIommuOnly = (m: MergedRegion) =>
      m.sources.every((x) => x.kind !== 'declared' || x.region.targets.every((t) => t.kind === 'iommu'));
    const uniform = (s.directUniform ??= all.every(byIommuOnly));
    const known = uniform ? s.directByIommu?.get(dev.iommu) : undefined;
    if (known) return known;
    const out: Hits = { regions: [], total: 0 };
    for (const m of all) {
      if (!applies(m)) continue;
      if (out.total++ < cap) out.regions.push(m);
    }
    if (uniform) (s.directByIommu ??= new Map()).set(dev.iommu, out);
    return out;
  }

  /** The usable IOVA list of this group alone, as VFIO_IOMMU_GET_INFO would report it. */
  usable(): Interval[] {
    return [...this.sharedUsable()];
  }

  /** The usable list of this group alone, shared with its shape (never to be changed). */
  sharedUsable(): readonly Interval[] {
    return (this.shape.usable ??= usableRanges(this.aperture, this.list()));
  }

  /** The list exactly as sysfs prints it (merged across every source). */
  list(): MergedRegion[] {
    return (this.shape.merged ??= mergeRegions(this.raw()));
  }
}

/** Every platform's groups and region indexes, built once per analysis. */
export class PlatformRegions {
  readonly groups: IommuGroup[] = [];
  private readonly groupOfDevice = new Map<Device, IommuGroup>();
  private readonly wide: Resv[] = [];
  private readonly wideIndex: RegionIndex;
  private readonly perIommu = new Map<Iommu, { regions: Resv[]; index: RegionIndex }>();
  private readonly perGroupNumber = new Map<bigint, Resv[]>();
  private readonly perDevice = new Map<Device, Resv[]>();
  private readonly cache = new Map<IommuGroup, GroupRegions>();
  private readonly deviceCache = new Map<Device, GroupRegions>();
  private everyIndex?: RegionIndex;
  private inUse?: Iommu[];
  private wideDirect?: Resv[];
  private readonly iommuDirect = new Map<Iommu, Resv[]>();
  private readonly groupDirect = new Map<bigint, Resv[]>();
  /** Declared regions numbered in declaration order, for group shapes. */
  private readonly declaredIds = new Map<Resv, number>();
  private byShape?: IommuGroup[][];
  private readonly groupShapes = new Map<string, GroupShape>();
  private shapeByGroup?: Map<IommuGroup, IommuGroup[]>;

  constructor(readonly platform: Platform) {
    const byNumber = new Map<bigint, IommuGroup>();
    for (const dev of platform.devices.values()) {
      let g = dev.group !== undefined ? byNumber.get(dev.group) : undefined;
      if (!g) {
        g = { key: `${platform.sym.name}:${dev.group ?? `device ${dev.sym.name}`}`, platform, number: dev.group, devices: [] };
        if (dev.group !== undefined) byNumber.set(dev.group, g);
        this.groups.push(g);
      }
      g.devices.push(dev);
      this.groupOfDevice.set(dev, g);
    }
    const iommuDeclared = new Map<Iommu, Resv[]>();
    for (const r of platform.reserved) {
      if (!r.type || !r.range) continue;
      const resv: Resv = { type: r.type, range: r.range, source: { kind: 'declared', region: r } };
      this.declaredIds.set(resv, this.declaredIds.size);
      if (r.targets.length === 0) this.wide.push(resv);
      for (const t of r.targets) {
        if (t.kind === 'device') push(this.perDevice, t.device, resv);
        else if (t.kind === 'iommu') push(iommuDeclared, t.iommu, resv);
        else push(this.perGroupNumber, t.group, resv);
      }
    }
    this.wideIndex = new RegionIndex(this.wide);
    for (const iommu of platform.iommus.values()) {
      const regions = [...(iommuDeclared.get(iommu) ?? []), ...builtinRegions(iommu, platform.kernel)];
      this.perIommu.set(iommu, { regions, index: new RegionIndex(regions) });
    }
  }

  /** Every region the description and the IOMMU drivers give any device of the platform. */
  everyRegion(): Resv[] {
    return [
      ...this.wide,
      ...[...this.perIommu.values()].flatMap((x) => x.regions),
      ...[...this.perGroupNumber.values()].flat(),
      ...[...this.perDevice.values()].flat(),
    ];
  }

  /**
   * Regions of any device of the platform overlapping `range`: what a device hot-added
   * later could run into (indexed once).
   */
  anyOverlapping(range: Interval, types: readonly RegionType[] = REGION_TYPES): MergedRegion[] {
    return (this.everyIndex ??= new RegionIndex([...this.everyRegion(), ...this.defaultWindows()])).overlapping(range, types);
  }

  /** The sw-msi window each IOMMU's driver adds for devices that declare none of their own. */
  private defaultWindows(): Resv[] {
    return this.iommusInUse().flatMap((i) => {
      const w = defaultMsiWindow(i, (t) => this.wideIndex.has(t) || (this.perIommu.get(i)?.index.has(t) ?? false));
      return w ? [w] : [];
    });
  }

  /** The IOMMUs that have devices behind them (computed once: pools and migrations ask per guest). */
  iommusInUse(): Iommu[] {
    return (this.inUse ??= [...new Set([...this.platform.devices.values()].flatMap((d) => (d.iommu ? [d.iommu] : [])))]);
  }

  /** The IOMMUs with devices whose aperture ends below `address`: none of their devices can map it. */
  iommusNotReaching(address: bigint): Iommu[] {
    return this.iommusInUse().filter((i) => address > apertureEnd(i));
  }

  /**
   * The declared `direct` / `direct-relaxable` regions of one device (its RMRRs or unity
   * maps), in the lists they come from: platform-wide, its IOMMU's, its group number's and
   * its own. Xen maps these per device, not per group (RULES §8.3). Devices share the first
   * three lists (the same arrays, made once), so a caller can take each list once for all
   * the devices it applies to.
   */
  directRegionLists(dev: Device): Resv[][] {
    const direct = (list: readonly Resv[] | undefined) => (list ?? []).filter((r) => r.type === 'direct' || r.type === 'direct-relaxable');
    this.wideDirect ??= direct(this.wide);
    let perIommu = dev.iommu ? this.iommuDirect.get(dev.iommu) : undefined;
    if (dev.iommu && !perIommu) this.iommuDirect.set(dev.iommu, (perIommu = direct(this.perIommu.get(dev.iommu)?.regions)));
    let perGroup = dev.group !== undefined ? this.groupDirect.get(dev.group) : undefined;
    if (dev.group !== undefined && !perGroup) this.groupDirect.set(dev.group, (perGroup = direct(this.perGroupNumber.get(dev.group))));
    return [this.wideDirect, perIommu ?? [], perGroup ?? [], direct(this.perDevice.get(dev))];
  }

  /** Every device of the platform, of an IOMMU, of a group number: what a region declared for them reaches (built once). */
  devicesFor(target: { kind: 'all' } | RegionTarget): readonly Device[] {
    if (!this.deviceLists) {
      const all = [...this.platform.devices.values()];
      const byIommu = new Map<Iommu, Device[]>();
      const byGroup = new Map<bigint, Device[]>();
      for (const d of all) {
        if (d.iommu) push(byIommu, d.iommu, d);
        if (d.group !== undefined) push(byGroup, d.group, d);
      }
      this.deviceLists = { all, byIommu, byGroup };
    }
    const l = this.deviceLists;
    switch (target.kind) {
      case 'all':
        return l.all;
      case 'device':
        return [target.device];
      case 'iommu':
        return l.byIommu.get(target.iommu) ?? [];
      case 'group':
        return l.byGroup.get(target.group) ?? [];
    }
  }

  private deviceLists?: { all: Device[]; byIommu: Map<Iommu, Device[]>; byGroup: Map<bigint, Device[]> };

  /**
   * The groups by shape: same IOMMUs and the same regions declared for their number or
   * their devices (most groups have none). Groups of one shape have the same region list
   * by construction (`regions`), so whoever reads lists per group (hovers, the address map)
   * reads one per shape: a platform with thousands of groups has a handful of shapes.
   * The shapes most groups share come first; groups keep declaration order. Built once.
   */
  shapes(): readonly IommuGroup[][] {
    if (this.byShape) return this.byShape;
    const byKey = new Map<string, IommuGroup[]>();
    for (const g of this.groups) push(byKey, this.shapeKey(g), g);
    // A stable sort: declaration order among shapes of one size.
    return (this.byShape = [...byKey.values()].sort((x, y) => y.length - x.length));
  }

  /** Same IOMMUs and the same regions declared for the group's number or its devices: the same region list. */
  private shapeKey(g: IommuGroup): string {
    const iommus = [...new Set(g.devices.flatMap((d) => (d.iommu ? [d.iommu.sym.name] : [])))].sort();
    const own = new Set([
      ...(g.number !== undefined ? (this.perGroupNumber.get(g.number) ?? []) : []),
      ...g.devices.flatMap((d) => this.perDevice.get(d) ?? []),
    ]);
    return `${iommus.join(' ')}|${[...own]
      .map((r) => this.declaredIds.get(r)!)
      .sort((x, y) => x - y)
      .join(' ')}`;
  }

  /** The shape `g` belongs to: its list in `shapes()`. */
  shapeOf(g: IommuGroup): readonly IommuGroup[] {
    if (!this.shapeByGroup) {
      this.shapeByGroup = new Map();
      for (const shape of this.shapes()) for (const x of shape) this.shapeByGroup.set(x, shape);
    }
    return this.shapeByGroup.get(g)!;
  }

  groupOf(dev: Device): IommuGroup | undefined {
    return this.groupOfDevice.get(dev);
  }

  regions(g: IommuGroup): GroupRegions {
    let gr = this.cache.get(g);
    if (gr) return gr;
    gr = this.build(g, g.devices, this.shapeKey(g));
    this.cache.set(g, gr);
    return gr;
  }

  /**
   * One device's regions, as iommufd reserves them since Linux 6.6
   * (`iopt_table_enforce_dev_resv_regions(idev->dev)`, commit 34f327a985ff): the platform's,
   * its IOMMU's, its group number's and its own, not its group mates'. Labelled by its group.
   */
  deviceRegions(dev: Device): GroupRegions | undefined {
    let gr = this.deviceCache.get(dev);
    if (gr) return gr;
    const g = this.groupOf(dev);
    if (!g) return undefined;
    const own = new Set([...(g.number !== undefined ? (this.perGroupNumber.get(g.number) ?? []) : []), ...(this.perDevice.get(dev) ?? [])]);
    const ids = [...own].map((r) => this.declaredIds.get(r)!).sort((x, y) => x - y);
    gr = this.build(g, [dev], `device|${dev.iommu?.sym.name ?? ''}|${ids.join(' ')}`, this.regions(g));
    this.deviceCache.set(dev, gr);
    return gr;
  }

  /** The regions of `devices` (a group, or one device of it), labelled by group `g`. */
  private build(g: IommuGroup, devices: readonly Device[], key: string, whole?: GroupRegions): GroupRegions {
    const iommus = [...new Set(devices.flatMap((d) => (d.iommu ? [d.iommu] : [])))];
    const own: Resv[] = [...(g.number !== undefined ? (this.perGroupNumber.get(g.number) ?? []) : [])];
    for (const d of devices) own.push(...(this.perDevice.get(d) ?? []));
    const ownIndex = new RegionIndex(own);
    // The driver's default MSI window, unless the description gives the device its own (RULES §1.5).
    for (const d of devices) {
      if (!d.iommu) continue;
      const declared = (t: RegionType) => this.wideIndex.has(t) || ownIndex.has(t) || (this.perIommu.get(d.iommu!)?.index.has(t) ?? false);
      const w = defaultMsiWindow(d.iommu, declared);
      if (w) own.push(w);
    }
    const indexes = [
      this.wideIndex,
      ...iommus.flatMap((i) => {
        const x = this.perIommu.get(i);
        return x ? [x.index] : [];
      }),
      new RegionIndex(own),
    ];
    let shape = this.groupShapes.get(key);
    if (!shape) this.groupShapes.set(key, (shape = new GroupShape()));
    return new GroupRegions(
      g,
      iommus,
      indexes,
      () => [...this.wide, ...iommus.flatMap((i) => this.perIommu.get(i)?.regions ?? []), ...own],
      shape,
      whole,
    );
  }
}

/** Whether a declared region's targets include `dev` (no targets: every device). */
export function appliesTo(targets: readonly RegionTarget[], dev: Device): boolean {
  return (
    targets.length === 0 ||
    targets.some(
      (t) =>
        (t.kind === 'device' && t.device === dev) ||
        (t.kind === 'iommu' && t.iommu === dev.iommu) ||
        (t.kind === 'group' && t.group === dev.group),
    )
  );
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

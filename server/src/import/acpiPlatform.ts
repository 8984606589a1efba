/**
 * ACPI tables to a platform description, the way the Linux IOMMU drivers read them
 * (RULES §1.5): one `iommu` per DRHD, per IOMMU of the IVHD type the AMD driver uses, and per
 * SMMUv3 node; an RMRR becomes `direct` (`direct-relaxable` for USB and graphics devices), an
 * IVMD `direct` or, with the exclusion flag, `reserved`, an IORT RMR `direct-relaxable` when
 * it permits remapping. The regions each driver adds by itself (x86 interrupt range, the
 * HyperTransport hole, the SMMU's sw-msi window) are the simulator's: not written here.
 * What the tables cannot say is said in comments.
 */
import { hex, type Interval } from '../model/interval';
import type { AcpiTable } from './acpi';
import { type Dmar, type DeviceScope, decodeDmar } from './dmar';
import { type IdMapping, type Iort, type IortNode, type Rmr, type RootComplex, decodeIort } from './iort';
import { type Ivhd, type Ivmd, type Ivrs, decodeIvrs, requesterId } from './ivrs';
import { deviceNameOf } from './names';
import { partitionPoint } from '../model/search';
import { bdfKey, claimIds, classWord, keyOf, relaxable, ridOf, secondaryBuses, type PciDevice, type PciInventory } from './pci';
import { PlatformOut, type DeviceOut, type IommuOut, type RegionOut } from './describe';

export type Decoded =
  | { kind: 'DMAR'; table: AcpiTable; dmar: Dmar }
  | { kind: 'IVRS'; table: AcpiTable; ivrs: Ivrs }
  | { kind: 'IORT'; table: AcpiTable; iort: Iort };

/** Decodes each table of a known signature; the others are named in `skipped`. */
export function decodeTables(tables: readonly AcpiTable[]): { decoded: Decoded[]; skipped: AcpiTable[] } {
  const decoded: Decoded[] = [];
  const skipped: AcpiTable[] = [];
  for (const table of tables) {
    if (table.signature === 'DMAR') decoded.push({ kind: 'DMAR', table, dmar: decodeDmar(table) });
    else if (table.signature === 'IVRS') decoded.push({ kind: 'IVRS', table, ivrs: decodeIvrs(table) });
    else if (table.signature === 'IORT') decoded.push({ kind: 'IORT', table, iort: decodeIort(table) });
    else skipped.push(table);
  }
  return { decoded, skipped };
}

/** The BDF of a requester ID in a segment. */
const rid = (segment: number, id: number) => bdfKey(segment, id >> 8, (id >> 3) & 0x1f, id & 7);

/** A device a table names: its BDF, or what is known of it when its path cannot be walked. */
interface Target {
  key: string;
  bdf?: string;
  unresolved?: string;
  via?: string;
}

/** IVMD ranges wider than this many functions are not spelled out device by device (without --pci). */
const MAX_RANGE_DEVICES = 256;
/** Nor more than this many in all: a table's size must not multiply into the output's. */
const MAX_DECLARED_RANGE_DEVICES = 4096;

class Builder {
  readonly out: PlatformOut;
  readonly inv?: PciInventory;
  private readonly secondary: Map<string, number>;

  constructor(name: string, inv: PciInventory | undefined) {
    this.out = new PlatformOut(name);
    this.inv = inv;
    this.secondary = inv ? secondaryBuses(inv) : new Map();
  }

  /** A device of the inventory or named by a table: its class (from the inventory) set once. */
  device(key: string, bdf?: string): DeviceOut {
    const d = this.out.device(key, deviceNameOf(key), bdf);
    const known = bdf ? this.inv?.devices.get(bdf) : undefined;
    if (known && d.classWord === undefined) d.classWord = classWord(known.classCode);
    return d;
  }

  classOf(key: string): number | undefined {
    return this.inv?.devices.get(key)?.classCode;
  }

  /**
   * The device a scope names, its path walked hop by hop: each hop after the first is on the
   * secondary bus of the bridge before it, which only the bridge's configuration space (here:
   * the topology of a sysfs capture) says. `key` is the BDF, or a description of what is
   * known when a hop cannot be placed.
   */
  walk(segment: number, scope: DeviceScope): Target {
    let bus = scope.startBus;
    let key = '';
    for (let i = 0; i < scope.path.length; i++) {
      const hop = scope.path[i]!;
      key = bdfKey(segment, bus, hop.device, hop.fn);
      if (i === scope.path.length - 1) break;
      const next = this.secondary.get(key);
      if (next === undefined) {
        const rest = scope.path
          .slice(i + 1)
          .map((h) => `${h.device.toString(16).padStart(2, '0')}.${h.fn}`)
          .join(' then ');
        return {
          key: `${key}/${rest}`,
          via: key,
          unresolved:
            `behind bridge ${key}: ${rest} on the bus below it, which only the bridge's configuration space says ` +
            '(give --pci with a sysfs copy to resolve)',
        };
      }
      bus = next;
    }
    return { key, bdf: key };
  }

  /** Each device's children by the inventory's topology, built once. */
  private children?: Map<string, string[]>;

  /** The inventory's devices below `bridge` (and the bridge): for scopes that name a PCI sub-hierarchy. */
  subtree(bridge: string): string[] {
    if (!this.inv?.topology) return [bridge];
    if (!this.children) {
      this.children = new Map();
      for (const d of this.inv.devices.values()) {
        if (!d.parent) continue;
        const list = this.children.get(d.parent);
        if (list) list.push(keyOf(d));
        else this.children.set(d.parent, [keyOf(d)]);
      }
    }
    // A walk down from the bridge; `seen` stops a loop a hostile tree could make.
    const out: string[] = [];
    const seen = new Set<string>();
    const stack = [bridge];
    while (stack.length) {
      const k = stack.pop()!;
      if (seen.has(k)) continue;
      seen.add(k);
      if (this.inv.devices.has(k)) out.push(k);
      stack.push(...(this.children.get(k) ?? []));
    }
    return out.length ? out.sort() : [bridge];
  }

  /** The inventory's devices by segment and requester ID, sorted once. */
  private byRid?: { segment: number; rid: number; key: string }[];

  /** The inventory's devices of `segment` with requester IDs `first` to `last`: two binary searches. */
  between(segment: number, first: number, last: number): string[] {
    this.byRid ??= [...(this.inv?.devices.values() ?? [])]
      .map((d) => ({ segment: d.segment, rid: ridOf(d), key: keyOf(d) }))
      .sort((a, b) => a.segment - b.segment || a.rid - b.rid);
    const list = this.byRid;
    const lo = partitionPoint(list.length, (i) => list[i]!.segment < segment || (list[i]!.segment === segment && list[i]!.rid < first));
    const hi = partitionPoint(list.length, (i) => list[i]!.segment < segment || (list[i]!.segment === segment && list[i]!.rid <= last));
    return list.slice(lo, hi).map((x) => x.key);
  }

  /** Devices declared for ranges of requester IDs without an inventory so far (bounded by MAX_DECLARED_RANGE_DEVICES). */
  rangeDevices = 0;

  /** Splits targets by what the VT-d driver makes of an RMRR for them: relaxable (USB, graphics) or not. */
  rmrrRegions(base: string, range: Interval, targets: Target[], what: string): void {
    const strict: DeviceOut[] = [];
    const relax: DeviceOut[] = [];
    const unknown: string[] = [];
    for (const t of targets) {
      const d = this.device(t.key, t.bdf);
      if (t.unresolved) d.comment = t.unresolved;
      const cls = t.bdf ? this.classOf(t.bdf) : undefined;
      if (cls === undefined) unknown.push(t.bdf ?? t.key);
      (relaxable(cls) ? relax : strict).push(d);
    }
    const assumed = unknown.length
      ? `; class of ${unknown.length === targets.length ? 'the devices' : `${unknown.length} devices`} unknown: direct assumed`
      : '';
    if (strict.length) this.out.region(base, 'direct', range, strict, `${what}${assumed}`);
    if (relax.length)
      this.out.region(
        `${base}-relaxable`,
        'direct-relaxable',
        range,
        relax,
        `${what}: the devices are USB or graphics, so relaxable (device_rmrr_is_relaxable)`,
      );
  }
}

function scopeSummary(scopes: readonly DeviceScope[]): string {
  const count = (k: string) => scopes.filter((s) => s.kind === k).length;
  const parts = [
    ['endpoint', 'endpoint'],
    ['bridge', 'bridge'],
    ['ioapic', 'IOAPIC'],
    ['hpet', 'HPET'],
    ['acpi', 'ACPI device'],
  ]
    .map(([k, w]) => [count(k!), w] as const)
    .filter(([n]) => n > 0)
    .map(([n, w]) => `${n} ${w}${n === 1 ? '' : 's'}`);
  return parts.length ? parts.join(', ') : 'no device scope';
}

function addDmar(b: Builder, dmar: Dmar, table: AcpiTable): void {
  b.out.arch = 'x86_64';
  const units = drhdUnits(b, dmar, table);
  addRmrrs(b, dmar, units);
  noteDmarSubtables(b, dmar);
  finishDevices(b, (p) => matchedUnit(b, units, p));
}

/** The VT-d units of a DMAR and how devices find theirs: by name, behind a bridge, or the segment's catch-all. */
interface DrhdUnits {
  /** The unit of each device (or bridge) a DRHD's scope names. */
  explicit: Map<string, IommuOut>;
  /** The unit of each bridge a DRHD's scope names, for the devices below it. */
  bridges: Map<string, IommuOut>;
  /** The INCLUDE_PCI_ALL unit of each segment. */
  includeAll: Map<number, IommuOut>;
}

/** An `iommu` per DRHD, with the devices and bridges its scope names (its IOAPICs and HPETs are only noted). */
function drhdUnits(b: Builder, dmar: Dmar, table: AcpiTable): DrhdUnits {
  const out = b.out;
  const units: DrhdUnits = { explicit: new Map(), bridges: new Map(), includeAll: new Map() };
  dmar.drhds.forEach((u, i) => {
    const iommu = out.iommu(`dmar${i}`, 'vt-d', dmar.haw, [
      `DRHD at byte ${u.offset} of ${table.signature}: registers at ${hex(u.base)}, segment ${u.segment}` +
        (u.includePciAll ? ', INCLUDE_PCI_ALL (every device of the segment no other unit claims)' : '') +
        `; scope: ${scopeSummary(u.scopes)}`,
    ]);
    if (u.includePciAll) units.includeAll.set(u.segment, iommu);
    for (const s of u.scopes) {
      if (s.kind === 'ioapic' || s.kind === 'hpet') {
        const w = b.walk(u.segment, s);
        iommu.comments.push(
          `  ${s.kind === 'ioapic' ? 'IOAPIC' : 'HPET'} ${s.enumerationId} at ${w.bdf ?? w.key}: interrupt remapping only`,
        );
        continue;
      }
      if (s.kind !== 'endpoint' && s.kind !== 'bridge') continue;
      const w = b.walk(u.segment, s);
      const d = b.device(w.key, w.bdf);
      if (w.unresolved) d.comment = w.unresolved;
      d.iommu = iommu;
      if (s.kind === 'bridge') {
        units.bridges.set(w.key, iommu);
        d.classWord ??= 'bridge';
      }
      units.explicit.set(w.key, iommu);
    }
  });
  return units;
}

/**
 * The kernel's dmar_find_matched_drhd_unit: a unit whose scope names the device or a bridge
 * above it, else the segment's INCLUDE_PCI_ALL unit.
 */
function matchedUnit(b: Builder, { explicit, bridges, includeAll }: DrhdUnits, p: PciDevice): IommuOut | undefined {
  let at: string | undefined = keyOf(p);
  for (let hops = 0; at !== undefined && hops < 64; hops++) {
    const hit = explicit.get(at) ?? bridges.get(at);
    if (hit && (hops === 0 || bridges.has(at))) return hit;
    at = b.inv?.devices.get(at)?.parent;
  }
  return includeAll.get(p.segment);
}

/** A region per RMRR for the devices its scope names (a bridge: every device below it); an unusable RMRR is noted. */
function addRmrrs(b: Builder, dmar: Dmar, { bridges, includeAll }: DrhdUnits): void {
  const out = b.out;
  dmar.rmrrs.forEach((r, i) => {
    const what = `RMRR at byte ${r.offset}: ${hex(r.base)}..${hex(r.limit)}, segment ${r.segment}`;
    if (r.limit < r.base) {
      out.notes.push(`${what}: its limit is below its base, so the kernel ignores it ("Your BIOS is broken")`);
      return;
    }
    const targets = r.scopes
      .filter((s) => s.kind === 'endpoint' || s.kind === 'bridge')
      .flatMap((s): Target[] => {
        const w = b.walk(r.segment, s);
        return s.kind === 'bridge' && w.bdf ? b.subtree(w.bdf).map((k) => ({ key: k, bdf: k })) : [w];
      });
    if (targets.length === 0) {
      out.notes.push(`${what}: no device scope, so it applies to no device`);
      return;
    }
    b.rmrrRegions(`rmrr${i}`, { start: r.base, end: r.limit }, targets, what);
    // A device behind a bridge whose bus is unknown still has a unit: the bridge's, or the segment's catch-all.
    for (const t of targets) if (t.via) b.device(t.key).iommu ??= bridges.get(t.via) ?? includeAll.get(r.segment);
  });
}

/** Notes for the subtables that change no region or unit: ATSR, RHSA, ANDD, SATC, SIDP. */
function noteDmarSubtables(b: Builder, dmar: Dmar): void {
  const out = b.out;
  for (const a of dmar.atsrs)
    out.notes.push(
      `ATSR at byte ${a.offset}: segment ${a.segment}` +
        `${a.allPorts ? ', every root port' : `, root ports ${a.scopes.map((s) => b.walk(a.segment, s).key).join(', ')}`} support ATS`,
    );
  for (const h of dmar.rhsas)
    out.notes.push(`RHSA at byte ${h.offset}: the unit at ${hex(h.base)} is in proximity domain ${h.proximityDomain}`);
  for (const n of dmar.andds) out.notes.push(`ANDD at byte ${n.offset}: ACPI device ${n.deviceNumber} is ${n.name}`);
  for (const s of dmar.satcs)
    out.notes.push(
      `SATC at byte ${s.offset}: segment ${s.segment}, ${s.atcRequired ? 'ATC required' : 'ATC supported'} ` +
        `for ${s.scopes.map((x) => b.walk(s.segment, x).key).join(', ')}`,
    );
  for (const s of dmar.sidps)
    out.notes.push(
      `SIDP at byte ${s.offset}: segment ${s.segment}, SoC-integrated devices with properties for the OS: ` +
        `${s.scopes.map((x) => b.walk(s.segment, x).key).join(', ')}`,
    );
}

/** The inventory's devices (all of them), and every device's IOMMU as `unitOf` finds it. */
function finishDevices(
  b: Builder,
  unitOf: (p: PciDevice) => IommuOut | undefined,
  stream?: (p: PciDevice) => { iommu: IommuOut; stream: number } | undefined,
): void {
  for (const p of b.inv?.devices.values() ?? []) b.device(keyOf(p), keyOf(p));
  for (const [key, d] of b.out.devices) {
    const p = b.inv?.devices.get(key) ?? (d.bdf ? parsePci(d.bdf) : undefined);
    if (!p) continue;
    const s = stream?.(p);
    if (s) {
      d.iommu = s.iommu;
      d.stream = s.stream;
      continue;
    }
    d.iommu ??= unitOf(p);
  }
}

function parsePci(bdf: string): PciDevice {
  const [seg, bus, rest] = bdf.split(':') as [string, string, string];
  const [dev, fn] = rest.split('.') as [string, string];
  return { segment: parseInt(seg, 16), bus: parseInt(bus, 16), device: parseInt(dev, 16), fn: parseInt(fn, 10) };
}

/** The IVHD type the AMD driver uses: the highest of 10h, 11h and 40h the table has (get_highest_supported_ivhd_type). */
function usedIvhdType(ivrs: Ivrs): number | undefined {
  return ivrs.ivhds.reduce<number | undefined>((m, h) => (m === undefined || h.type > m ? h.type : m), undefined);
}

function entrySummary(h: Ivhd): string {
  const parts = h.entries.map((e) => {
    const span = e.first === e.last ? requesterId(e.first) : `${requesterId(e.first)}-${requesterId(e.last)}`;
    switch (e.kind) {
      case 'all':
        return 'all';
      case 'alias':
      case 'alias-range':
        return `${span} as ${requesterId(e.alias!)}`;
      case 'special':
        return `${e.variety === 1 ? 'IOAPIC' : e.variety === 2 ? 'HPET' : `special ${e.variety}`} ${e.handle} at ${requesterId(e.alias!)}`;
      case 'acpi-hid':
        return `${e.hid}${e.uid ? ` ${e.uid}` : ''} at ${span}`;
      default:
        return span;
    }
  });
  return parts.length > 12 ? `${parts.slice(0, 12).join(', ')} and ${parts.length - 12} more` : parts.join(', ') || 'none';
}

function addIvrs(b: Builder, ivrs: Ivrs, table: AcpiTable): void {
  b.out.arch = 'x86_64';
  const unitOf = amdUnitOf(ivhdCovers(b.out, ivrs, table));
  for (const [i, m] of ivrs.ivmds.entries()) addIvmd(b, m, i);
  finishDevices(b, unitOf);
}

/** The requester IDs `first` to `last` of a segment an IVHD entry gives its IOMMU. */
type Cover = { iommu: IommuOut; segment: number; first: number; last: number };

/** An `iommu` per IVHD of the type the driver reads (the others are noted), and the requester IDs each entry gives it. */
function ivhdCovers(out: PlatformOut, ivrs: Ivrs, table: AcpiTable): Cover[] {
  const used = usedIvhdType(ivrs);
  const width = ivrs.info.vaSize > 0 ? Math.min(ivrs.info.vaSize, 64) : undefined;
  const covers: Cover[] = [];
  ivrs.ivhds.forEach((h) => {
    const what =
      `IVHD type ${h.type.toString(16)}h at byte ${h.offset} of ${table.signature}: ` +
      `IOMMU ${requesterId(h.deviceId)} segment ${h.segment}, registers at ${hex(h.base)}`;
    if (h.type !== used) {
      out.notes.push(`${what}: not used (the driver reads only the type ${used!.toString(16)}h blocks)`);
      return;
    }
    const iommu = out.iommu(`amdvi${out.iommus.filter((x) => x.kind === 'amd-vi').length}`, 'amd-vi', width, [
      `${what}; devices: ${entrySummary(h)}`,
    ]);
    for (const e of h.entries) {
      if (e.kind === 'all') covers.push({ iommu, segment: h.segment, first: 0, last: 0xffff });
      else if (e.kind !== 'special' && e.kind !== 'acpi-hid' && e.kind !== 'unknown')
        covers.push({ iommu, segment: h.segment, first: e.first, last: e.last });
    }
  });
  return covers;
}

/** A device's IOMMU: the last entry that covers it, as the driver's table fills in order (claimed once per segment). */
function amdUnitOf(covers: readonly Cover[]): (p: PciDevice) => IommuOut | undefined {
  const bySegment = new Map<number, { covers: Cover[]; claimed?: Int32Array }>();
  for (const c of covers) {
    const s = bySegment.get(c.segment);
    if (s) s.covers.push(c);
    else bySegment.set(c.segment, { covers: [c] });
  }
  return (p) => {
    const s = bySegment.get(p.segment);
    if (!s) return undefined;
    s.claimed ??= claimIds(s.covers, true);
    const at = s.claimed[ridOf(p)]!;
    return at >= 0 ? s.covers[at]!.iommu : undefined;
  };
}

/**
 * IVMD `i` as a region (`reserved` for an exclusion range, else `direct`) for every device, one
 * device, or a range of requester IDs (the inventory's devices in it, or without one each ID
 * declared, up to a bound); an unusable IVMD is noted.
 */
function addIvmd(b: Builder, m: Ivmd, i: number): void {
  const out = b.out;
  const end = m.start + m.length - 1n;
  const type = m.exclusion ? 'reserved' : 'direct';
  const devs =
    m.type === 0x20 ? 'every device' : m.type === 0x21 ? requesterId(m.deviceId) : `${requesterId(m.deviceId)}-${requesterId(m.auxData)}`;
  const what =
    `IVMD type ${m.type.toString(16)}h at byte ${m.offset}: ` +
    `${m.exclusion ? 'exclusion range' : 'unity map'} ${hex(m.start)} size ${hex(m.length)} for ${devs}`;
  if (m.length === 0n || end > (1n << 64n) - 1n) {
    out.notes.push(`${what}: ${m.length === 0n ? 'empty' : 'runs past 2^64'}, not used`);
    return;
  }
  const range = { start: m.start, end };
  const segment = m.segment;
  if (m.type === 0x20) {
    out.region(`ivmd${i}`, type, range, [], what);
    return;
  }
  const last = m.type === 0x21 ? m.deviceId : m.auxData;
  if (last < m.deviceId) {
    out.notes.push(`${what}: the range ends below its start, not used`);
    return;
  }
  let keys: string[];
  if (b.inv) keys = b.between(segment, m.deviceId, last);
  else if (last - m.deviceId < MAX_RANGE_DEVICES && b.rangeDevices + last - m.deviceId < MAX_DECLARED_RANGE_DEVICES) {
    keys = Array.from({ length: last - m.deviceId + 1 }, (_, k) => rid(segment, m.deviceId + k));
    b.rangeDevices += keys.length;
  } else {
    out.notes.push(`${what}: ${last - m.deviceId + 1} requester IDs, too many to declare without --pci; not used`);
    return;
  }
  if (keys.length === 0) {
    out.notes.push(`${what}: none of these devices is in the --pci inventory`);
    return;
  }
  out.region(
    `ivmd${i}`,
    type,
    range,
    keys.map((k) => b.device(k, k)),
    what,
  );
}

function addIort(b: Builder, iort: Iort, table: AcpiTable): void {
  b.out.arch = 'arm64';
  const smmus = iortSmmus(b.out, iort, table);
  const complexes = iort.nodes.filter((n): n is RootComplex => n.kind === 'root-complex');
  noteRootComplexes(b.out, complexes, smmus);
  addNamedComponents(b, iort, smmus);
  finishDevices(b, () => undefined, pciStreams(complexes, smmus));
  addRmrs(b.out, iort, smmus);
}

/** An SMMU and the stream ID a device has at it. */
type Stream = { iommu: IommuOut; stream: number };

/** The stream ID an ID mapping gives `id` (a single mapping gives its one output ID whatever the input). */
const streamId = (m: IdMapping, id: number) => (m.single ? m.outputBase : m.outputBase + (id - m.inputBase));

/** An `iommu` for each SMMUv3 node, by the node's offset (how mappings name it); SMMUv1/v2 nodes and ITS groups are noted. */
function iortSmmus(out: PlatformOut, iort: Iort, table: AcpiTable): Map<number, IommuOut> {
  const smmus = new Map<number, IommuOut>();
  for (const n of iort.nodes) {
    if (n.kind === 'smmuv3') {
      smmus.set(
        n.offset,
        out.iommu(`smmu${smmus.size}`, 'smmuv3', undefined, [
          `SMMUv3 node at byte ${n.offset} of ${table.signature}: registers at ${hex(n.base)}, model ${n.model}; ` +
            'its input address size is in its ID registers, not in the IORT: 48 bits assumed',
        ]),
      );
    } else if (n.kind === 'smmuv2') {
      out.notes.push(
        `SMMUv1/v2 node at byte ${n.offset} (registers at ${hex(n.base)}): not modelled; its devices are left without an IOMMU`,
      );
    } else if (n.kind === 'its') {
      out.notes.push(`ITS group at byte ${n.offset}: ITS ${n.itsIds.join(', ')}`);
    }
  }
  return smmus;
}

/** A note per root complex: where each of its ID mappings sends requester IDs. */
function noteRootComplexes(out: PlatformOut, complexes: readonly RootComplex[], smmus: ReadonlyMap<number, IommuOut>): void {
  for (const rc of complexes) {
    const maps = rc.mappings.map((m) => {
      const to = smmus.get(m.outputRef);
      const ids = m.single ? 'single ID' : `RIDs ${hex(BigInt(m.inputBase))}-${hex(BigInt(m.inputBase + m.count - 1))}`;
      return to ? `${ids} to ${to.name} streams from ${hex(BigInt(m.outputBase))}` : `${ids} to the ITS (not translated)`;
    });
    out.notes.push(`root complex at byte ${rc.offset}, segment ${rc.segment}: ${maps.join('; ') || 'no ID mapping'}`);
  }
}

/** Where an ID leaves a node: at an SMMUv3 with a stream ID, or elsewhere (an ITS: no translation). */
function route(node: IortNode, id: number, smmus: ReadonlyMap<number, IommuOut>): Stream | undefined {
  for (const m of node.mappings) {
    if (!m.single && (id < m.inputBase || id > m.inputBase + m.count - 1)) continue;
    const iommu = smmus.get(m.outputRef);
    if (iommu) return { iommu, stream: streamId(m, id) };
  }
  return undefined;
}

/** Each named component (a device ACPI names, not on PCI) as a device, behind the SMMU its first input ID reaches. */
function addNamedComponents(b: Builder, iort: Iort, smmus: ReadonlyMap<number, IommuOut>): void {
  for (const n of iort.nodes) {
    if (n.kind !== 'named-component') continue;
    const r = n.mappings.length ? route(n, n.mappings[0]!.inputBase, smmus) : undefined;
    const d = b.device(`nc:${n.offset}`);
    d.comment = `named component ${n.name} (IORT byte ${n.offset})`;
    if (r) {
      d.iommu = r.iommu;
      d.stream = r.stream;
    }
  }
}

/** The SMMU and stream of a PCI device: through the mapping of its segment's root complex that claims its requester ID. */
function pciStreams(complexes: readonly RootComplex[], smmus: ReadonlyMap<number, IommuOut>): (p: PciDevice) => Stream | undefined {
  // A root complex's requester IDs: each claimed by the first mapping that covers it (the kernel's iort_node_map_id order).
  const claims = new Map(
    complexes.map((rc) => [
      rc,
      claimIds(
        rc.mappings
          .map((m) => (m.single ? { first: 0, last: 0xffff } : { first: m.inputBase, last: m.inputBase + m.count - 1 }))
          .map((r, i) => (smmus.has(rc.mappings[i]!.outputRef) ? r : { first: 1, last: 0 })),
        false,
      ),
    ]),
  );
  return (p) => {
    const rc = complexes.find((c) => c.segment === p.segment);
    const m = rc ? rc.mappings[claims.get(rc)![ridOf(p)]!] : undefined;
    const iommu = m && smmus.get(m.outputRef);
    return m && iommu ? { iommu, stream: streamId(m, ridOf(p)) } : undefined;
  };
}

/** The devices behind each SMMU sorted by stream, so an RMR's stream range is two binary searches. */
function devicesByStream(out: PlatformOut): Map<IommuOut, DeviceOut[]> {
  const byStream = new Map<IommuOut, DeviceOut[]>();
  for (const d of out.devices.values()) {
    if (!d.iommu || d.stream === undefined) continue;
    const list = byStream.get(d.iommu);
    if (list) list.push(d);
    else byStream.set(d.iommu, [d]);
  }
  for (const list of byStream.values()) list.sort((a, b) => a.stream! - b.stream!);
  return byStream;
}

/**
 * Who an RMR's ranges are for: the devices with the streams its mappings name, or, where no
 * device is known to have them, the SMMU itself (every device behind it); and the streams, for
 * the comment.
 */
function rmrTargets(rmr: Rmr, smmus: ReadonlyMap<number, IommuOut>, byStream: ReadonlyMap<IommuOut, DeviceOut[]>) {
  const targets: RegionOut['targets'] = [];
  const streams: string[] = [];
  for (const m of rmr.mappings) {
    const iommu = smmus.get(m.outputRef);
    if (!iommu) continue;
    const first = m.outputBase;
    const last = m.single ? m.outputBase : m.outputBase + m.count - 1;
    streams.push(`${iommu.name} streams ${hex(BigInt(first))}-${hex(BigInt(last))}`);
    const list = byStream.get(iommu) ?? [];
    const devs = list.slice(
      partitionPoint(list.length, (k) => list[k]!.stream! < first),
      partitionPoint(list.length, (k) => list[k]!.stream! <= last),
    );
    if (devs.length) targets.push(...devs);
    else targets.push(iommu);
  }
  return { targets, streams };
}

/** A region per RMR range (direct, relaxable when the RMR permits remapping); a range that cannot be used is noted. */
function addRmrs(out: PlatformOut, iort: Iort, smmus: ReadonlyMap<number, IommuOut>): void {
  const byStream = devicesByStream(out);
  let rmr = 0;
  for (const n of iort.nodes) {
    if (n.kind !== 'rmr') continue;
    const { targets, streams } = rmrTargets(n, smmus, byStream);
    const type = n.remapPermitted ? 'direct-relaxable' : 'direct';
    for (const r of n.ranges) {
      const permitted = n.remapPermitted ? 'remapping permitted' : 'remapping not permitted';
      const what = `RMR at byte ${n.offset} (${permitted}) for ${streams.join(', ') || 'no stream'}`;
      const end = r.base + r.length - 1n;
      if (r.length === 0n || end > (1n << 64n) - 1n) {
        out.notes.push(`${what}: range ${hex(r.base)} size ${hex(r.length)} is ${r.length === 0n ? 'empty' : 'past 2^64'}, not used`);
        continue;
      }
      if (targets.length === 0) {
        out.notes.push(`${what}: ${hex(r.base)} size ${hex(r.length)} reaches no SMMUv3, not used`);
        continue;
      }
      const loose = targets.some((t) => !('group' in t) && 'kind' in t);
      out.region(
        `rmr${rmr++}`,
        type,
        { start: r.base, end },
        targets,
        loose
          ? `${what}: which devices have these streams is not in the tables (give --pci), so every device behind the SMMU gets it`
          : what,
      );
    }
  }
}

/** The platform description for the decoded tables, with the inventory's devices and classes when given. */
export function renderAcpiPlatform(
  name: string,
  decoded: readonly Decoded[],
  inv: PciInventory | undefined,
  sources: readonly string[],
): string {
  const b = new Builder(name, inv);
  const out = b.out;
  out.header.push(`Imported by iommu-lens from ${sources.join(', ')}.`);
  for (const d of decoded) {
    const t = d.table;
    out.header.push(`${t.signature} revision ${t.revision}, OEM "${t.oemId}" "${t.oemTableId}" ${t.oemRevision}, from ${t.where}`);
    for (const n of [...t.notes, ...(d.kind === 'DMAR' ? d.dmar.notes : d.kind === 'IVRS' ? d.ivrs.notes : d.iort.notes)])
      out.header.push(`  note: ${n}`);
  }
  out.header.push('What the tables cannot say:');
  if (decoded.some((d) => d.kind === 'DMAR')) {
    const haw = decoded.flatMap((d) => (d.kind === 'DMAR' ? [d.dmar.haw] : []))[0];
    out.header.push(
      `  - the IOVA width: DMAR gives the host address width (${haw} bits), used as address-width; the kernel takes the`,
      "    domain width from each unit's capability register (MGAW/SAGAW), which the tables do not carry",
    );
  }
  if (decoded.some((d) => d.kind === 'IVRS')) {
    const info = decoded.flatMap((d) => (d.kind === 'IVRS' ? [d.ivrs.info] : []))[0]!;
    out.header.push(
      `  - the IOVA width: IVinfo says ${info.vaSize} virtual and ${info.paSize} physical address bits; address-width is the`,
      '    virtual size; the page-table mode the kernel picks (v1 or v2) and so the aperture are not in the tables',
    );
  }
  out.header.push('  - IOMMU groups (they depend on ACS and the topology): each device is alone in a group here');
  if (!inv) {
    out.header.push('  - the devices present and their classes (give --pci with /sys/bus/pci/devices or lspci -n output)');
    if (decoded.some((d) => d.kind === 'DMAR'))
      out.header.push('    so an RMRR is written direct; the kernel makes it direct-relaxable for a USB controller or a GPU');
  }
  for (const d of decoded) {
    if (d.kind === 'DMAR') addDmar(b, d.dmar, d.table);
    else if (d.kind === 'IVRS') addIvrs(b, d.ivrs, d.table);
    else addIort(b, d.iort, d.table);
  }
  // The VT-d driver's floppy workaround (CONFIG_INTEL_IOMMU_FLOPPY_WA): the ISA bridge gets 0..16 MiB relaxable.
  if (out.iommus.some((i) => i.kind === 'vt-d')) {
    const isa = [...out.devices.values()].filter((d) => d.classWord === 'isa-bridge' && d.iommu?.kind === 'vt-d');
    if (isa.length)
      out.region(
        'isa-floppy',
        'direct-relaxable',
        { start: 0n, end: 0xff_ffffn },
        isa,
        'the VT-d driver gives the ISA bridge 0..16 MiB, relaxable (CONFIG_INTEL_IOMMU_FLOPPY_WA)',
      );
  }
  return out.render();
}

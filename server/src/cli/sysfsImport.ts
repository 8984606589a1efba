/**
 * `iommu-lens import`: a captured `/sys/kernel/iommu_groups` tree (or one group's
 * `reserved_regions` file) as a platform description. Every region is kept exactly;
 * what sysfs does not say (the IOMMU kind and address width, msi versus sw-msi, the
 * devices of a lone file) is inferred only where the regions show it, and the output
 * says so in comments. Pure: text in, text out; main.ts reads the files.
 */
import { hex, type Interval } from '../model/interval';
import { AMD_HT_HOLE, MSI_IOVA_WINDOW, X86_MSI_RANGE } from '../sim/builtins';
import { escapeText, excerpt } from './escape';

export type SysfsType = 'direct' | 'direct-relaxable' | 'reserved' | 'msi';

export interface SysfsRegion {
  range: Interval;
  type: SysfsType;
}

export interface CapturedGroup {
  number: bigint;
  regions: SysfsRegion[];
  devices: string[];
}

export class SysfsError extends Error {}

const WORDS: readonly string[] = ['direct', 'direct-relaxable', 'reserved', 'msi'];
const U64 = /^0x[0-9a-fA-F]{1,16}$/;

/**
 * One `reserved_regions` file: `0x%016llx 0x%016llx %s` per line. `where` names the file in
 * errors; it and the bad line are shown escaped, the line only in part (it may be anything).
 */
export function parseReservedRegions(text: string, where: string): SysfsRegion[] {
  const out: SysfsRegion[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const f = line.trim().split(/\s+/);
    const bad = (why: string) => new SysfsError(`${escapeText(where)}:${i + 1}: ${why}: '${excerpt(line.trim())}'`);
    if (f.length !== 3) throw bad('expected START END TYPE');
    const [s, e, t] = f as [string, string, string];
    if (!U64.test(s) || !U64.test(e)) throw bad('START and END must be 64-bit hex numbers');
    if (!WORDS.includes(t)) throw bad(`unknown type '${excerpt(t, 20)}' (sysfs prints ${WORDS.join(', ')})`);
    const range = { start: BigInt(s), end: BigInt(e) };
    if (range.end < range.start) throw bad('END is below START');
    out.push({ range, type: t as SysfsType });
  });
  return out;
}

const BDF = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

export function isBdf(name: string): boolean {
  return BDF.test(name);
}

const same = (a: Interval, b: Interval) => a.start === b.start && a.end === b.end;

interface Inferred {
  arch?: 'x86_64' | 'arm64';
  kind?: 'vt-d' | 'amd-vi' | 'smmuv3';
  why: string;
  /** Whether a group carries the regions the inferred driver adds (only those are put behind it). */
  fits: (g: CapturedGroup) => boolean;
}

/** What the regions reveal about the host: the x86 interrupt range, AMD's HT hole, MSI_IOVA_BASE. */
function infer(groups: readonly CapturedGroup[]): Inferred {
  const has = (g: CapturedGroup, type: SysfsType, r: Interval) => g.regions.some((x) => x.type === type && same(x.range, r));
  const any = (type: SysfsType, r: Interval) => groups.some((g) => has(g, type, r));
  if (any('msi', X86_MSI_RANGE)) {
    return any('reserved', AMD_HT_HOLE)
      ? {
          arch: 'x86_64',
          kind: 'amd-vi',
          why: 'the x86 interrupt range and the HyperTransport hole: AMD-Vi',
          fits: (g) => has(g, 'msi', X86_MSI_RANGE) && has(g, 'reserved', AMD_HT_HOLE),
        }
      : {
          arch: 'x86_64',
          kind: 'vt-d',
          why: 'the x86 interrupt range without the HyperTransport hole: VT-d',
          fits: (g) => has(g, 'msi', X86_MSI_RANGE),
        };
  }
  if (any('msi', MSI_IOVA_WINDOW)) {
    return {
      arch: 'arm64',
      kind: 'smmuv3',
      why: 'an msi region at MSI_IOVA_BASE 0x8000000 (1 MiB): the Arm SMMU software MSI window',
      fits: (g) => has(g, 'msi', MSI_IOVA_WINDOW),
    };
  }
  return { why: 'no region identifies the IOMMU', fits: () => false };
}

/** A name the language accepts, from a file name or the like. */
export function platformName(s: string): string {
  const n = s
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[^A-Za-z]+/, '')
    .replace(/-+$/, '');
  return n || 'imported';
}

/** `0000:01:00.0` → `dev-0000-01-00-0`; a platform device (`e0000000.dma`) → `dev-e0000000-dma`. */
function deviceName(device: string): string {
  return `dev-${device.replace(/[^A-Za-z0-9_-]+/g, '-').toLowerCase()}`;
}

/**
 * Unique names in one platform's namespace: a base's first use is the base itself, later ones
 * `base-2`, `base-3`, ... Each base remembers its next number, so n names with the same base
 * cost n probes, not n²/2 (20,000 regions at one address took 56 s).
 */
export class NameAllocator {
  private readonly used = new Set<string>();
  private readonly next = new Map<string, number>();
  /** Set lookups so far: the work, which tests bound. */
  probes = 0;

  take(base: string): string {
    let i = this.next.get(base) ?? 2;
    let name = base;
    for (; this.probe(name); i++) name = `${base}-${i}`;
    this.next.set(base, i);
    this.used.add(name);
    return name;
  }

  private probe(name: string): boolean {
    this.probes++;
    return this.used.has(name);
  }
}

/**
 * The platform description for the captured groups. Text from the capture (its path, device
 * names) reaches the output only as a validated BDF, as a name reduced to the language's
 * letters, or escaped inside a `//` comment, so no capture can add a line of its own.
 */
export function renderPlatform(name: string, groups: readonly CapturedGroup[], source: string, names = new NameAllocator()): string {
  const sorted = [...groups].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  const inferred = infer(sorted);
  const lines: string[] = [
    `// Imported by iommu-lens from ${escapeText(source)}.`,
    '// Every region is as sysfs printed it. sysfs does not show:',
    `//  - the IOMMU kind and its address width. ${
      inferred.kind
        ? `The kind is inferred from ${inferred.why}; the address width is assumed (48 bits): change it to the host's.`
        : `${inferred.why[0]!.toUpperCase()}${inferred.why.slice(1)}, so none is ` +
          `declared: add one (and \`iommu\` on each device) to assign devices.`
    }`,
    '//  - whether an `msi` line is a hardware doorbell (msi) or a software window (sw-msi): both print as `msi`.',
    `platform ${name} {`,
  ];
  if (inferred.arch) lines.push(`  arch ${inferred.arch}`);
  const iommuName = inferred.kind && names.take('iommu0');
  if (inferred.kind) lines.push(`  iommu ${iommuName} ${inferred.kind} { address-width 48 }   // assumed: not in sysfs`);
  lines.push('');

  // A region every group has is written once for the whole platform.
  const key = (r: SysfsRegion) => `${r.type} ${r.range.start} ${r.range.end}`;
  const holders = new Map<string, { region: SysfsRegion; groups: bigint[] }>();
  for (const g of sorted) {
    for (const r of g.regions) {
      const h = holders.get(key(r)) ?? { region: r, groups: [] };
      // Groups come in order, so a group listing a region twice is the last one in its list.
      if (h.groups.at(-1) !== g.number) h.groups.push(g.number);
      holders.set(key(r), h);
    }
  }
  const regions = [...holders.values()].sort((a, b) =>
    a.region.range.start < b.region.range.start
      ? -1
      : a.region.range.start > b.region.range.start
        ? 1
        : WORDS.indexOf(a.region.type) - WORDS.indexOf(b.region.type),
  );
  for (const { region, groups: gs } of regions) {
    const swMsi = inferred.kind === 'smmuv3' && region.type === 'msi' && same(region.range, MSI_IOVA_WINDOW);
    const type = swMsi ? 'sw-msi' : region.type;
    const n = names.take(`${type}-${region.range.start.toString(16)}`);
    const target = gs.length === sorted.length && sorted.length > 1 ? '' : ` for ${gs.map((g) => `group ${g}`).join(', ')}`;
    const note = swMsi
      ? "   // printed as msi; at MSI_IOVA_BASE, so the SMMU driver's sw-msi window (write msi if MSIs bypass the SMMU here)"
      : '';
    lines.push(`  reserved ${n} ${type} ${hex(region.range.start)}..${hex(region.range.end)}${target}${note}`);
  }
  if (regions.length) lines.push('');

  for (const g of sorted) {
    // A group without the driver's own regions is not put behind it: its list stays exact.
    const iommu = inferred.kind && inferred.fits(g) ? `; iommu ${iommuName}` : '';
    if (inferred.kind && !iommu) {
      lines.push(
        `  // group ${g.number} lacks the regions ${inferred.kind} adds to every device, so its devices are not put behind ${iommuName}`,
      );
    }
    if (g.devices.length === 0) {
      lines.push(
        `  device ${names.take(`group${g.number}-dev`)} { group ${g.number}${iommu} }   // the capture does not list the group's devices`,
      );
    }
    for (const dev of [...g.devices].sort()) {
      lines.push(
        isBdf(dev)
          ? `  device ${names.take(deviceName(dev))} { bdf ${dev.toLowerCase()}${iommu}; group ${g.number} }`
          : `  device ${names.take(deviceName(dev))} { group ${g.number}${iommu} }   // not a PCI device: '${escapeText(dev)}'`,
      );
    }
  }
  lines.push('}', '');
  return lines.join('\n');
}

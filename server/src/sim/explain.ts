/** How findings and hovers name regions, groups and devices, and point at where they come from. */
import type { Related } from '../model/findings';
import { formatInterval } from '../model/interval';
import type { Device } from '../model/types';
import type { MergedRegion, RegionSource } from './regions';

export function describeSource(s: RegionSource, r: { type: string; range: { start: bigint; end: bigint } }): string {
  switch (s.kind) {
    case 'declared':
      return `reserved region ${s.region.sym.name} (${r.type} ${formatInterval(r.range)})`;
    case 'builtin':
      return `${s.label} (${r.type} ${formatInterval(r.range)}, added by the ${s.iommu.kind} IOMMU ${s.iommu.sym.name})`;
  }
}

/**
 * "reserved region ht-hole (reserved 0x..)" and "2 more" for merged regions. `total`: how
 * many there are when `list` holds only the first few (a query capped for speed).
 */
export function describeRegions(list: readonly MergedRegion[], total = list.length): string {
  // A declared region and a driver's own with the same type and range are named once.
  const seen = new Set<string>();
  const distinct = list.filter((m) => {
    const k = `${m.type} ${m.range.start} ${m.range.end}`;
    return !seen.has(k) && seen.add(k);
  });
  // Past the cap the count may include a region declared twice: it is a count of thousands.
  const count = total > list.length ? distinct.length + total - list.length : distinct.length;
  // Only the first two are named: a RAM range over thousands of regions formats two.
  const names = distinct.slice(0, 2).map((m) => describeSource(m.sources[0]!, m));
  return count <= 2 ? names.join(' and ') : `${names.join(', ')} and ${count - 2} more`;
}

/**
 * The names of the first `n` of `items` other than `except` (one of them, if given), then
 * "and K more", reading only those: naming a few of thousands of devices costs a few.
 */
export function firstNames(items: readonly { sym: { name: string } }[], n: number, except?: unknown): string {
  const shown = items
    .slice(0, n + 1)
    .filter((x) => x !== except)
    .slice(0, n)
    .map((x) => x.sym.name);
  const total = items.length - (except === undefined ? 0 : 1);
  return total > shown.length ? `${shown.join(', ')} and ${total - shown.length} more` : shown.join(', ');
}

/** The first `n` names, then "and K more": messages about long lists stay one line. */
export function someOf(names: readonly string[], n: number): string {
  return names.length > n ? `${names.slice(0, n).join(', ')} and ${names.length - n} more` : names.join(', ');
}

export function regionRelated(list: readonly MergedRegion[]): Related[] {
  const out: Related[] = [];
  // The same region reached through several groups is one related location.
  const seen = new Set<string>();
  const add = (r: Related) => {
    const k = `${r.uri} ${r.span.start} ${r.message}`;
    if (!seen.has(k) && seen.add(k)) out.push(r);
  };
  for (const m of list) {
    if (out.length >= MAX_RELATED) break; // a RAM range over thousands of regions points at the first few
    for (const s of m.sources) {
      switch (s.kind) {
        case 'declared':
          add({
            uri: s.region.sym.uri,
            span: s.region.decl.span,
            message: `reserved region ${s.region.sym.name}: ${s.region.type} ${s.region.range ? formatInterval(s.region.range) : ''}`,
          });
          break;
        case 'builtin':
          add({ uri: s.iommu.sym.uri, span: s.iommu.sym.nameSpan, message: `${s.label} ${formatInterval(m.range)}: ${s.why}` });
          break;
      }
    }
  }
  return out.slice(0, MAX_RELATED);
}

const MAX_RELATED = 20;

export function deviceRelated(d: Device, why: string): Related {
  return { uri: d.sym.uri, span: d.sym.nameSpan, message: `device ${d.sym.name}: ${why}` };
}

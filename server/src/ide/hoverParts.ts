/** Small pieces the hover modules share: positions as people read them. */
import type { Guest, Interval, Location } from '../model';
import type { Analysis } from './analysis';

/** 1-based line of an offset. */
export function lineOf(a: Analysis, uri: string, offset: number): number {
  return a.lineIndex(uri).position(offset).line + 1;
}

/** `line 5`, or `other.iommu line 5` for a place in another file than `here`. */
export function where(a: Analysis, loc: Location, here: string): string {
  const line = `line ${lineOf(a, loc.uri, loc.span.start)}`;
  return loc.uri === here ? line : `${loc.uri.slice(loc.uri.lastIndexOf('/') + 1)} ${line}`;
}

/** ` (other.iommu)` for a file other than `here`, else nothing. */
export function fileNote(uri: string, here: string): string {
  return uri === here ? '' : ` (${uri.slice(uri.lastIndexOf('/') + 1)})`;
}

/** What the domains say of one range of a guest's RAM (the vTOM split of an SEV-SNP guest), one line. */
export function ramNote(a: Analysis, g: Guest, range: Interval): string | undefined {
  const notes = a.domains.flatMap((x) => x.ide?.ramNote?.(g, range) ?? []);
  return notes.length ? notes.join('; ') : undefined;
}

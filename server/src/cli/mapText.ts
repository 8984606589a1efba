/**
 * `iommu-lens map` without `--svg`: the address map as plain text for CI logs, one
 * section per address space and one line per bar (`0xSTART-0xEND  kind  label`), with
 * the codes of the errors and warnings on the bar's line.
 */
import type { AddressMap } from '../ide/addressMap';
import { formatIovaRange } from '../model';

export function formatMapText(map: AddressMap): string {
  const out = [`address map of ${map.title}`, ...map.notes.map((n) => `note: ${n}`)];
  for (const space of map.spaces) {
    out.push('', space.note ? `${space.title} (${space.note})` : space.title);
    const ranges = space.bars.map((b) => formatIovaRange(b));
    const rangeWidth = Math.max(0, ...ranges.map((r) => r.length));
    const kindWidth = Math.max(0, ...space.bars.map((b) => b.kind.length));
    for (const [i, b] of space.bars.entries()) {
      const problems = b.problems.length ? `  [${b.problems.map((p) => `${p.severity} ${p.code}`).join(', ')}]` : '';
      out.push(`  ${ranges[i]!.padEnd(rangeWidth)}  ${b.kind.padEnd(kindWidth)}  ${b.label}${problems}`);
    }
    if (!space.bars.length) out.push('  (no ranges)');
  }
  return `${out.join('\n')}\n`;
}

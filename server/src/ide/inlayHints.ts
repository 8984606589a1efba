/**
 * Inlay hints: what the simulator computes from a short line, shown at its end. A
 * `machine` statement gets QEMU's RAM ranges (RULES §3); a guest `ram` line written as
 * `START size SIZE` gets its inclusive end.
 */
import type { Span } from '@iommu-lens/grammar';
import { formatInterval, hex } from '../model';
import { machineLayout } from '../sim';
import type { Analysis } from './analysis';

export interface InlayHint { offset: number; label: string; tooltip?: string }

/** Hints for the guests of one file, within `span` if given. */
export function inlayHints(a: Analysis, uri: string, span?: Span): InlayHint[] {
  const out: InlayHint[] = [];
  const wanted = (s: Span) => !span || (s.end >= span.start && s.start <= span.end);
  for (const g of a.model.guests.values()) {
    if (g.sym.uri !== uri || !wanted(g.decl.span)) continue;
    for (const r of g.ram) {
      if (r.range && r.decl.range?.size && wanted(r.decl.span)) {
        out.push({ offset: r.decl.range.span.end, label: ` ..${hex(r.range.end)}`, tooltip: `guest RAM ${r.sym.name}: ${formatInterval(r.range)} (inclusive end)` });
      }
    }
    const m = g.machine;
    const layout = m && wanted(m.stmt.span) ? machineLayout(g) : undefined;
    if (!m || !layout) continue;
    const ranges = layout.ram.map((r) => `${r.name} ${formatInterval(r.range)}`).join(', ');
    out.push({
      offset: m.stmt.span.end,
      label: ` → ${ranges}${layout.relocated ? ' (above 1 TiB: AMD HT hole)' : ''}`,
      tooltip: `QEMU's guest RAM for this machine${layout.pciHole64 ? `; 64-bit PCI hole ${formatInterval(layout.pciHole64)}` : ''}`,
    });
  }
  return out.sort((x, y) => x.offset - y.offset);
}

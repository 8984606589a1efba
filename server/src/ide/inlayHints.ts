/**
 * Inlay hints: what is computed from a short line, shown where it applies. Every range
 * gets what it does not spell out: `START size SIZE` its inclusive end, `START..END` its
 * size. A `machine` statement gets QEMU's RAM ranges (RULES §3).
 */
import type { Node, RangeLit, Span } from '@iommu-lens/grammar';
import { evaluateRange, formatInterval, formatSize, hex, intervalSize } from '../model';
import { machineLayout } from '../sim';
import type { Analysis } from './analysis';
import { astChildren } from '@iommu-lens/grammar';

export interface InlayHint {
  offset: number;
  label: string;
  tooltip?: string;
}

/** Hints for one file, within `span` if given. */
export function inlayHints(a: Analysis, uri: string, span?: Span): InlayHint[] {
  const out: InlayHint[] = [];
  const wanted = (s: Span) => !span || (s.end >= span.start && s.start <= span.end);
  for (const decl of a.ast(uri)?.decls ?? []) {
    if (wanted(decl.span)) for (const r of rangesIn(decl)) if (wanted(r.span)) rangeHint(r, out);
  }
  for (const g of a.model.guests.values()) {
    const m = g.machine;
    if (g.sym.uri !== uri || !m || !wanted(m.stmt.span)) continue;
    const layout = machineLayout(g);
    if (!layout) continue;
    const ranges = layout.ram.map((r) => `${r.name} ${formatInterval(r.range)}`).join(', ');
    out.push({
      offset: m.stmt.span.end,
      label: ` → ${ranges}${layout.relocated ? ' (above 1 TiB: AMD HT hole)' : ''}`,
      tooltip: `QEMU's guest RAM for this machine${layout.pciHole64 ? `; 64-bit PCI hole ${formatInterval(layout.pciHole64)}` : ''}`,
    });
  }
  return out.sort((x, y) => x.offset - y.offset);
}

function rangeHint(r: RangeLit, out: InlayHint[]): void {
  const v = evaluateRange(r);
  if (!v.ok) return; // the model reports what is wrong with it
  if (r.size) out.push({ offset: r.span.end, label: ` ..${hex(v.value.end)}`, tooltip: `${formatInterval(v.value)} (inclusive end)` });
  else if (r.end)
    out.push({ offset: r.span.end, label: ` (${formatSize(intervalSize(v.value))})`, tooltip: `${intervalSize(v.value)} bytes` });
}

/** Every range literal under an AST node, in order. Ranges are the only nodes with a `start` literal. */
function* rangesIn(node: Node): Generator<RangeLit> {
  if ('start' in node && typeof node.start === 'object') {
    yield node as RangeLit;
    return;
  }
  for (const c of astChildren(node)) yield* rangesIn(c.node);
}

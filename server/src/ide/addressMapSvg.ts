/**
 * Draws an address map (addressMap.ts) as one self-contained SVG string: no scripts,
 * fonts, images or styles from outside, presentation attributes only (a webview's CSP
 * blocks inline styles) and class names a host page may restyle. Every text comes from
 * user files, so all of it is escaped.
 *
 * Addresses go to pixels through a compressed axis: every bar boundary is a breakpoint;
 * a stretch with content gets a width growing with the logarithm of its size, and a
 * stretch nothing covers is a fixed-width break marker labelled with its size. Address
 * arithmetic stays bigint until the pixel number.
 */
import { byStart, firstEndingFrom, formatSize, hex, type Interval } from '../model';
import { KIND_ORDER, KIND_RANK, mapSources, type AddressMap, type AddressSpace, type Bar, type BarKind } from './addressMap';
import { partitionPoint } from '../model/search';

export interface AxisOptions {
  /** Width of the smallest stretch with content (4 KiB or less). */
  minWidth: number;
  /** Extra width per doubling of a stretch's size above 4 KiB. */
  perDoubling: number;
  /** Width of the marker drawn for a stretch nothing covers. */
  breakWidth: number;
}

export const DEFAULT_AXIS: AxisOptions = { minWidth: 30, perDoubling: 5, breakWidth: 48 };

export interface AxisSegment {
  start: bigint;
  /** Inclusive. */
  end: bigint;
  x: number;
  width: number;
  /** Nothing covers it: drawn as a break marker. */
  gap: boolean;
}

/** A piecewise map from addresses to pixels; boundaries are `start` values and `end + 1`. */
export class Axis {
  readonly width: number;

  constructor(readonly segments: readonly AxisSegment[]) {
    const last = segments[segments.length - 1];
    this.width = last ? last.x + last.width : 0;
  }

  /** The x of a boundary: an address's left edge, or `end + 1` for a range's right edge (2^64 included). */
  at(boundary: bigint): number {
    const segs = this.segments;
    if (segs.length === 0 || boundary <= segs[0]!.start) return 0;
    if (boundary > segs[segs.length - 1]!.end) return this.width;
    // The last segment starting at or below `boundary`.
    const s = segs[partitionPoint(segs.length, (i) => segs[i]!.start <= boundary) - 1]!;
    const size = s.end - s.start + 1n;
    // Inside a stretch (only for addresses that are not breakpoints): linear, in 1/65536ths.
    return s.x + (s.width * Number(((boundary - s.start) << 16n) / size)) / 65536;
  }
}

export function buildAxis(ranges: readonly Interval[], options: Partial<AxisOptions> = {}): Axis {
  const o = { ...DEFAULT_AXIS, ...options };
  // +1 where a range starts, -1 after it ends: the count says whether a stretch is covered.
  const delta = new Map<bigint, number>();
  for (const r of ranges) {
    if (r.end < r.start) continue;
    delta.set(r.start, (delta.get(r.start) ?? 0) + 1);
    delta.set(r.end + 1n, (delta.get(r.end + 1n) ?? 0) - 1);
  }
  const points = [...delta.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const segments: AxisSegment[] = [];
  let x = 0;
  let active = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    active += delta.get(points[i]!)!;
    const start = points[i]!;
    const end = points[i + 1]! - 1n;
    const gap = active === 0;
    const width = gap ? o.breakWidth : o.minWidth + o.perDoubling * Math.max(0, Math.log2(Number(end - start + 1n)) - 12);
    segments.push({ start, end, x, width, gap });
    x += width;
  }
  return new Axis(segments);
}

// ----- drawing ---------------------------------------------------------------------

const FONT = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
const MARGIN = 16;
const LANE = 20;
const LANE_GAP = 3;
const CHAR = 0.6; // monospace advance per pixel of font size
const PROBLEM = '#d00000';

const KINDS: Record<BarKind, { fill: string; text: string; name: string }> = {
  ram: { fill: '#4e79a7', text: '#ffffff', name: 'RAM' },
  'pci-hole': { fill: '#a0cbe8', text: '#1b1b1b', name: '64-bit PCI hole' },
  'dma-window': { fill: '#8cd17d', text: '#1b1b1b', name: 'dma-window' },
  private: { fill: '#76b7b2', text: '#1b1b1b', name: 'private (below vTOM)' },
  shared: { fill: '#bab0ac', text: '#1b1b1b', name: 'shared (from vTOM)' },
  usable: { fill: '#59a14f', text: '#ffffff', name: 'usable IOVA' },
  direct: { fill: '#b07aa1', text: '#ffffff', name: 'direct (identity map)' },
  'direct-relaxable': { fill: '#d4a6c8', text: '#1b1b1b', name: 'direct-relaxable' },
  reserved: { fill: '#9c755f', text: '#ffffff', name: 'reserved' },
  msi: { fill: '#f28e2b', text: '#1b1b1b', name: 'msi (hardware doorbell)' },
  'sw-msi': { fill: '#ffbe7d', text: '#1b1b1b', name: 'sw-msi window' },
  ioapic: { fill: '#ff9d9a', text: '#1b1b1b', name: 'IO-APIC' },
  mmcfg: { fill: '#86bcb6', text: '#1b1b1b', name: 'MMCFG (ECAM)' },
  conflict: { fill: '#e15759', text: '#ffffff', name: 'conflict: the DMA map fails' },
};

/** `ids`: the map's sources, when the caller has them already (the server sends them with the SVG). */
export function renderSvg(map: AddressMap, options: Partial<AxisOptions> = {}, ids = mapSources(map)): string {
  const axes = new Map<string, Axis>();
  for (const key of new Set(map.spaces.map((s) => s.axis))) {
    axes.set(
      key,
      buildAxis(
        map.spaces.filter((s) => s.axis === key).flatMap((s) => s.bars),
        options,
      ),
    );
  }
  const body: string[] = [];
  let y = MARGIN;
  let width = Math.max(textWidth(map.title, 15), ...map.notes.map((n) => textWidth(n, 11)), 420);
  body.push(text(MARGIN, y + 15, map.title, { size: 15, weight: 'bold', cls: 'fg' }));
  y += 24;
  for (const n of map.notes) {
    body.push(text(MARGIN, y + 11, n, { size: 11, cls: 'fg note' }));
    y += 16;
  }

  // Consecutive spaces on one axis are drawn as a group above one row of address ticks.
  const groups: AddressSpace[][] = [];
  for (const s of map.spaces) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.axis === s.axis) last.push(s);
    else groups.push([s]);
  }
  const kinds = new Set<BarKind>();
  let problems = false;
  let breaks = false;
  for (const group of groups) {
    const axis = axes.get(group[0]!.axis)!;
    const gaps = axis.segments.filter((x) => x.gap);
    width = Math.max(width, axis.width);
    y += 8;
    for (const space of group) {
      const title = space.note ? `${space.title}  (${space.note})` : space.title;
      width = Math.max(width, textWidth(title, 12));
      body.push(text(MARGIN, y + 13, title, { size: 12, weight: 'bold', cls: 'fg' }));
      y += 20;
      const lanes = lanesOf(space.bars);
      const height = Math.max(lanes.length, 1) * (LANE + LANE_GAP) - LANE_GAP;
      // Break bands under the lanes (no bar of this axis lies in a break).
      for (const g of gaps) body.push(breakSvg(g, y, y + height));
      for (const [i, lane] of lanes.entries()) {
        for (const b of lane) {
          kinds.add(b.kind);
          if (b.problems.length) problems = true;
          body.push(barSvg(b, axis, y + i * (LANE + LANE_GAP), ids.idOf(b)));
        }
      }
      y += height + LANE_GAP + 6;
    }
    if (gaps.length) breaks = true;
    y = ticks(axis, y, body);
  }
  y = legend(kinds, problems, breaks, y + 8, Math.max(width, 420), body);
  const w = Math.ceil(width + 2 * MARGIN);
  const h = Math.ceil(y + MARGIN);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="${FONT}" role="img">`,
    `<title>${esc(`address map of ${map.title}`)}</title>`,
    `<rect class="bg" x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Overlapping bars go to separate lanes: each bar, kinds in legend order, takes the first
 * lane it fits. Bars come in start order within a kind only, so a later kind may fill a gap
 * an earlier one left: each lane keeps its bars sorted by start (they are disjoint, so ends
 * are sorted too) and a fit is one binary search. Each lane's bars are returned in the
 * order they were placed.
 */
export function lanesOf(bars: readonly Bar[]): Bar[][] {
  const order = [...bars].sort((x, y) => KIND_RANK[x.kind] - KIND_RANK[y.kind] || byStart(x, y));
  const lanes: { placed: Bar[]; sorted: Bar[]; end: bigint }[] = [];
  for (const b of order) {
    let lane: (typeof lanes)[number] | undefined;
    let at = 0;
    for (const l of lanes) {
      if (l.end < b.start) {
        lane = l;
        at = l.sorted.length;
        break;
      } // past everything in it
      at = firstEndingFrom(l.sorted, b.start, (o) => o);
      if (at === l.sorted.length || b.end < l.sorted[at]!.start) {
        lane = l;
        break;
      }
    }
    if (!lane) lanes.push({ placed: [b], sorted: [b], end: b.end });
    else {
      lane.placed.push(b);
      lane.sorted.splice(at, 0, b);
      if (b.end > lane.end) lane.end = b.end;
    }
  }
  return lanes.map((l) => l.placed);
}

function barSvg(b: Bar, axis: Axis, y: number, id: number | undefined): string {
  const x0 = MARGIN + axis.at(b.start);
  const w = Math.max(1, MARGIN + axis.at(b.end + 1n) - x0);
  const k = KINDS[b.kind];
  const tip = [
    `${b.kind} ${hex(b.start)}..${hex(b.end)} (${sizeText(b.end - b.start + 1n)})`,
    b.label,
    ...b.problems.map((p) => `${p.severity} ${p.code}: ${p.message}`),
  ].join('\n');
  const stroke = b.problems.length ? `stroke="${PROBLEM}" stroke-width="2"` : 'stroke="#ffffff" stroke-width="1"';
  const label = fit(`${b.problems.length ? '! ' : ''}${b.label}`, w - 6, 11);
  return [
    `<g class="bar" data-kind="${b.kind}"${id !== undefined ? ` data-target="${id}"` : ''}>`,
    `<title>${esc(tip)}</title>`,
    `<rect x="${px(x0)}" y="${y}" width="${px(w)}" height="${LANE}" fill="${k.fill}" ${stroke}/>`,
    label ? text(x0 + 3, y + 14, label, { size: 11, fill: k.text }) : '',
    '</g>',
  ]
    .filter(Boolean)
    .join('');
}

function breakSvg(s: AxisSegment, top: number, bottom: number): string {
  const x = MARGIN + s.x;
  const zig = (at: number) => {
    const pts: string[] = [];
    for (let yy = top, i = 0; yy < bottom + 6; yy += 6, i++) pts.push(`${px(at + (i % 2 ? 3 : -3))},${px(Math.min(yy, bottom))}`);
    return `<polyline points="${pts.join(' ')}" fill="none" stroke="#9a9a9a" stroke-width="1"/>`;
  };
  return [
    '<g class="break">',
    `<title>${esc(`nothing here: ${hex(s.start)}..${hex(s.end)} (${sizeText(s.end - s.start + 1n)}) left out`)}</title>`,
    `<rect class="break-band" x="${px(x)}" y="${top}" width="${px(s.width)}" height="${bottom - top}" fill="#efefef"/>`,
    zig(x + 6),
    zig(x + s.width - 6),
    '</g>',
  ].join('');
}

/**
 * A tick and the exact hex address at every boundary (where a stretch starts; the last
 * one shows the last address), and each break's size between its two ticks.
 */
function ticks(axis: Axis, y: number, out: string[]): number {
  const labels = axis.segments.map((s) => ({ x: s.x, label: hex(s.start) }));
  const last = axis.segments[axis.segments.length - 1];
  if (last) labels.push({ x: axis.width, label: hex(last.end) });
  let longest = 0;
  for (const t of labels) {
    const x = MARGIN + t.x;
    longest = Math.max(longest, t.label.length);
    out.push(`<line class="tick" x1="${px(x)}" y1="${y}" x2="${px(x)}" y2="${y + 4}" stroke="#6a6a6a" stroke-width="1"/>`);
    out.push(
      `<text class="fg" transform="translate(${px(x)} ${y + 6}) rotate(-90)" ` +
        `text-anchor="end" dy="0.35em" font-size="10" fill="#1b1b1b">${esc(t.label)}</text>`,
    );
  }
  for (const s of axis.segments.filter((x) => x.gap)) {
    out.push(text(MARGIN + s.x + s.width / 2, y + 14, `≈${approxSize(s.end - s.start + 1n)}`, { size: 10, anchor: 'middle', cls: 'fg' }));
  }
  return y + 10 + longest * 10 * CHAR;
}

function legend(kinds: Set<BarKind>, problems: boolean, breaks: boolean, y: number, width: number, out: string[]): number {
  const items: { swatch: string; name: string }[] = KIND_ORDER.filter((k) => kinds.has(k)).map((k) => ({
    swatch: `fill="${KINDS[k].fill}" stroke="#ffffff"`,
    name: KINDS[k].name,
  }));
  if (problems) items.push({ swatch: `fill="none" stroke="${PROBLEM}" stroke-width="2"`, name: '! error or warning on its line' });
  if (breaks) items.push({ swatch: 'fill="#efefef" stroke="#9a9a9a"', name: '≈ empty stretch left out' });
  let x = 0;
  for (const item of items) {
    const w = 18 + textWidth(item.name, 11) + 16;
    if (x > 0 && x + w > width) {
      x = 0;
      y += 18;
    }
    out.push(
      `<g class="legend"><rect x="${px(MARGIN + x)}" y="${y}" width="12" ` +
        `height="12" ${item.swatch}/>${text(MARGIN + x + 18, y + 10, item.name, { size: 11, cls: 'fg' })}</g>`,
    );
    x += w;
  }
  return items.length ? y + 18 : y;
}

// ----- text --------------------------------------------------------------------------

function text(x: number, y: number, s: string, o: { size: number; weight?: string; anchor?: string; fill?: string; cls?: string }): string {
  const attrs = [`x="${px(x)}"`, `y="${px(y)}"`, `font-size="${o.size}"`, `fill="${o.fill ?? '#1b1b1b'}"`];
  if (o.cls) attrs.unshift(`class="${o.cls}"`);
  if (o.weight) attrs.push(`font-weight="${o.weight}"`);
  if (o.anchor) attrs.push(`text-anchor="${o.anchor}"`);
  return `<text ${attrs.join(' ')}>${esc(s)}</text>`;
}

function textWidth(s: string, size: number): number {
  return s.length * size * CHAR;
}

/** The label cut to fit `width` pixels with an ellipsis, or nothing if not even 3 characters fit. */
function fit(s: string, width: number, size: number): string {
  const n = Math.floor(width / (size * CHAR));
  if (s.length <= n) return s;
  return n >= 4 ? `${s.slice(0, n - 1)}…` : '';
}

function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

const UNITS: [string, bigint][] = [
  ['E', 1n << 60n],
  ['P', 1n << 50n],
  ['T', 1n << 40n],
  ['G', 1n << 30n],
  ['M', 1n << 20n],
  ['K', 1n << 10n],
];

/** An exact size: `1M`, `3455M`, or hex with an approximation where units get long (`0x17ff0000, ≈383.9M`). */
function sizeText(v: bigint): string {
  const f = formatSize(v);
  return f.length <= 6 ? f : `${hex(v)}, ≈${approxSize(v)}`;
}

/** A size for a break marker, rounded to at most one decimal (`3.4G`, `896M`); the tooltip has the exact one. */
export function approxSize(v: bigint): string {
  for (const [unit, n] of UNITS) {
    if (v < n) continue;
    const tenths = (v * 10n + n / 2n) / n;
    return tenths >= 100n
      ? `${(v + n / 2n) / n}${unit}`
      : tenths % 10n === 0n
        ? `${tenths / 10n}${unit}`
        : `${tenths / 10n}.${tenths % 10n}${unit}`;
  }
  return `${v}B`;
}

/** Escapes text for XML content and attributes, and drops characters XML cannot hold. */
export function esc(s: string): string {
  return s
    .replace(
      /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      '',
    )
    .replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

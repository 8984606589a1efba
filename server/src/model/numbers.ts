/**
 * Numbers, sizes, ranges and BDFs evaluated exactly (bigint). A bad value yields a
 * problem with a code, never a rounded number.
 */
import type { NumLit, RangeLit, Span, Word } from '@iommu-lens/grammar';
import type { Code } from './codes';
import { hex, U64_MAX, type Interval } from './interval';

export interface NumberProblem {
  code: Code;
  message: string;
  span: Span;
}

export type Evaluated<T> = { ok: true; value: T } | { ok: false; problem: NumberProblem };

const UNITS: Record<string, bigint> = {
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: 1n << 40n,
  P: 1n << 50n,
  KiB: 1n << 10n,
  MiB: 1n << 20n,
  GiB: 1n << 30n,
  TiB: 1n << 40n,
  PiB: 1n << 50n,
};

/** Digits of 2^64-1 without leading zeros: more significant digits than this cannot fit. */
const MAX_DIGITS = { hex: 16, decimal: 20 };

const fail = <T>(code: Code, span: Span, message: string): Evaluated<T> => ({ ok: false, problem: { code, message, span } });

/** `text` cut to its ends around '…' when longer than `max` characters. */
export function shortened(text: string, max = 40): string {
  if (text.length <= max) return text;
  const half = Math.floor((max - 1) / 2);
  return `${text.slice(0, half)}…${text.slice(-half)}`;
}

/**
 * A literal as messages quote it: whole when short, else its ends and its length, so a
 * number of a hundred thousand digits does not make a message of that size.
 */
export function quoted(text: string, max = 40): string {
  return text.length <= max ? `'${text}'` : `'${shortened(text, max)}' (${text.length} characters)`;
}

/** Splits `0x1000`, `512G`, `0x1_0000KiB` into digits and unit, checking each part. */
export function evaluateNumber(lit: NumLit, opts: { unit: boolean } = { unit: true }): Evaluated<bigint> {
  const text = lit.text;
  const isHex = /^0[xX]/.test(text);
  const body = isHex ? text.slice(2) : text;
  const digits = (isHex ? /^[0-9a-fA-F_]*/ : /^[0-9_]*/).exec(body)![0];
  const unit = body.slice(digits.length);
  if (digits.length === 0) return fail('invalid-number', lit.span, `${quoted(text)} has no digits`);
  if (digits.startsWith('_') || digits.endsWith('_') || digits.includes('__')) {
    return fail('invalid-number', lit.span, `${quoted(text)}: '_' may only stand between two digits`);
  }
  let multiplier = 1n;
  if (unit) {
    const m = UNITS[unit];
    if (m === undefined) {
      const what = /^[0-9a-zA-Z]$/.test(unit[0]!) && !isHex && /^[a-fA-F]/.test(unit) ? ' (hex digits need a 0x prefix)' : '';
      return fail(
        'invalid-number',
        lit.span,
        `${quoted(text)}: ${quoted(unit, 12)} is not a unit; use K, M, G, T, P or KiB, MiB, GiB, TiB, PiB${what}`,
      );
    }
    if (!opts.unit) return fail('unit-not-allowed', lit.span, `${quoted(text)} is a count, not a size: write it without '${unit}'`);
    multiplier = m;
  }
  const plain = digits.replace(/_/g, '').replace(/^0+(?=.)/, '');
  const tooLarge = () =>
    fail<bigint>('number-too-large', lit.span, `${quoted(text)} is larger than 0xffff_ffff_ffff_ffff, the largest 64-bit value`);
  // Counted before converting: BigInt of thousands of digits is slow and never fits anyway.
  if (plain.length > (isHex ? MAX_DIGITS.hex : MAX_DIGITS.decimal)) return tooLarge();
  const value = BigInt((isHex ? '0x' : '') + plain) * multiplier;
  if (value > U64_MAX) return tooLarge();
  return { ok: true, value };
}

/** A count (no unit) within [min, max]. */
export function evaluateCount(lit: NumLit, min: bigint, max: bigint, what: string): Evaluated<bigint> {
  const r = evaluateNumber(lit, { unit: false });
  if (!r.ok) return r;
  if (r.value < min || r.value > max) {
    return fail('value-out-of-range', lit.span, `${what} ${r.value} is out of range: it must be ${min}..${max}`);
  }
  return r;
}

/** `START..END` or `START size SIZE` as an inclusive interval. */
export function evaluateRange(r: RangeLit): Evaluated<Interval> {
  const start = evaluateNumber(r.start);
  if (!start.ok) return start;
  if (r.end) {
    const end = evaluateNumber(r.end);
    if (!end.ok) return end;
    if (end.value < start.value) {
      return fail('range-reversed', r.span, `range ends at ${hex(end.value)}, below its start ${hex(start.value)} (END is inclusive)`);
    }
    return { ok: true, value: { start: start.value, end: end.value } };
  }
  if (r.size) {
    const size = evaluateNumber(r.size);
    if (!size.ok) return size;
    if (size.value === 0n) return fail('zero-size', r.size.span, 'a range cannot have size 0');
    const end = start.value + size.value - 1n;
    if (end > U64_MAX) {
      return fail(
        'range-wraps',
        r.span,
        `${hex(start.value)} size ${hex(size.value)} runs past 0xffff_ffff_ffff_ffff (it would end at ${hex(end)})`,
      );
    }
    return { ok: true, value: { start: start.value, end } };
  }
  return fail('syntax-error', r.span, 'incomplete range');
}

export interface Bdf {
  segment: number;
  bus: number;
  device: number;
  fn: number;
}

/** `SSSS:BB:DD.F` or `BB:DD.F` with the PCI limits of each field. */
export function evaluateBdf(w: Word): Evaluated<Bdf> {
  const m = /^(?:([0-9a-fA-F]+):)?([0-9a-fA-F]+):([0-9a-fA-F]+)\.([0-9a-fA-F]+)$/.exec(w.text);
  if (!m) return fail('invalid-bdf', w.span, `${quoted(w.text)} is not a BDF; write SSSS:BB:DD.F or BB:DD.F`);
  const fields: [string | undefined, number, number, string][] = [
    [m[1], 4, 0xffff, 'segment'],
    [m[2], 2, 0xff, 'bus'],
    [m[3], 2, 0x1f, 'device'],
    [m[4], 1, 7, 'function'],
  ];
  const values: number[] = [];
  for (const [text, digits, max, name] of fields) {
    if (text === undefined) {
      values.push(0);
      continue;
    }
    const v = parseInt(text, 16);
    if (text.length > digits || v > max) {
      return fail('invalid-bdf', w.span, `${quoted(w.text)}: ${name} ${shortened(text, 12)} is out of range (0-${max.toString(16)} hex)`);
    }
    values.push(v);
  }
  const [segment, bus, device, fn] = values as [number, number, number, number];
  return { ok: true, value: { segment, bus, device, fn } };
}

export function formatBdf(b: Bdf): string {
  const h = (v: number, n: number) => v.toString(16).padStart(n, '0');
  return `${h(b.segment, 4)}:${h(b.bus, 2)}:${h(b.device, 2)}.${b.fn}`;
}

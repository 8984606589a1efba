/**
 * Fuzz inputs as fast-check arbitraries: grammar-aware mutations of seed workspaces (and
 * of generated ones: generate.ts, scenario.ts), and random bytes, code units and token
 * soup. A mutation is a list of small operations
 * (`Op`: which mutator and a few numbers choosing where and what), applied to the text in
 * order, so fast-check shrinks a failure to fewer, simpler operations; `minimise.ts`
 * then cuts the resulting text down.
 *
 * The mutators cut text with their own tokenizer (not the grammar's lexer, which is under
 * test): words, numbers, punctuation, comments, whitespace and line breaks.
 */
import fc from 'fast-check';
import { ALL_KEYWORDS, DECLARATION_KEYWORDS, STATEMENT_KEYWORDS, statementKeywordsByBlock } from '@iommu-lens/grammar';
import type { Seed } from './corpus';
import { EXTREME_NUMBERS } from './values';
import { generatedInput } from './generate';
import { scenarioInput } from './scenario';

/** A workspace to check: relative path → text, and how it was made (for messages). */
export interface Input {
  label: string;
  files: Record<string, string>;
}

/** One mutation: `kind` picks the mutator (modulo their number); `a`, `b`, `c` pick places and values. */
export interface Op {
  kind: number;
  file: number;
  a: number;
  b: number;
  c: number;
}

const TOKEN =
  /\/\/[^\r\n]*|\/\*[\s\S]*?(?:\*\/|$)|\r\n|\r|\n|[ \t]+|[A-Za-z][A-Za-z0-9_-]*|0[xX][0-9a-zA-Z_]*|[0-9][0-9a-zA-Z_]*|\.\.|[^]/gu;
const SPACE = /^(?:[ \t]+|\r\n|\r|\n)$/;
const NUMBER = /^[0-9]/;
const WORD = /^[A-Za-z]/;

function tokens(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

/** Indices of the tokens that are not whitespace. */
function solid(toks: readonly string[]): number[] {
  const out: number[] = [];
  toks.forEach((t, i) => {
    if (!SPACE.test(t)) out.push(i);
  });
  return out;
}

function lines(text: string): string[] {
  return text.split(/(?<=\r\n|\r(?!\n)|\n)/);
}

const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length ? list[n % list.length] : undefined);

/** Words that break things: keywords in name places, odd names, qualified references. */
const ODD_NAMES: readonly string[] = [
  'a',
  'A',
  'x-',
  'a_b',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'prototype',
  'valueOf',
  'D3cold',
  'off',
  'on',
  'to',
  'size',
  `n${'a'.repeat(300)}`,
];

/** Characters and runs no .iommu file should hold. */
const WEIRD: readonly string[] = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\u000b',
  '\f',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\udc00',
  '\udbff\udfff',
  '\u{1f600}',
  '\u200b',
  '\u0301',
  'é',
  '\t',
  '\r',
  '\\',
  '"',
  "'",
  '`',
  '$',
  '@',
  '#',
  '/*',
  '*/',
  '//',
  '/',
  '*',
  '-',
  '_',
  ':',
  '::',
  '...',
  '.',
  '..',
  'x'.repeat(10_000),
  ' '.repeat(5000),
  '{'.repeat(100),
  '}'.repeat(100),
  '{\n'.repeat(40),
  '0x'.padEnd(5000, '0'),
];

const PUNCTUATION: readonly string[] = ['{', '}', ';', '\n', ',', '.', '..', '{}', '\n}\n', '\r\n', ' '];

/** What the mutators draw from: the vocabulary, the workspace's names, and other files' lines. */
export interface Vocabulary {
  keywords: readonly string[];
  /** Keywords that start a declaration or a statement of any block: inserted anywhere, they land in blocks that do not know them. */
  statementKeywords: readonly string[];
  names: readonly string[];
  donorLines: readonly string[];
}

let blockKeywords: string[] | undefined;

export function vocabulary(seeds: readonly Seed[]): Vocabulary {
  blockKeywords ??= [...new Set([...statementKeywordsByBlock().values()].flat())];
  const kw = new Set(ALL_KEYWORDS);
  const names = new Set<string>();
  const donorLines: string[] = [];
  for (const s of seeds) {
    for (const text of Object.values(s.files)) {
      for (const t of tokens(text)) if (WORD.test(t) && !kw.has(t) && t.length < 40) names.add(t);
      for (const l of lines(text)) if (l.trim() && !l.trim().startsWith('//')) donorLines.push(l);
    }
  }
  return {
    keywords: ALL_KEYWORDS,
    statementKeywords: [...new Set([...DECLARATION_KEYWORDS, ...STATEMENT_KEYWORDS, ...blockKeywords])],
    names: [...names].sort(),
    donorLines,
  };
}

type Mutator = (text: string, op: Op, v: Vocabulary) => string;

const at = (toks: string[], i: number, ...insert: string[]) => {
  toks.splice(i, 0, ...insert);
  return toks.join('');
};

/** Mutators of one file's text. Each must return a string whatever its numbers. */
const MUTATORS: readonly { name: string; run: Mutator }[] = [
  {
    name: 'delete-token',
    run: (t, o) => {
      const k = tokens(t);
      const i = pick(solid(k), o.a);
      if (i === undefined) return t;
      k.splice(i, 1);
      return k.join('');
    },
  },
  {
    name: 'duplicate-token',
    run: (t, o) => {
      const k = tokens(t);
      const i = pick(solid(k), o.a);
      return i === undefined ? t : at(k, i, k[i]!, ' ');
    },
  },
  {
    name: 'swap-tokens',
    run: (t, o) => {
      const k = tokens(t);
      const s = solid(k);
      const i = pick(s, o.a),
        j = pick(s, o.b);
      if (i === undefined || j === undefined) return t;
      [k[i], k[j]] = [k[j]!, k[i]!];
      return k.join('');
    },
  },
  {
    name: 'move-token',
    run: (t, o) => {
      const k = tokens(t);
      const i = pick(solid(k), o.a);
      if (i === undefined) return t;
      const [tok] = k.splice(i, 1);
      return at(k, o.b % (k.length + 1), ' ', tok!, ' ');
    },
  },
  {
    name: 'delete-line',
    run: (t, o) => {
      const l = lines(t);
      if (!l.length) return t;
      l.splice(o.a % l.length, 1);
      return l.join('');
    },
  },
  {
    name: 'duplicate-line',
    run: (t, o) => {
      const l = lines(t);
      if (!l.length) return t;
      const i = o.a % l.length;
      l.splice(i, 0, l[i]!);
      return l.join('');
    },
  },
  {
    name: 'swap-lines',
    run: (t, o) => {
      const l = lines(t);
      if (!l.length) return t;
      const i = o.a % l.length,
        j = o.b % l.length;
      [l[i], l[j]] = [l[j]!, l[i]!];
      return l.join('');
    },
  },
  {
    name: 'move-lines',
    run: (t, o) => {
      const l = lines(t);
      if (!l.length) return t;
      const i = o.a % l.length;
      const moved = l.splice(i, 1 + (o.c % 6));
      l.splice(o.b % (l.length + 1), 0, ...moved);
      return l.join('');
    },
  },
  {
    name: 'extreme-number',
    run: (t, o) => {
      const k = tokens(t);
      const nums = k.flatMap((x, i) => (NUMBER.test(x) ? [i] : []));
      const i = pick(nums.length ? nums : solid(k), o.a);
      if (i === undefined) return t;
      k[i] = EXTREME_NUMBERS[o.c % EXTREME_NUMBERS.length]!;
      return k.join('');
    },
  },
  {
    name: 'replace-name',
    run: (t, o, v) => {
      const k = tokens(t);
      const words = k.flatMap((x, i) => (WORD.test(x) ? [i] : []));
      const i = pick(words, o.a);
      if (i === undefined) return t;
      const pool = [v.names, v.keywords, ODD_NAMES, v.names][o.c % 4]!;
      let name = pick(pool, o.b) ?? 'x';
      if (o.c % 7 === 3) name = `${pick(v.names, o.b) ?? 'p'}.${pick(v.names, o.b >> 3) ?? 'd'}`; // a qualified reference
      k[i] = name;
      return k.join('');
    },
  },
  {
    name: 'insert-keyword',
    run: (t, o, v) => {
      const k = tokens(t);
      const kw = pick(v.statementKeywords, o.b) ?? 'platform';
      const name = pick(v.names, o.c) ?? 'x';
      const forms = [
        ` ${kw} `,
        `\n${kw} ${name}\n`,
        `\n  ${kw} ${name} 0x1000 size 4K\n`,
        `\n${kw} ${name} {\n  ${pick(v.statementKeywords, o.c) ?? 'iommu'} ${name}\n}\n`,
        `\n${kw}\n`,
      ];
      return at(k, o.a % (k.length + 1), forms[o.c % forms.length]!);
    },
  },
  {
    name: 'punctuation',
    run: (t, o) => {
      const k = tokens(t);
      if (o.c % 2 === 0) {
        const marks = k.flatMap((x, i) => (/^(?:[{};,.]|\.\.|\r\n|\r|\n)$/.test(x) ? [i] : []));
        const i = pick(marks, o.a);
        if (i === undefined) return t;
        k.splice(i, 1);
        return k.join('');
      }
      return at(k, o.a % (k.length + 1), PUNCTUATION[o.b % PUNCTUATION.length]!);
    },
  },
  { name: 'truncate', run: (t, o) => t.slice(0, o.a % (t.length + 1)) },
  {
    name: 'splice-lines',
    run: (t, o, v) => {
      const l = lines(t);
      const n = 1 + (o.c % 8);
      const from = o.b % Math.max(1, v.donorLines.length);
      const donor = v.donorLines.slice(from, from + n).map((x) => (/[\r\n]$/.test(x) ? x : `${x}\n`));
      l.splice(o.a % (l.length + 1), 0, ...donor);
      return l.join('');
    },
  },
  {
    name: 'line-endings',
    run: (t, o) => {
      switch (o.c % 7) {
        case 0:
          return t.replace(/\r?\n/g, '\r\n');
        case 1:
          return t.replace(/\r?\n/g, '\r');
        case 2:
          return `\ufeff${t}`;
        case 3:
          return lines(t)
            .map((l, i) => ((i + o.a) % 3 === 0 ? l.replace(/\r?\n$/, '\r\n') : (i + o.a) % 3 === 1 ? l.replace(/\r?\n$/, '\r') : l))
            .join('');
        case 4:
          return t.replace(/\s+$/, '');
        case 5:
          return t.replace(/\n/g, '\n\n');
        default:
          return t.replace(/^[ \t]+/gm, '\t');
      }
    },
  },
  {
    name: 'weird-characters',
    run: (t, o) => {
      const w = WEIRD[o.c % WEIRD.length]!;
      const i = o.a % (t.length + 1);
      return t.slice(0, i) + w + t.slice(i);
    },
  },
  {
    name: 'duplicate-block',
    run: (t, o) => {
      // A whole declaration or statement with its block, again right after it: duplicate names, repeated steps.
      const opens = [...t.matchAll(/\{/g)].map((m) => m.index!);
      const open = pick(opens, o.a);
      if (open === undefined) return t;
      let depth = 0,
        close = -1;
      for (let i = open; i < t.length; i++) {
        if (t[i] === '{') depth++;
        else if (t[i] === '}' && --depth === 0) {
          close = i;
          break;
        }
      }
      if (close < 0) return t;
      const start = t.lastIndexOf('\n', open) + 1;
      const block = t.slice(start, close + 1);
      return o.c % 2 ? `${t.slice(0, close + 1)}\n${block}${t.slice(close + 1)}` : t.slice(0, start) + t.slice(close + 1);
    },
  },
  {
    // Scale: a line (a device, a step, a region) hundreds of times, where cost that grows faster than the input shows.
    name: 'repeat-line',
    run: (t, o) => {
      const l = lines(t);
      if (!l.length) return t;
      const i = o.a % l.length;
      const line = /[\r\n]$/.test(l[i]!) ? l[i]! : `${l[i]}\n`;
      l.splice(i, 0, ...Array.from({ length: 10 + (o.c % 1000) }, () => line));
      return l.join('');
    },
  },
  {
    name: 'delete-range',
    run: (t, o) => {
      const i = o.a % (t.length + 1);
      return t.slice(0, i) + t.slice(i + (o.b % 200));
    },
  },
  {
    name: 'replace-token',
    run: (t, o) => {
      const k = tokens(t);
      const s = solid(k);
      const i = pick(s, o.a),
        j = pick(s, o.b);
      if (i === undefined || j === undefined) return t;
      k[i] = k[j]!;
      return k.join('');
    },
  },
];

/** Mutations of the workspace itself: a file more (a copy under another name) or less. */
const WORKSPACE_OPS = ['copy-file', 'remove-file'] as const;

export const OP_KINDS = MUTATORS.length + WORKSPACE_OPS.length;

export function opName(op: Op): string {
  const k = op.kind % OP_KINDS;
  return k < MUTATORS.length ? MUTATORS[k]!.name : WORKSPACE_OPS[k - MUTATORS.length]!;
}

/** Applies `ops` to a copy of `files`. Deterministic: the same seed and ops give the same workspace. */
export function applyOps(files: Readonly<Record<string, string>>, ops: readonly Op[], v: Vocabulary): Record<string, string> {
  const out = { ...files };
  for (const op of ops) {
    const names = Object.keys(out).sort();
    if (!names.length) break;
    const name = names[op.file % names.length]!;
    const k = op.kind % OP_KINDS;
    if (k < MUTATORS.length) out[name] = MUTATORS[k]!.run(out[name]!, op, v);
    else if (WORKSPACE_OPS[k - MUTATORS.length] === 'copy-file') out[`copy${names.length}-${name.replace(/.*\//, '')}`] = out[name]!;
    else if (names.length > 1) delete out[name];
  }
  return out;
}

/** Places and values unbiased (fast-check favours small numbers: every mutation would hit a file's first tokens). */
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.nat(OP_KINDS - 1),
  file: fc.nat(31),
  a: fc.noBias(fc.nat()),
  b: fc.noBias(fc.nat()),
  c: fc.noBias(fc.nat()),
});

/** A seed workspace with a few mutations, described by the seed's name and the operations' names. */
export function mutatedInput(seeds: readonly Seed[], v: Vocabulary, maxOps = 8): fc.Arbitrary<Input> {
  return fc.record({ seed: fc.nat(seeds.length - 1), ops: fc.array(opArb, { minLength: 1, maxLength: maxOps }) }).map(({ seed, ops }) => ({
    label: `${seeds[seed]!.name} + ${ops.map(opName).join(', ')}`,
    files: applyOps(seeds[seed]!.files, ops, v),
  }));
}

/** Arbitrary bytes decoded as UTF-8 with replacement: what a binary or mis-encoded file reads as. */
const bytesText = fc.uint8Array({ maxLength: 3000 }).map((b) => new TextDecoder('utf-8', { fatal: false }).decode(b));
/** Arbitrary UTF-16 code units: lone surrogates, NUL and every control character included. */
const unitsText = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 2000 }).map((u) => String.fromCharCode(...u));

/** Vocabulary in random order: parses far deeper than bytes do. */
function soup(v: Vocabulary): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...v.keywords) },
    { weight: 4, arbitrary: fc.constantFrom(...(v.names.length ? v.names : ['x'])) },
    { weight: 4, arbitrary: fc.constantFrom(...PUNCTUATION, '\n', '\n', '{', '}') },
    { weight: 3, arbitrary: fc.constantFrom(...EXTREME_NUMBERS.filter((n) => n.length < 100)) },
    { weight: 1, arbitrary: fc.constantFrom(...WEIRD.filter((w) => w.length < 10)) },
  );
  return fc.array(fc.tuple(piece, fc.constantFrom(' ', ' ', '', '\n')), { maxLength: 300 }).map((p) => p.map(([a, b]) => a + b).join(''));
}

/** Random text alone, or spliced into a seed file (so the rest of a workspace still resolves). */
export function randomInput(seeds: readonly Seed[], v: Vocabulary): fc.Arbitrary<Input> {
  const text = fc.oneof({ weight: 2, arbitrary: bytesText }, { weight: 2, arbitrary: unitsText }, { weight: 3, arbitrary: soup(v) });
  return fc.record({ text, seed: fc.nat(seeds.length - 1), where: fc.nat(), alone: fc.boolean() }).map(({ text, seed, where, alone }) => {
    if (alone) return { label: 'random text', files: { 'a.iommu': text } };
    const s = seeds[seed]!;
    const names = Object.keys(s.files).sort();
    const name = names[where % names.length]!;
    const old = s.files[name]!;
    const i = where % (old.length + 1);
    return { label: `${s.name} + random text in ${name} at ${i}`, files: { ...s.files, [name]: old.slice(0, i) + text + old.slice(i) } };
  });
}

/** `base` with one to four mutations on top. */
function mutatedFrom(base: fc.Arbitrary<Input>, v: Vocabulary): fc.Arbitrary<Input> {
  return fc.tuple(base, fc.array(opArb, { minLength: 1, maxLength: 4 })).map(([g, ops]) => ({
    label: `${g.label} + ${ops.map(opName).join(', ')}`,
    files: applyOps(g.files, ops, v),
  }));
}

/**
 * The fuzzer's inputs: mutated seeds; coherent scenarios (scenario.ts: the engines run
 * deep; `bigShare` of them big) and grammar walks (generate.ts: every statement
 * everywhere), each also mutated; random text.
 */
export function fuzzInput(seeds: readonly Seed[], options: { bigShare?: number } = {}, v = vocabulary(seeds)): fc.Arbitrary<Input> {
  const scenarios = scenarioInput(options.bigShare);
  return fc.oneof(
    { weight: 4, arbitrary: mutatedInput(seeds, v) },
    { weight: 2, arbitrary: scenarios },
    { weight: 2, arbitrary: mutatedFrom(scenarios, v) },
    { weight: 1, arbitrary: generatedInput },
    { weight: 1, arbitrary: mutatedFrom(generatedInput, v) },
    { weight: 2, arbitrary: randomInput(seeds, v) },
  );
}

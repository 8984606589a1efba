/**
 * Workspaces generated from the parser's own grammar (chevrotain's GAST, the productions
 * `vocabulary.ts` also reads): a random walk of the rules from `file`, so nearly every
 * line parses and the input reaches the model and the simulator with combinations no
 * example has: names from a small shared pool (so references across files resolve, or
 * collide), numbers ordinary and extreme, every statement in every block it may go in.
 * A seeded PRNG drives the walk; fast-check draws the seed and the shape.
 */
import fc from 'fast-check';
import { parserInstance } from '@iommu-lens/grammar';
import { SMMU_OPCODES } from '../../server/src/domains/cmdqv/model/smmuCommands';
import { COMMAND_BITS, DEVCTL_BITS } from '../../server/src/domains/tdisp/model/pciRegisters';
import { DEVICE_QUIRKS } from '../../server/src/model/quirks';
import { DEVICE_CLASS_DOCS } from '../../server/src/ide/keywordDocs';
import { BOOT_SERVICE_DOCS } from '../../server/src/domains/firmware/ide/bootServices';
import type { Input } from './mutate';
import { prng } from '../prng.mjs';
import { EXTREME_NUMBERS } from './values';

type Prod = {
  constructor: { name: string };
  definition?: Prod[];
  nonTerminalName?: string;
  terminalType?: { name: string };
  idx?: number;
};

const NAMES = [
  'a',
  'b',
  'c',
  'h0',
  'h1',
  'g0',
  'g1',
  'd0',
  'd1',
  'd2',
  'io0',
  'io1',
  'r0',
  'r1',
  't0',
  'p0',
  'fw',
  'drv',
  'm0',
  'ev',
  'x0',
  'dom',
  'v0',
  'nic0',
  'gpu0',
];
const WORDS = [
  ...Object.keys(SMMU_OPCODES),
  ...Object.keys(COMMAND_BITS),
  ...Object.keys(DEVCTL_BITS),
  ...Object.keys(DEVICE_QUIRKS),
  ...Object.keys(DEVICE_CLASS_DOCS),
  ...Object.keys(BOOT_SERVICE_DOCS),
  'asid',
  'va',
  'vmid',
  'sid',
  'ipa',
  'leaf',
  'ssid',
  'size',
];
const NUMBERS = [
  '0',
  '1',
  '2',
  '3',
  '7',
  '8',
  '16',
  '32',
  '39',
  '40',
  '46',
  '48',
  '52',
  '57',
  '64',
  '0x10',
  '0x100',
  '0x1000',
  '0x8000000',
  '0xfee00000',
  '0xfef00000',
  '0xfeefffff',
  '0xffffffff',
  '0x100000000',
  '0x40000000',
  '0x80000000',
  '0xe0000000',
  '0x10000000000',
  '0xfd00000000',
  '0xffffffffff',
  '4K',
  '64K',
  '2M',
  '1M',
  '512M',
  '1G',
  '2G',
  '3G',
  '4G',
  '16G',
  '1T',
  '1024G',
];

/** Picks uniformly from a list. */
const one = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** `names`: how many names of the pool this workspace uses (few: more of its references resolve, or collide). */
export interface Shape {
  seed: number;
  files: number;
  decls: number;
  extremes: number;
  names?: readonly string[];
}

/** What a terminal of the grammar becomes as text. */
function terminal(name: string, r: () => number, shape: Shape): string {
  switch (name) {
    case 'Word':
      return r() < 0.85 ? one(r, shape.names ?? NAMES) : one(r, WORDS);
    case 'Number':
      return r() < shape.extremes ? one(r, EXTREME_NUMBERS) : one(r, NUMBERS);
    case 'Bdf': {
      const h = (n: number) =>
        Math.floor(r() * n)
          .toString(16)
          .padStart(2, '0');
      return r() < 0.5 ? `${h(4)}:${h(32)}.${Math.floor(r() * 8)}` : `0000:${h(256)}:${h(32)}.${Math.floor(r() * 8)}`;
    }
    case 'Newline':
      return '\n';
    case 'Semi':
      return ';';
    case 'LBrace':
      return '{';
    case 'RBrace':
      return '}';
    case 'Comma':
      return ',';
    case 'Dot':
      return '.';
    case 'DotDot':
      return '..';
    default:
      return name; // a keyword token is named after its keyword
  }
}

let rules: Map<string, Prod> | undefined;

/** One walk of `rule`: its tokens as text pieces. Past depth 12 every choice takes its shortest way. */
function walk(p: Prod, r: () => number, shape: Shape, out: string[], depth: number): void {
  rules ??= new Map(Object.entries(parserInstance().getGAstProductions()) as [string, Prod][]);
  const kind = p.constructor.name;
  const deep = depth > 12;
  const seq = (ps: readonly Prod[] | undefined) => {
    for (const c of ps ?? []) walk(c, r, shape, out, depth + 1);
  };
  switch (kind) {
    case 'Rule':
    case 'Alternative':
      seq(p.definition);
      return;
    case 'NonTerminal': {
      // Unknown lines and stray blocks are the mutators' business; here every line is meant to parse.
      if (p.nonTerminalName === 'unknownStatement' || p.nonTerminalName === 'strayBlock') return;
      walk(rules.get(p.nonTerminalName!)!, r, shape, out, depth + 1);
      return;
    }
    case 'Terminal':
      out.push(terminal(p.terminalType!.name, r, shape));
      return;
    case 'Option':
      if (!deep && r() < 0.5) seq(p.definition);
      return;
    case 'Repetition':
    case 'RepetitionMandatory':
    case 'RepetitionWithSeparator':
    case 'RepetitionMandatoryWithSeparator': {
      let n = kind.startsWith('RepetitionMandatory') ? 1 : 0;
      const body = p.definition ?? [];
      if (body.length === 1 && body[0]!.terminalType?.name === 'Newline') {
        // `{` on the line after its declaration: now and then.
        if (r() < 0.1) out.push('\n');
        return;
      }
      const statements = statementList(p);
      while (!deep && r() < (statements ? 0.75 : 0.5) && n < (statements ? 10 : 4)) n++;
      for (let i = 0; i < n; i++) {
        if (statements) {
          // A block's statement list: one statement per line (now and then `;`), not bare separators.
          seq(one(r, statements).definition);
          out.push(r() < 0.9 ? '\n' : ';');
        } else seq(body);
      }
      return;
    }
    case 'Alternation': {
      const alts = (p.definition ?? []).filter((a) => !refersToStray(a));
      if (!alts.length) return;
      seq(one(r, deep ? alts.slice(0, 1) : alts).definition);
      return;
    }
    default:
      seq(p.definition);
  }
}

/** A block's statement alternatives (its repetition offers a Newline alternative), or undefined. */
function statementList(p: Prod): Prod[] | undefined {
  const alt = p.definition?.length === 1 && p.definition[0]!.constructor.name === 'Alternation' ? p.definition[0]! : undefined;
  const alts = alt?.definition ?? [];
  if (!alts.some((a) => a.definition?.length === 1 && a.definition[0]!.terminalType?.name === 'Newline')) return undefined;
  const real = alts.filter((a) => !refersToStray(a) && !(a.definition?.length === 1 && a.definition[0]!.terminalType));
  return real.length ? real : undefined;
}

const refersToStray = (a: Prod): boolean =>
  (a.definition ?? []).some((d) => d.nonTerminalName === 'unknownStatement' || d.nonTerminalName === 'strayBlock');

/** The text of one generated file: `decls` top-level declarations, each through its rule. */
function generateFile(r: () => number, shape: Shape): string {
  rules ??= new Map(Object.entries(parserInstance().getGAstProductions()) as [string, Prod][]);
  const decls = ['platformDecl', 'guestDecl', 'timelineDecl', 'poolDecl', 'firmwareDecl', 'xenDecl', 'vintfDecl', 'commandsDecl'];
  const out: string[] = [];
  for (let i = 0; i < shape.decls; i++) {
    // Platforms first and more often: most other declarations need one.
    const rule = i === 0 || r() < 0.3 ? 'platformDecl' : one(r, decls);
    walk(rules.get(rule)!, r, shape, out, 0);
    out.push('\n\n');
  }
  let text = '';
  for (const piece of out) {
    const glue = piece === '\n' || piece === ';' || piece === '.' || piece === '..' || text === '' || /[\n.]$/.test(text);
    text += glue ? piece : ` ${piece}`;
  }
  // Indent by depth, so the text reads like a file (and the formatter has little to do).
  let depth = 0;
  return text
    .split('\n')
    .map((line) => {
      const l = line.trim();
      const d = Math.max(0, depth - (l.startsWith('}') ? 1 : 0));
      for (const ch of l) depth += ch === '{' ? 1 : ch === '}' ? -1 : 0;
      depth = Math.max(0, depth);
      return l ? '  '.repeat(d) + l : '';
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

export function generateInput(base: Shape & { nameCount?: number }): Input {
  const r = prng(base.seed);
  const shape = { ...base, names: NAMES.slice(0, base.nameCount ?? NAMES.length) };
  const files: Record<string, string> = {};
  for (let i = 0; i < shape.files; i++) files[`gen${i}.iommu`] = generateFile(r, shape);
  return { label: `generated ${JSON.stringify(base)}`, files };
}

/** Generated workspaces: 1 to 3 files of 1 to 8 declarations, with a share of extreme numbers. */
export const generatedInput: fc.Arbitrary<Input> = fc
  .record({
    seed: fc.noBias(fc.nat()),
    files: fc.integer({ min: 1, max: 3 }),
    decls: fc.integer({ min: 1, max: 8 }),
    extremes: fc.constantFrom(0, 0, 0.05, 0.3),
    nameCount: fc.integer({ min: 2, max: NAMES.length }),
  })
  .map(generateInput);

/**
 * Generates the grammar reference from the parser itself, so the docs cannot drift:
 *
 *  - docs/language.md, between `<!-- grammar:begin -->` and `<!-- grammar:end -->`:
 *    an EBNF text of every rule;
 *  - docs/railroad/<rule>.svg: one railroad diagram per rule (standalone SVG, CSS inside);
 *  - docs/language.md, between `<!-- railroad:begin -->` and `<!-- railroad:end -->`:
 *    the list of those diagrams.
 *
 * Usage:  npm run docs               write the outputs
 *         npm run docs -- --check    exit 1 (and name them) if the outputs on disk are stale
 *
 * The source is `parserInstance().getSerializedGastProductions()` (chevrotain's grammar
 * model). It is first turned into a small expression tree (`Expr`); the EBNF printer and
 * the railroad builder both read that tree, so text and pictures always agree.
 * Same parser in, byte-identical files out.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import rr, { type RailroadItem } from 'railroad-diagrams';
import { parserInstance } from '../grammar/src/index';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LANGUAGE_MD = 'docs/language.md';
export const RAILROAD_DIR = 'docs/railroad';

/** Error-recovery rules: they accept what the language does not, so the grammar leaves them out. */
export const INTERNAL_RULES: ReadonlySet<string> = new Set(['unknownStatement', 'strayBlock']);
/** Terminal labels that only exist for error recovery (`file`'s unmatched `}`). */
const RECOVERY_LABELS: ReadonlySet<string> = new Set(['strayClose']);

/** How the token classes are written; keywords and punctuation are written as their quoted text. */
const TOKEN_CLASSES: Readonly<Record<string, string>> = { Word: 'NAME', Number: 'NUMBER', Bdf: 'BDF', Newline: 'EOL' };

// ----- chevrotain's serialized grammar ---------------------------------------------

/** The shape of `ISerializedGast` nodes as chevrotain 11 writes them (its own type is opaque). */
interface Gast {
  type: string;
  name?: string;
  label?: string;
  terminalLabel?: string;
  definition?: Gast[];
  separator?: Gast;
}

export interface GrammarRule {
  name: string;
  definition: Gast[];
}

/** Every rule of the parser, in definition order. */
export function parserRules(): GrammarRule[] {
  return (parserInstance().getSerializedGastProductions() as Gast[]).map((r) => {
    if (r.type !== 'Rule' || !r.name) throw new Error(`expected a Rule, got ${r.type}`);
    return { name: r.name, definition: r.definition ?? [] };
  });
}

// ----- the expression tree both outputs are made from -----------------------------

export type Expr =
  | { kind: 'token'; text: string }
  | { kind: 'rule'; name: string }
  | { kind: 'seq'; items: Expr[] }
  | { kind: 'choice'; alts: Expr[] }
  | { kind: 'optional'; item: Expr }
  | { kind: 'repeat'; item: Expr; min: 0 | 1; separator?: Expr };

const seq = (items: Expr[]): Expr => (items.length === 1 ? items[0]! : { kind: 'seq', items });
const isEmpty = (e: Expr) => e.kind === 'seq' && e.items.length === 0;

/** The text of a terminal: `'platform'`, `'{'`, or a token class such as NAME. */
function terminalText(t: Gast): string {
  const name = t.name ?? '?';
  if (TOKEN_CLASSES[name]) return TOKEN_CLASSES[name];
  return t.label?.startsWith("'") ? t.label : name.toUpperCase();
}

/**
 * Converts one serialized GAST node. Returns undefined for what is left out: references
 * to the error-recovery rules (unless `recovery` is set) and alternatives made only of them.
 */
export function fromGast(node: Gast, recovery = false): Expr | undefined {
  const items = () => (node.definition ?? []).map((d) => fromGast(d, recovery)).filter((e): e is Expr => e !== undefined);
  switch (node.type) {
    case 'Terminal':
      return !recovery && RECOVERY_LABELS.has(node.terminalLabel ?? '') ? undefined : { kind: 'token', text: terminalText(node) };
    case 'NonTerminal':
      return !recovery && INTERNAL_RULES.has(node.name ?? '') ? undefined : { kind: 'rule', name: node.name ?? '?' };
    case 'Rule':
      return seq(items());
    case 'Alternative': {
      // An empty alternative (EMPTY_ALT) is kept as "nothing"; one emptied by filtering is dropped.
      const kept = items();
      return kept.length === 0 && (node.definition ?? []).length > 0 ? undefined : seq(kept);
    }
    case 'Alternation': {
      // A choice nested directly in a choice (an enumeration among other alternatives) is flattened.
      const alts = items().flatMap((a) => (a.kind === 'choice' ? a.alts : [a]));
      const nonEmpty = alts.filter((a) => !isEmpty(a));
      const choice: Expr = nonEmpty.length === 1 ? nonEmpty[0]! : { kind: 'choice', alts: nonEmpty };
      return nonEmpty.length < alts.length ? { kind: 'optional', item: choice } : choice;
    }
    case 'Option':
      return { kind: 'optional', item: seq(items()) };
    case 'Repetition':
    case 'RepetitionMandatory':
      return { kind: 'repeat', item: seq(items()), min: node.type === 'Repetition' ? 0 : 1 };
    case 'RepetitionWithSeparator':
    case 'RepetitionMandatoryWithSeparator':
      return {
        kind: 'repeat',
        item: seq(items()),
        min: node.type === 'RepetitionWithSeparator' ? 0 : 1,
        separator: node.separator && fromGast(node.separator, recovery),
      };
    default:
      throw new Error(`unknown GAST node type ${node.type}`);
  }
}

export function ruleExpr(rule: GrammarRule, recovery = false): Expr {
  return fromGast({ type: 'Rule', name: rule.name, definition: rule.definition }, recovery) ?? seq([]);
}

/** The rules to document, top-down: `file` first, then each rule after the first rule that uses it. */
export function documentedRules(rules: GrammarRule[] = parserRules()): GrammarRule[] {
  const byName = new Map(rules.map((r) => [r.name, r]));
  const out: GrammarRule[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    const rule = byName.get(name);
    if (!rule || seen.has(name) || INTERNAL_RULES.has(name)) return;
    seen.add(name);
    out.push(rule);
    referencedRules(ruleExpr(rule)).forEach(visit);
  };
  visit('file');
  for (const r of rules) visit(r.name); // anything unreachable from `file`, in definition order
  return out;
}

function referencedRules(e: Expr): string[] {
  switch (e.kind) {
    case 'token':
      return [];
    case 'rule':
      return [e.name];
    case 'seq':
      return e.items.flatMap(referencedRules);
    case 'choice':
      return e.alts.flatMap(referencedRules);
    case 'optional':
      return referencedRules(e.item);
    case 'repeat':
      return [...referencedRules(e.item), ...(e.separator ? referencedRules(e.separator) : [])];
  }
}

// ----- EBNF ------------------------------------------------------------------------

const WIDTH = 100;

/**
 * One line of EBNF. Notation: `'word'` literal, NAME/NUMBER/BDF/EOL token classes,
 * juxtaposition = sequence, `|` alternatives, `( )` grouping, `[ x ]` optional,
 * `{ x }` zero or more, `{ x }+` one or more.
 */
export function ebnfInline(e: Expr, grouped = false): string {
  switch (e.kind) {
    case 'token':
      return e.text;
    case 'rule':
      return e.name;
    case 'seq':
      return e.items.length === 0 ? '(* nothing *)' : e.items.map((i) => ebnfInline(i, true)).join(' ');
    case 'choice': {
      const text = e.alts.map((a) => ebnfInline(a)).join(' | ');
      return grouped ? `( ${text} )` : text;
    }
    case 'optional':
      return `[ ${ebnfInline(e.item)} ]`;
    case 'repeat': {
      if (!e.separator) return `{ ${ebnfInline(e.item)} }${e.min ? '+' : ''}`;
      const list = `${ebnfInline(e.item, true)} { ${ebnfInline(e.separator, true)} ${ebnfInline(e.item, true)} }`;
      return e.min ? list : `[ ${list} ]`;
    }
  }
}

/**
 * `e` laid out from column `col`, wrapped at WIDTH. The first line carries no indentation
 * (the caller has already placed it at `col`); later lines carry their own.
 */
function layout(e: Expr, col: number, grouped = false): string[] {
  const flat = ebnfInline(e, grouped);
  if (col + flat.length <= WIDTH) return [flat];
  const bracket = (open: string, inner: Expr, close: string) => {
    const lines = layout(inner, col + open.length);
    lines[0] = open + lines[0]!;
    lines[lines.length - 1] += close;
    return lines;
  };
  switch (e.kind) {
    case 'token':
    case 'rule':
      return [flat];
    case 'optional':
      return bracket('[ ', e.item, ' ]');
    case 'repeat':
      return e.separator ? [flat] : bracket('{ ', e.item, e.min ? ' }+' : ' }');
    case 'choice':
      return grouped ? bracket('( ', e, ' )') : layoutChoice(e.alts, col);
    case 'seq':
      return layoutSeq(e.items, col);
  }
}

/**
 * Alternatives: single words and rule names fill a line together; any other alternative
 * gets a line of its own. Continuation lines start with `| `, under the first alternative's
 * `(`, `{` or `=`.
 */
function layoutChoice(alts: Expr[], col: number): string[] {
  const pad = ' '.repeat(Math.max(0, col - 2));
  const lines: string[] = [];
  let filling = false; // the last line holds only single-word alternatives
  for (const alt of alts) {
    const simple = alt.kind === 'token' || alt.kind === 'rule';
    const last = lines.length - 1;
    const lastWidth = last === 0 ? col + lines[0]!.length : (lines[last]?.length ?? 0);
    if (simple && filling && lastWidth + 3 + ebnfInline(alt).length <= WIDTH) {
      lines[last] += ` | ${ebnfInline(alt)}`;
      continue;
    }
    const sub = layout(alt, col);
    if (lines.length === 0) lines.push(...sub);
    else lines.push(`${pad}| ${sub[0]}`, ...sub.slice(1));
    filling = simple;
  }
  return lines;
}

/** A sequence fills lines; an item too long for a line of its own is wrapped inside. */
function layoutSeq(items: Expr[], col: number): string[] {
  const pad = ' '.repeat(col);
  const lines: string[] = [''];
  const widthOf = (i: number) => (i === 0 ? col : 0) + lines[i]!.length;
  for (const item of items) {
    const text = ebnfInline(item, true);
    const last = lines.length - 1;
    const empty = last === 0 ? lines[0] === '' : lines[last] === pad;
    if (widthOf(last) + (empty ? 0 : 1) + text.length <= WIDTH) {
      lines[last] += (empty ? '' : ' ') + text;
      continue;
    }
    if (!empty) lines.push(pad);
    const sub = layout(item, col, true);
    lines[lines.length - 1] += sub[0]!;
    lines.push(...sub.slice(1));
  }
  return lines;
}

export function ebnfRule(rule: GrammarRule, recovery = false): string {
  const head = `${rule.name} = `;
  const expr = ruleExpr(rule, recovery);
  const flat = `${head + ebnfInline(expr)} ;`;
  if (flat.length <= WIDTH) return flat;
  const lines = layout(expr, head.length);
  return `${head + lines.join('\n')} ;`;
}

// ----- railroad diagrams -----------------------------------------------------------

/** The railroad element for an expression: the whole conversion, one case per kind. */
export function toRailroad(e: Expr): RailroadItem {
  switch (e.kind) {
    case 'token':
      return rr.Terminal(e.text);
    case 'rule':
      return rr.NonTerminal(e.name);
    case 'seq':
      return e.items.length === 0 ? rr.Skip() : rr.Sequence(...e.items.map(toRailroad));
    case 'choice':
      return rr.Choice(0, ...e.alts.map(toRailroad));
    case 'optional':
      return rr.Optional(toRailroad(e.item));
    case 'repeat': {
      const sep = e.separator ? toRailroad(e.separator) : undefined;
      return e.min ? rr.OneOrMore(toRailroad(e.item), sep) : rr.ZeroOrMore(toRailroad(e.item), sep);
    }
  }
}

let css: string | undefined;
/** The package's own stylesheet, put inside each SVG so it renders standalone (e.g. on GitHub). */
function railroadCss(): string {
  if (css === undefined) {
    const file = createRequire(import.meta.url).resolve('railroad-diagrams/railroad-diagrams.css');
    css = readFileSync(file, 'utf8').replace(/\r\n?/g, '\n').trim();
  }
  return css;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function railroadSvg(rule: GrammarRule): string {
  const expr = ruleExpr(rule);
  const items = expr.kind === 'seq' ? expr.items.map(toRailroad) : [toRailroad(expr)];
  const svg = rr.Diagram(...items).toString();
  const open = svg.indexOf('>');
  if (!svg.startsWith('<svg ') || open < 0) throw new Error(`unexpected railroad output for ${rule.name}`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg"${svg.slice(4, open + 1)}\n` +
    '<!-- Generated by scripts/docs.ts from grammar/src/parser.ts; do not edit. -->\n' +
    `<title>${escapeXml(rule.name)}</title>\n` +
    `<style>\n${railroadCss()}\n</style>${svg.slice(open + 1)}`
  );
}

// ----- docs/language.md ------------------------------------------------------------

const GENERATED = '<!-- Generated by `npm run docs` from grammar/src/parser.ts; do not edit by hand. -->';

export function grammarSection(rules: GrammarRule[] = parserRules()): string {
  const order = documentedRules(rules);
  const documented = order.map((r) => ebnfRule(r)).join('\n\n');
  const internal = rules.filter((r) => INTERNAL_RULES.has(r.name));
  const withRecovery = order
    .filter((r) => referencedRules(ruleExpr(r, true)).some((n) => INTERNAL_RULES.has(n)))
    .map((r) => `\`${r.name}\``);
  return [
    GENERATED,
    '',
    '```ebnf',
    documented,
    '```',
    '',
    '**Error recovery (not part of the language).** So that one bad line never derails the rest of the file, ' +
      `${withRecovery.join(', ')} also accept an \`unknownStatement\` where a statement may start: a line that ` +
      'begins with a word the block does not know, kept whole together with any `{ ... }` block after it, ' +
      "and reported as `unknown-statement` listing what the block allows. `file` also accepts an unmatched `'}'`, " +
      'reported as a syntax error. Those alternatives are left out above; the recovery rules themselves are:',
    '',
    '```ebnf',
    internal.map((r) => ebnfRule(r, true)).join('\n\n'),
    '```',
    '',
  ].join('\n');
}

export function railroadSection(rules: GrammarRule[] = parserRules()): string {
  return [GENERATED, '', ...documentedRules(rules).map((r) => `**${r.name}**\n\n![${r.name}](railroad/${r.name}.svg)\n`)].join('\n');
}

/** `text` with the part between the two markers replaced by `content`. */
export function replaceBetween(text: string, begin: string, end: string, content: string): string {
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b < 0 || e < 0 || e < b || text.indexOf(begin, b + 1) >= 0 || text.indexOf(end, e + 1) >= 0) {
    throw new Error(`${LANGUAGE_MD} must contain ${begin} and then ${end}, once each`);
  }
  return `${text.slice(0, b + begin.length)}\n${content}${text.slice(e)}`;
}

export interface Outputs {
  /** The new text of docs/language.md. */
  markdown: string;
  /** File name in docs/railroad/ -> SVG text. */
  svgs: Map<string, string>;
}

/** Everything the generator writes, computed from the parser and the current language.md. */
export function generate(markdown: string, rules: GrammarRule[] = parserRules()): Outputs {
  let md = markdown.replace(/\r\n?/g, '\n');
  md = replaceBetween(md, '<!-- grammar:begin -->', '<!-- grammar:end -->', grammarSection(rules));
  md = replaceBetween(md, '<!-- railroad:begin -->', '<!-- railroad:end -->', railroadSection(rules));
  const svgs = new Map(documentedRules(rules).map((r) => [`${r.name}.svg`, railroadSvg(r)]));
  return { markdown: md, svgs };
}

/** The generated files that differ from disk (or are missing, or are left over), as paths from the root. */
export function staleOutputs(root = ROOT): string[] {
  const mdPath = join(root, LANGUAGE_MD);
  const current = readFileSync(mdPath, 'utf8');
  const out = generate(current);
  const stale: string[] = [];
  if (out.markdown !== current) stale.push(LANGUAGE_MD);
  const dir = join(root, RAILROAD_DIR);
  for (const [file, svg] of out.svgs) {
    const p = join(dir, file);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== svg) stale.push(`${RAILROAD_DIR}/${file}`);
  }
  for (const file of existingSvgs(dir)) {
    if (!out.svgs.has(file)) stale.push(`${RAILROAD_DIR}/${file} (no such rule any more)`);
  }
  return stale;
}

function existingSvgs(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.svg'))
        .sort()
    : [];
}

/** Writes every output; returns the paths that changed. */
export function writeOutputs(root = ROOT): string[] {
  const stale = staleOutputs(root);
  const mdPath = join(root, LANGUAGE_MD);
  const out = generate(readFileSync(mdPath, 'utf8'));
  writeFileSync(mdPath, out.markdown);
  const dir = join(root, RAILROAD_DIR);
  mkdirSync(dir, { recursive: true });
  for (const [file, svg] of out.svgs) writeFileSync(join(dir, file), svg);
  for (const file of existingSvgs(dir)) if (!out.svgs.has(file)) unlinkSync(join(dir, file));
  return stale;
}

function main(argv: string[]): number {
  if (argv.includes('--check')) {
    const stale = staleOutputs();
    if (stale.length === 0) {
      console.log('docs: grammar and railroad diagrams are up to date');
      return 0;
    }
    console.error('docs: out of date (run `npm run docs`):');
    for (const s of stale) console.error(`  ${s}`);
    return 1;
  }
  const changed = writeOutputs();
  console.log(changed.length ? `docs: updated ${changed.length} file(s):\n  ${changed.join('\n  ')}` : 'docs: nothing to update');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}

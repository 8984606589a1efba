/**
 * Content assist: what the grammar allows at a position, for completion. It asks the
 * parser's own grammar (chevrotain's `computeContentAssist`), so completion never drifts
 * from what parses. Statements are line-based, so the parser is only given the current
 * statement, started at that statement's own rule; the enclosing blocks are found by brace
 * matching in one pass over the characters before the cursor, and each block's body rule
 * from the statement that opened it. Only those statements are lexed, so the cost is that
 * pass plus a few statement-sized content-assist runs, whatever the size of the file.
 * No chevrotain type leaves this module.
 */
import { tokenMatcher, type IProduction, type IToken, type Rule } from 'chevrotain';
import type { Span } from './ast';
import { ALL_KEYWORDS } from './keywords';
import { Bdf, Dot, LBrace, lex, MAX_NESTING, Newline, NumberLit, Word } from './lexer';
import { ENUMS, type EnumName, parserInstance } from './parser';

/** A keyword the grammar accepts next. */
export interface AssistKeyword {
  text: string;
  /** The rule that consumes it: the statement rule for a statement keyword (`assignStmt`), or e.g. `machineOption`. */
  rule: string;
  /** Set when the keyword is one value of an enumeration (`regionType`, `tdispMessage`, ...). */
  enumName?: EnumName;
}

/** A place where a word that is not a keyword may come next: a name, an SMMU opcode, a bit, ... */
export interface WordSlot {
  /** The rules from the current statement's rule down to the one taking the word, e.g. `['migrateStep', 'ref']`. */
  ruleStack: string[];
  /** The occurrence of each rule of `ruleStack` in its parent (`SUBRULE2` is 2): tells `migrate G to P`'s two refs apart. */
  occurrences: number[];
  /** The label the grammar gives the word (`opcode`, `operand`, `bits`, `service`), if any. */
  label?: string;
  /** In `epyc-b.<|>`: the qualifier already written (`epyc-b`). */
  qualifier?: string;
}

/** A block around the cursor: its body rule and the words of the statement that opened it. */
export interface EnclosingBlock {
  /** `platformBody`, `guestBody`, ...; for a block without a body rule (a `pool`), the statement's rule. */
  rule: string;
  /** The opening statement as written, e.g. `['guest', 'vm1', 'on', 'epyc-a']`. */
  words: string[];
  /** Where the opening statement starts. */
  start: number;
}

export interface Assist {
  /** The part of a word before the cursor (empty between words). */
  prefix: string;
  /** What a completion replaces: the whole word around the cursor, or an empty span at it. */
  replace: Span;
  /** The blocks around the cursor, outermost first (empty at the top level). */
  blocks: EnclosingBlock[];
  /** The innermost block's rule, or `file`. */
  block: string;
  /** The words of the current statement before the prefix (in a `pool`, the members so far). */
  statement: string[];
  /** The rule of the current statement, when it has started and the block knows it. */
  statementRule?: string;
  keywords: AssistKeyword[];
  slots: WordSlot[];
}

/** Statements longer than this are not given to the parser (no real statement is). */
const MAX_STATEMENT_TOKENS = 256;

const KEYWORDS: ReadonlySet<string> = new Set(ALL_KEYWORDS);
const ENUM_NAMES: ReadonlySet<string> = new Set(Object.keys(ENUMS));

/**
 * What may come at `offset` of `text`; undefined where nothing can be completed: inside a
 * comment, after a number or BDF being typed, inside a block the grammar does not know.
 */
export function assistAt(text: string, offset: number): Assist | undefined {
  const at = Math.max(0, Math.min(offset, text.length));
  const shape = scan(text, at);
  if (!shape) return undefined;

  // The statement is lexed up to the cursor, so the word under it is cut there: the prefix.
  let stmt = lexSlice(text, shape.statementStart, at);
  let prefix = '';
  let start = at;
  const last = stmt[stmt.length - 1];
  if (last && last.startOffset + last.image.length === at) {
    if (isWord(last)) {
      prefix = last.image;
      start = last.startOffset;
      stmt = stmt.slice(0, -1);
    } else if (last.tokenType === NumberLit || last.tokenType === Bdf) return undefined;
  }
  const replace = { start, end: prefix ? wordEnd(text, at) : at };

  const blocks: EnclosingBlock[] = [];
  let body = 'file';
  for (const [k, open] of shape.open.entries()) {
    const opener = lexSlice(text, open.openerStart, open.brace).filter((t) => t.tokenType !== Newline);
    const rule = opener.length ? statementRule(body, opener[0]!) : undefined;
    const inner = rule && bodyOpenedBy(rule, opener);
    if (!inner || inner === 'strayBlock') return undefined;
    blocks.push({ rule: inner, words: opener.map((t) => t.image), start: opener[0]!.startOffset });
    body = inner;
    if (inner === rule) {
      // A block written inline in its statement (`pool NAME { ... }`): the statement runs on
      // from its keyword to the cursor.
      if (k !== shape.open.length - 1) return undefined;
      const whole = lexSlice(text, open.openerStart, start);
      const words = whole.filter((t) => t.startOffset > open.brace && isWord(t)).map((t) => t.image);
      return { prefix, replace, blocks, block: body, statement: words, statementRule: rule, ...suggestions(rule, whole, 0) };
    }
  }

  const base = { prefix, replace, blocks, block: body, statement: stmt.map((t) => t.image) };
  if (stmt.length === 0) {
    // At the start of a statement: what the block's body accepts, minus the rest of the
    // body rule's alternatives (separators, `}`, the unknown-statement catch-all).
    return { ...base, ...suggestions(body, body === 'file' ? [] : [syntheticBrace()], 1) };
  }
  const rule = statementRule(body, stmt[0]!);
  if (!rule || stmt.length > MAX_STATEMENT_TOKENS) return { ...base, keywords: [], slots: [] };
  return { ...base, statementRule: rule, ...suggestions(rule, stmt, 0) };
}

interface Shape {
  /** The `{` still open at the cursor, outermost first, each with where the statement that opened it starts. */
  open: { brace: number; openerStart: number }[];
  /** Where the statement the cursor is in starts. */
  statementStart: number;
}

/**
 * One pass over the characters before the cursor, following only what shapes statements
 * and blocks: comments, braces, `;` and line breaks (as the lexer reads them). Much cheaper
 * than lexing it all; only the statements that matter are lexed. Undefined when the cursor
 * is inside a comment.
 */
function scan(text: string, at: number): Shape | undefined {
  const open: Shape['open'] = [];
  let dropped = 0; // braces past MAX_NESTING, which the lexer drops too
  let start = 0; // of the current statement
  let content = false; // whether it has more than blanks and comments
  let previous: number | undefined; // start of a statement with content ended by line breaks only
  const boundary = (i: number) => {
    start = i;
    content = false;
  };
  const lineBreak = (i: number) => {
    if (content) previous = start;
    boundary(i);
  };
  const hard = (i: number) => {
    previous = undefined;
    boundary(i);
  };
  for (let i = 0; i < at; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      const nl = lineEnd(text, i, at);
      if (nl >= at) return undefined;
      i = nl - 1;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a /* * */) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0 || close + 2 > at) return undefined;
      // A block comment that spans lines ends the statement, as the line break it hides.
      if (lineEnd(text, i, close) < close) lineBreak(close + 2);
      i = close + 1;
    } else if (c === 0x0a || c === 0x0d) {
      lineBreak(i + 1);
    } else if (c === 0x3b /* ; */) {
      hard(i + 1);
    } else if (c === 0x7b /* { */) {
      if (open.length >= MAX_NESTING) dropped++;
      else open.push({ brace: i, openerStart: content ? start : (previous ?? start) });
      hard(i + 1);
    } else if (c === 0x7d /* } */) {
      if (dropped > 0) dropped--;
      else open.pop();
      hard(i + 1);
    } else if (!content && !/\s/.test(text[i]!)) {
      content = true;
    }
  }
  return { open, statementStart: start };
}

/** The first line break in `text[from, to)`, or `to`. */
function lineEnd(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) return i;
  }
  return to;
}

/** The tokens of `text[from, to)`, with offsets into the whole text. */
function lexSlice(text: string, from: number, to: number): IToken[] {
  const { tokens } = lex(text.slice(from, to));
  for (const t of tokens) {
    t.startOffset += from;
    if (t.endOffset !== undefined) t.endOffset += from;
  }
  return tokens;
}

/** Runs content assist from `rule` over `preceding`; `drop` leading rule-stack entries are removed (the body). */
function suggestions(rule: string, preceding: IToken[], drop: number): { keywords: AssistKeyword[]; slots: WordSlot[] } {
  const keywords: AssistKeyword[] = [];
  const slots: WordSlot[] = [];
  const seen = new Set<string>();
  const n = preceding.length;
  const qualifier = n >= 2 && preceding[n - 1]!.tokenType === Dot && isWord(preceding[n - 2]!) ? preceding[n - 2]!.image : undefined;
  for (const path of parserInstance().computeContentAssist(rule, preceding)) {
    const ruleStack = path.ruleStack.slice(drop);
    const occurrences = path.occurrenceStack.slice(drop);
    const inner = ruleStack[ruleStack.length - 1];
    if (!inner || ruleStack.includes('unknownStatement') || ruleStack.includes('strayBlock')) continue;
    const token = path.nextTokenType.name;
    const label = labelOf(inner, token, path.nextTokenOccurrence);
    const key = `${token}|${ruleStack.join('/')}|${occurrences.join('/')}|${path.nextTokenOccurrence}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (KEYWORDS.has(token)) {
      keywords.push({ text: token, rule: inner, ...(label && ENUM_NAMES.has(label) ? { enumName: label as EnumName } : {}) });
    } else if (token === Word.name) {
      slots.push({
        ruleStack,
        occurrences,
        ...(label ? { label } : {}),
        ...(qualifier && inner === 'ref' ? { qualifier } : {}),
      });
    }
  }
  return { keywords, slots };
}

function isWord(t: IToken): boolean {
  return tokenMatcher(t, Word);
}

/** The end of the word the cursor is in (names are letters, digits, `_` and `-`). */
function wordEnd(text: string, at: number): number {
  let i = at;
  while (i < text.length && /[A-Za-z0-9_-]/.test(text[i]!)) i++;
  return i;
}

/** The rule the path expecting `{` after `opener` is in: the body rule, or the statement's own rule. */
function bodyOpenedBy(rule: string, opener: IToken[]): string | undefined {
  if (opener.length > MAX_STATEMENT_TOKENS) return undefined;
  const path = parserInstance()
    .computeContentAssist(rule, opener)
    .find((p) => p.nextTokenType === LBrace);
  return path?.ruleStack[path.ruleStack.length - 1];
}

function syntheticBrace(): IToken {
  return {
    image: '{',
    startOffset: 0,
    endOffset: 0,
    startLine: 1,
    startColumn: 1,
    endLine: 1,
    endColumn: 1,
    tokenType: LBrace,
    tokenTypeIdx: LBrace.tokenTypeIdx!,
  };
}

// ----- reading the grammar ---------------------------------------------------------
// GAST nodes are recognised by shape, as in vocabulary.ts (no `instanceof` across copies).

type Prod = IProduction & {
  nonTerminalName?: string;
  terminalType?: { name: string };
  definition?: Prod[];
  idx?: number;
  label?: string;
};

const isTerminal = (p: Prod) => p.terminalType !== undefined;
const isNonTerminal = (p: Prod) => typeof p.nonTerminalName === 'string';
const isAlternation = (p: Prod) => p.constructor.name === 'Alternation';
/** Option and the repetitions: their content may be skipped. */
const isOptional = (p: Prod) => /^(Option|Repetition)/.test(p.constructor.name);

let rulesCache: Map<string, Rule> | undefined;
function rules(): Map<string, Rule> {
  return (rulesCache ??= new Map(Object.entries(parserInstance().getGAstProductions())));
}

let statementCache: Map<string, Map<string, string>> | undefined;

/** The statement rule a block's statement starting with `first` belongs to (`platformBody` + `iommu` → `iommuDecl`). */
function statementRule(body: string, first: IToken): string | undefined {
  if (!statementCache) {
    statementCache = new Map();
    for (const [name, rule] of rules()) {
      if (name !== 'file' && !name.endsWith('Body')) continue;
      const byToken = new Map<string, string>();
      const visit = (p: Prod): void => {
        if (isNonTerminal(p)) {
          if (p.nonTerminalName === 'unknownStatement' || p.nonTerminalName === 'strayBlock') return;
          for (const t of firstTokens(rules().get(p.nonTerminalName!)!.definition as Prod[], new Set())) byToken.set(t, p.nonTerminalName!);
        } else if (!isTerminal(p)) p.definition?.forEach(visit);
      };
      (rule.definition as Prod[]).forEach(visit);
      statementCache.set(name, byToken);
    }
  }
  const byToken = statementCache.get(body);
  return byToken?.get(first.tokenType.name) ?? (isWord(first) ? byToken?.get(Word.name) : undefined);
}

/** The token names a sequence of productions can start with. */
function firstTokens(seq: Prod[], visiting: Set<string>): string[] {
  const out: string[] = [];
  for (const p of seq) {
    if (isTerminal(p)) {
      out.push(p.terminalType!.name);
      return out;
    }
    if (isNonTerminal(p)) {
      if (visiting.has(p.nonTerminalName!)) return out;
      out.push(...firstTokens(rules().get(p.nonTerminalName!)!.definition as Prod[], new Set([...visiting, p.nonTerminalName!])));
      return out;
    }
    if (isAlternation(p)) {
      for (const alt of p.definition ?? []) out.push(...firstTokens(alt.definition ?? [], visiting));
      return out;
    }
    out.push(...firstTokens(p.definition ?? [], visiting));
    if (!isOptional(p)) return out;
  }
  return out;
}

let labelCache: Map<string, Map<string, string>> | undefined;

/** The LABEL of a rule's terminal (`oneOf` labels keywords with their enumeration's name). */
function labelOf(rule: string, token: string, occurrence: number): string | undefined {
  if (!labelCache) {
    labelCache = new Map();
    for (const [name, r] of rules()) {
      const labels = new Map<string, string>();
      const visit = (p: Prod): void => {
        if (isTerminal(p)) {
          if (p.label) labels.set(`${p.terminalType!.name}#${p.idx ?? 0}`, p.label);
        } else if (!isNonTerminal(p)) p.definition?.forEach(visit);
      };
      (r.definition as Prod[]).forEach(visit);
      labelCache.set(name, labels);
    }
  }
  return labelCache.get(rule)?.get(`${token}#${occurrence}`);
}

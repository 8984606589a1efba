/**
 * Semantic tokens: names by what they name (from the model), keywords, enumerated values,
 * numbers, `..` and comments (from the lexer). A word used as a name is the name even when
 * it is spelt like a keyword (a device called `msi`). Tokens are returned with spans; the
 * lsp layer encodes them with `encodeSemanticTokens` (LSP's relative format, one token per
 * line since many clients do not support multi-line tokens).
 *
 * A name's token type is its kind's look (kindLooks.ts for the core's kinds, each domain's
 * `looks` for its own).
 *
 * A name where it is declared has `declaration`, and also `definition` for the global
 * kinds (the names other files use). Enumerated values (region types, IOMMU kinds, modes:
 * the parser's ENUMS) are `enumMember` with `defaultLibrary`; other keywords `keyword`;
 * numbers and BDFs `number`; `..` `operator`. Words that are neither (quirks, register bits,
 * unresolved names) get no token, so the TextMate grammar colours them.
 */
import { ALL_KEYWORDS, ENUMS, lex, type Node, type SourceFile, type Span } from '@iommu-lens/grammar';
import { looksOf, type Analysis } from './analysis';
import { SEMANTIC_TOKEN_TYPES, type SemanticTokenType } from './kindLooks';
import type { LineIndex } from './positions';
import { astChildren } from '@iommu-lens/grammar';
import { namesIn } from './navigation';

export { SEMANTIC_TOKEN_TYPES, type SemanticTokenType };

export const SEMANTIC_TOKEN_MODIFIERS = ['declaration', 'definition', 'readonly', 'defaultLibrary'] as const;

export type SemanticTokenModifier = (typeof SEMANTIC_TOKEN_MODIFIERS)[number];

export interface SemanticToken {
  span: Span;
  type: SemanticTokenType;
  modifiers: SemanticTokenModifier[];
}

const KEYWORDS: ReadonlySet<string> = new Set(ALL_KEYWORDS);
const ENUM_VALUES: ReadonlySet<string> = new Set(Object.values(ENUMS).flat());
/** AST fields that hold a name (declared or referenced), never a keyword or value. */
const NAME_FIELDS: ReadonlySet<string> = new Set(['name', 'qualifier', 'eventName']);
/** AST fields whose words are a statement's own keywords, never values. */
const KEYWORD_FIELDS: ReadonlySet<string> = new Set(['head', 'key', 'verb', 'opcode']);

/**
 * The tokens of one file, sorted and disjoint; within `range` if given. Reads the file's
 * parse and text from `a`, so the file must not have changed since `a` was computed (the
 * server analyses first, as for hovers), or names land on the wrong words.
 */
export function semanticTokens(a: Analysis, uri: string, range?: Span): SemanticToken[] {
  let files = tokensCache.get(a);
  if (!files) tokensCache.set(a, (files = new Map()));
  let all = files.get(uri);
  if (!all) files.set(uri, (all = fileTokens(a, uri)));
  return range ? all.filter((t) => t.span.end > range.start && t.span.start < range.end) : all;
}

/** Tokens per analysis and file: a full request and the range requests around it share them. */
const tokensCache = new WeakMap<Analysis, Map<string, SemanticToken[]>>();

function fileTokens(a: Analysis, uri: string): SemanticToken[] {
  const ast = a.ast(uri);
  // A file over the size limit was not parsed; lexing it here would cost what the limit saves.
  if (!ast || a.findings.get(uri)?.some((f) => f.code === 'file-too-large')) return [];
  const text = a.lineIndex(uri).text;
  // Lower rank wins where tokens overlap: a declaration over a use of the same span
  // (an `on event E` both declares and uses E), any name over a keyword.
  const ranked: { token: SemanticToken; rank: number }[] = [];
  const add = (span: Span, type: SemanticTokenType, modifiers: SemanticTokenModifier[], rank: number) => {
    if (span.start < span.end && span.end <= text.length) ranked.push({ token: { span, type, modifiers }, rank });
  };

  const { refs, syms } = namesIn(a, uri);
  const looks = looksOf(a.domains);
  for (const s of syms) {
    const mods: SemanticTokenModifier[] = ['declaration'];
    if (a.model.kinds[s.kind].global) mods.push('definition');
    if (s.kind === 'reserved') mods.push('readonly');
    add(s.nameSpan, looks[s.kind].token, mods, 0);
  }
  for (const r of refs) add(r.span, looks[r.target.kind].token, r.target.kind === 'reserved' ? ['readonly'] : [], 1);

  const { names, values } = wordRoles(ast);
  const lexed = lex(text);
  for (const t of lexed.tokens) {
    const span = { start: t.startOffset, end: t.startOffset + t.image.length };
    const kind = t.tokenType.name;
    if (kind === 'Number' || kind === 'Bdf') add(span, 'number', [], 2);
    else if (kind === 'DotDot') add(span, 'operator', [], 2);
    else if (KEYWORDS.has(kind)) {
      // The lexer names keyword tokens after their keyword; one where a name goes is a name.
      if (values.has(span.start) && ENUM_VALUES.has(t.image)) add(span, 'enumMember', ['defaultLibrary'], 2);
      else if (!names.has(span.start)) add(span, 'keyword', [], 2);
    }
  }
  for (const c of lexed.comments) add({ start: c.startOffset, end: c.startOffset + c.image.length }, 'comment', [], 2);

  ranked.sort((x, y) => x.token.span.start - y.token.span.start || x.rank - y.rank);
  const out: SemanticToken[] = [];
  let end = 0;
  for (const { token } of ranked) {
    if (token.span.start < end) continue;
    end = token.span.end;
    out.push(token);
  }
  return out;
}

/** Where the AST has words in name positions and in value positions (start offsets). */
function wordRoles(ast: SourceFile): { names: Set<number>; values: Set<number> } {
  const names = new Set<number>();
  const values = new Set<number>();
  const visit = (node: Node, key: string) => {
    if (typeof (node as { text?: unknown }).text === 'string') {
      if (NAME_FIELDS.has(key)) names.add(node.span.start);
      else if (!KEYWORD_FIELDS.has(key)) values.add(node.span.start);
      return;
    }
    for (const c of astChildren(node)) visit(c.node, c.key);
  };
  for (const d of ast.decls) visit(d, 'decls');
  return { names, values };
}

/**
 * LSP's relative encoding: five numbers per token (delta line, delta start character,
 * length, type index, modifier bits). A token that spans lines (a block comment) becomes
 * one token per line, without the line breaks; empty lines get none.
 */
export function encodeSemanticTokens(tokens: readonly SemanticToken[], lines: LineIndex): number[] {
  const data: number[] = [];
  let prevLine = 0,
    prevChar = 0;
  const emit = (line: number, char: number, length: number, type: number, mods: number) => {
    if (length <= 0) return;
    data.push(line - prevLine, line === prevLine ? char - prevChar : char, length, type, mods);
    prevLine = line;
    prevChar = char;
  };
  const text = lines.text;
  for (const t of tokens) {
    const type = SEMANTIC_TOKEN_TYPES.indexOf(t.type);
    let mods = 0;
    for (const m of t.modifiers) mods |= 1 << SEMANTIC_TOKEN_MODIFIERS.indexOf(m);
    const start = lines.position(t.span.start);
    const end = lines.position(t.span.end);
    for (let line = start.line; line <= end.line; line++) {
      const from = line === start.line ? t.span.start : lines.offset({ line, character: 0 });
      let to = line === end.line ? t.span.end : lines.offset({ line: line + 1, character: 0 });
      while (to > from && (text[to - 1] === '\n' || text[to - 1] === '\r')) to--;
      emit(line, line === start.line ? start.character : 0, to - from, type, mods);
    }
  }
  return data;
}

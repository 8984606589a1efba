/**
 * The token types: the lexer's own and, made by the lexer from every keyword list, one per
 * keyword. A module of its own, importing nothing of the grammar, so the domains' rules can
 * use tokens while the lexer takes its keywords from the domains' registry.
 */
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED });
export const Newline = createToken({ name: 'Newline', pattern: /\r\n?|\n/, label: 'end of line', line_breaks: true });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\r\n]*/, group: 'comments' });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: 'comments', line_breaks: true });
/** A `/*` with no closing `*\/`: swallows the rest of the file and is reported. */
export const UnterminatedComment = createToken({
  name: 'UnterminatedComment',
  pattern: /\/\*[\s\S]*/,
  group: 'comments',
  line_breaks: true,
});
export const LBrace = createToken({ name: 'LBrace', pattern: '{', label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: '}', label: "'}'" });
export const Semi = createToken({ name: 'Semi', pattern: ';', label: "';'" });
export const Comma = createToken({ name: 'Comma', pattern: ',', label: "','" });
export const DotDot = createToken({ name: 'DotDot', pattern: '..', label: "'..'" });
export const Dot = createToken({ name: 'Dot', pattern: '.', label: "'.'" });
/** `SSSS:BB:DD.F` or `BB:DD.F`, lexed loosely (any hex digits) and checked by the model. */
export const Bdf = createToken({
  name: 'Bdf',
  pattern: /(?:[0-9a-fA-F]+:)?[0-9a-fA-F]+:[0-9a-fA-F]+\.[0-9a-fA-F]+/,
  label: 'a BDF (SSSS:BB:DD.F)',
});
export const NumberLit = createToken({ name: 'Number', pattern: /0[xX][0-9a-zA-Z_]*|[0-9][0-9a-zA-Z_]*/, label: 'a number' });
export const Word = createToken({ name: 'Word', pattern: /[A-Za-z][A-Za-z0-9_-]*/, label: 'a name' });
/** Anything else is one bad character; it becomes a lexer error, not an exception. */

const keywordTokens = new Map<string, TokenType>();

/** Makes the token type of each keyword not made yet (the lexer does, for all of them, when it loads). */
export function defineKeywords(words: Iterable<string>): ReadonlyMap<string, TokenType> {
  for (const w of words) {
    if (!keywordTokens.has(w)) keywordTokens.set(w, createToken({ name: w, pattern: Lexer.NA, categories: [Word], label: `'${w}'` }));
  }
  return keywordTokens;
}

/** The token type of keyword `text`; throws for a word that is not a keyword (a bug). */
export function kw(text: string): TokenType {
  const t = keywordTokens.get(text);
  if (!t) throw new Error(`not a keyword: ${text}`);
  return t;
}

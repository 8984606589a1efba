/**
 * The .iommu lexer. Statements end at the end of a line, so newlines are tokens.
 * Numbers are lexed liberally (`12_000`, `0xfee0_0000`, `512G`, even `1__0` or `0x12Q`)
 * and validated by the model, which can then say exactly what is wrong with one.
 */
import { Lexer, type IToken, type TokenType } from 'chevrotain';
import { ALL_KEYWORDS } from './keywords';
import {
  Bdf,
  BlockComment,
  Comma,
  defineKeywords,
  Dot,
  DotDot,
  LBrace,
  LineComment,
  Newline,
  NumberLit,
  RBrace,
  Semi,
  UnterminatedComment,
  WhiteSpace,
  Word,
} from './tokens';

export {
  Bdf,
  BlockComment,
  Comma,
  Dot,
  DotDot,
  kw,
  LBrace,
  LineComment,
  Newline,
  NumberLit,
  RBrace,
  Semi,
  UnterminatedComment,
  WhiteSpace,
  Word,
} from './tokens';

/** The keywords' token types, made here from every keyword list (the core's and the domains'). */
const keywordTokens = defineKeywords(ALL_KEYWORDS);

export const lexerTokens: TokenType[] = [
  WhiteSpace,
  Newline,
  LineComment,
  BlockComment,
  UnterminatedComment,
  LBrace,
  RBrace,
  Semi,
  Comma,
  DotDot,
  Dot,
  Bdf,
  NumberLit,
  Word,
];

/** Every token type the parser knows: the lexer's plus the keywords. */
export const allTokens: TokenType[] = [...lexerTokens, ...keywordTokens.values()];

const lexer = new Lexer(lexerTokens, {
  ensureOptimizations: true,
  positionTracking: 'full',
});
// Keyword tokens are not in the lexer's list, so their category maps are built here.
// (The parser does the same for its vocabulary; building them twice is harmless.)
new Lexer(allTokens, { positionTracking: 'onlyOffset' });

export interface LexError {
  offset: number;
  length: number;
  message: string;
  code: 'invalid-character' | 'unterminated-comment' | 'syntax-error';
}

/**
 * Blocks nest at most 4 deep in the language (firmware > driver > handler > actions).
 * Braces past this depth are dropped before parsing, so no input can recurse the
 * parser off the stack.
 */
export const MAX_NESTING = 32;

export interface LexResult {
  tokens: IToken[];
  comments: IToken[];
  errors: LexError[];
}

export function lex(text: string): LexResult {
  const result = lexer.tokenize(text);
  const errors: LexError[] = result.errors.map((e) => ({
    offset: e.offset,
    length: e.length,
    code: 'invalid-character' as const,
    message: `unexpected character${e.length > 1 ? 's' : ''} '${printable(text.substr(e.offset, Math.min(e.length, 20)))}'`,
  }));
  const comments = result.groups.comments ?? [];
  let tokens = result.tokens;
  for (const t of tokens) {
    if (t.tokenType === Word) {
      const k = keywordTokens.get(t.image);
      if (k) {
        t.tokenType = k;
        t.tokenTypeIdx = k.tokenTypeIdx!;
      }
    }
  }
  // A block comment that spans lines ends the statement before it, like the newline it hides.
  const breaking: IToken[] = [];
  for (const c of comments) {
    if (c.tokenType === UnterminatedComment) {
      errors.push({ offset: c.startOffset, length: 2, code: 'unterminated-comment', message: "'/*' comment is never closed with '*/'" });
    }
    if (/[\r\n]/.test(c.image)) breaking.push(syntheticNewline(c));
  }
  if (breaking.length) tokens = mergeByOffset(tokens, breaking);
  return { tokens: limitNesting(tokens, errors), comments, errors };
}

/** Drops `{` past MAX_NESTING (and the `}` that close them), reporting the first. */
function limitNesting(tokens: IToken[], errors: LexError[]): IToken[] {
  let depth = 0;
  let dropped = 0;
  const out: IToken[] = [];
  for (const t of tokens) {
    if (t.tokenType === LBrace) {
      if (depth >= MAX_NESTING) {
        if (dropped === 0) {
          errors.push({
            offset: t.startOffset,
            length: 1,
            code: 'syntax-error',
            message: `blocks are nested more than ${MAX_NESTING} deep; the braces past that depth are ignored`,
          });
        }
        dropped++;
        continue;
      }
      depth++;
    } else if (t.tokenType === RBrace) {
      if (dropped > 0) {
        dropped--;
        continue;
      }
      if (depth > 0) depth--;
    }
    out.push(t);
  }
  return out;
}

function syntheticNewline(c: IToken): IToken {
  return {
    image: c.image,
    startOffset: c.startOffset,
    endOffset: c.endOffset,
    startLine: c.startLine,
    startColumn: c.startColumn,
    endLine: c.endLine,
    endColumn: c.endColumn,
    tokenType: Newline,
    tokenTypeIdx: Newline.tokenTypeIdx!,
  };
}

function mergeByOffset(a: IToken[], b: IToken[]): IToken[] {
  const out: IToken[] = [];
  let i = 0,
    j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.startOffset < b[j]!.startOffset)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The grammar package's entry point: text in, AST and syntax diagnostics out. */
import type { CstNode, IRecognitionException, IToken } from 'chevrotain';
import { EOF } from 'chevrotain';
import { makeSpan, type SourceFile, type SyntaxDiagnostic } from './ast';
import { AstBuilder, tokenSpan } from './build';
import { withSpanBase } from './cst';
import { lex } from './lexer';
import { parserInstance } from './parser';
import { statementKeywordsByBlock } from './vocabulary';

/** At most this many syntax diagnostics per file; past it the rest are counted. */
const MAX_PARSE_ERRORS = 200;

export function parse(text: string): SourceFile {
  const file = parseUncapped(text);
  file.diagnostics = capDiagnostics(file.diagnostics);
  return file;
}

/**
 * `parse` without the cap on diagnostics: the host parses a file's top-level declarations
 * apart (grammar/src/chunks.ts) and caps the joined list, so the cap counts the whole file.
 */
export function parseUncapped(text: string, base = 0): SourceFile {
  const lexed = lex(text);
  // Parsed where it stands in its file (a declaration of the host's, grammar/src/chunks.ts):
  // its tokens moved, every span comes out moved, with no copy of the AST to make.
  if (base) for (const list of [lexed.tokens, lexed.comments]) for (const t of list) moveToken(t, base);
  const parser = parserInstance();
  parser.input = lexed.tokens;
  const cst: CstNode = parser.file();
  const diagnostics: SyntaxDiagnostic[] = lexed.errors.map((e) => ({
    code: e.code,
    message: e.message,
    span: makeSpan(base + e.offset, base + e.offset + e.length),
  }));
  const builder = new AstBuilder(statementKeywordsByBlock());
  const decls = withSpanBase(base, () => builder.file(cst));
  const unclosed = builder.diagnostics.some((d) => d.code === 'unclosed-block');
  for (const err of parser.errors) {
    // A block still open at the end of the file is reported once, at its '{'.
    if (unclosed && err.token.tokenType === EOF) continue;
    diagnostics.push({ code: 'syntax-error', message: err.message, span: errorSpan(err, base + text.length) });
  }
  diagnostics.push(...builder.diagnostics);
  diagnostics.sort((a, b) => a.span.start - b.span.start || rank(a) - rank(b) || a.span.end - b.span.end);
  return {
    decls,
    comments: lexed.comments.map(tokenSpan),
    diagnostics: dropCascades(diagnostics, text, base),
    length: text.length,
  };
}

function moveToken(t: IToken, by: number): void {
  t.startOffset += by;
  if (t.endOffset !== undefined) t.endOffset += by;
}

/** A file of garbage gets a readable number of diagnostics and a count of the rest. */
export function capDiagnostics(sorted: SyntaxDiagnostic[]): SyntaxDiagnostic[] {
  if (sorted.length <= MAX_PARSE_ERRORS) return sorted;
  const shown = sorted.slice(0, MAX_PARSE_ERRORS);
  const next = sorted[MAX_PARSE_ERRORS]!;
  shown.push({ code: 'syntax-error', span: next.span, message: `${sorted.length - MAX_PARSE_ERRORS} more syntax errors not shown` });
  return shown;
}

/**
 * After a syntax error, chevrotain resumes mid-line; what it then reads as another
 * statement on the same line is noise, so it is not reported.
 */
function dropCascades(sorted: SyntaxDiagnostic[], text: string, base: number): SyntaxDiagnostic[] {
  const out: SyntaxDiagnostic[] = [];
  let lastError = -1;
  for (const d of sorted) {
    const cascade =
      (d.code === 'unknown-statement' || d.code === 'missing-separator') &&
      lastError >= 0 &&
      !/[\r\n]/.test(text.slice(lastError - base, d.span.start - base));
    if (cascade) continue;
    if (d.code === 'syntax-error' || d.code === 'invalid-character') lastError = d.span.start;
    out.push(d);
  }
  return out;
}

/** At one offset the real error comes first, so what it causes can be recognised. */
function rank(d: SyntaxDiagnostic): number {
  return d.code === 'syntax-error' || d.code === 'invalid-character' ? 0 : 1;
}

function errorSpan(err: IRecognitionException, length: number) {
  const t = err.token;
  if (t.tokenType === EOF || !Number.isFinite(t.startOffset)) {
    // Chevrotain reports "end of file" at the previous token; point at the end instead.
    return { start: length, end: length };
  }
  if (t.tokenType.name === 'Newline') return makeSpan(t.startOffset, t.startOffset);
  return tokenSpan(t);
}

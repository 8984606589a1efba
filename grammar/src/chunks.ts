/**
 * A file's top level split into chunks the host parses apart: each ends after the line on
 * which its braces close (depth back to 0 at a line end, outside comments), so the
 * comments and blank lines before a declaration go with it. The top level is a sequence
 * of declarations, so parsing the chunks one by one reads the same tokens in the same
 * parser state as parsing the file; the host still parses the file whole when a chunk's
 * parse ran into its end (see `chunkIsClean`). Scans characters, not tokens: lexing a
 * 100k-line file per keystroke would cost what the split saves.
 */
import type { SourceFile, Span, SyntaxDiagnostic } from './ast';
import { makeSpan } from './ast';

/**
 * The offsets where chunks start (the first is 0), or undefined when the braces do not
 * balance (a `}` with no `{`): the host then parses the file whole.
 */
export function chunkStarts(text: string): number[] | undefined {
  const starts = [0];
  const end = scanChunks(text, 0, (start) => {
    starts.push(start);
    return false;
  });
  return end === 'unbalanced' ? undefined : starts;
}

/**
 * The scan `chunkStarts` makes, from the chunk start `from`: `boundary` hears each chunk start
 * after it and stops the scan by returning true (ide/resplit.ts stops where an unchanged
 * tail of old chunks begins). 'end' at the end of the text, or at an unterminated block
 * comment (it swallows the rest, which stays one chunk); 'unbalanced' at a `}` with no `{`.
 */
export function scanChunks(text: string, from: number, boundary: (start: number) => boolean): 'end' | 'stopped' | 'unbalanced' {
  let depth = 0;
  let braced = false;
  const n = text.length;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      depth++;
      braced = true;
    } else if (c === 0x7d /* } */) {
      if (--depth < 0) return 'unbalanced';
    } else if (c === 0x2f /* / */) {
      const next = text.charCodeAt(i + 1);
      if (next === 0x2f) {
        // A line comment runs to the line end, which the loop then sees.
        while (i + 1 < n && text.charCodeAt(i + 1) !== 0x0a && text.charCodeAt(i + 1) !== 0x0d) i++;
      } else if (next === 0x2a) {
        const close = text.indexOf('*/', i + 2);
        if (close < 0) return 'end';
        i = close + 1;
      }
    } else if (c === 0x0a || c === 0x0d) {
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
      if (depth === 0 && braced && i + 1 < n) {
        braced = false;
        if (boundary(i + 1)) return 'stopped';
      }
    }
  }
  return 'end';
}

/**
 * Whether a chunk's parse ended where the file's would go on: no diagnostic at its end
 * (chevrotain reports what it missed at end of input there) and no block left open. The
 * last chunk of a file ends where the file does, so it is always clean. `base`: where the
 * chunk was parsed (parseUncapped's).
 */
export function chunkIsClean(ast: SourceFile, last: boolean, base = 0): boolean {
  if (last) return true;
  return !ast.diagnostics.some((d) => d.span.end - base >= ast.length || d.code === 'unclosed-block');
}

/** A copy of `value` (an AST or part of one) with every span moved by `delta`. */
export function shifted<T>(value: T, delta: number): T {
  if (delta === 0) return value;
  return shiftValue(value, delta) as T;
}

function shiftValue(v: unknown, delta: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => shiftValue(x, delta));
  const o = v as Record<string, unknown>;
  if (isSpan(o)) return makeSpan(o.start + delta, o.end + delta);
  const out: Record<string, unknown> = {};
  for (const k in o) out[k] = shiftValue(o[k], delta);
  return out;
}

/** Spans are the only objects of an AST with exactly the numeric fields `start` and `end`. */
function isSpan(o: Record<string, unknown>): o is Record<string, unknown> & Span {
  if (typeof o.start !== 'number' || typeof o.end !== 'number') return false;
  let keys = 0;
  for (const _ in o) keys++;
  return keys === 2;
}

/** Shifted diagnostics of a chunk (their `related` too). */
export function shiftedDiagnostics(list: readonly SyntaxDiagnostic[], delta: number): SyntaxDiagnostic[] {
  return list.map((d) => shifted(d, delta));
}

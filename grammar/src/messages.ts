/**
 * Parse-error wording. Chevrotain's defaults list token sequences; users want
 * "expected a region type (direct, ...), found 'dirct'" with a did-you-mean.
 */
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import { EOF } from 'chevrotain';

function describe(t: IToken): string {
  if (t.tokenType === EOF) return 'end of file';
  if (t.tokenType.name === 'Newline') return 'end of line';
  return `'${t.image}'`;
}

function label(t: TokenType): string {
  return t.LABEL ?? t.name;
}

/**
 * Damerau-free Levenshtein distance, for did-you-mean on keywords and names. With `bound`,
 * it stops as soon as the distance must exceed it and returns `bound + 1`: a row's minimum
 * never decreases, so nothing below it can still come.
 */
export function editDistance(a: string, b: string, bound = Infinity): number {
  if (Math.abs(a.length - b.length) > bound) return bound + 1;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
      if (prev[j]! < rowMin) rowMin = prev[j]!;
    }
    if (rowMin > bound) return bound + 1;
  }
  return Math.min(prev[b.length]!, bound + 1);
}

/**
 * Past this length a word gets no suggestion: a name that long is not a typo of a likely
 * candidate, and comparing costs the product of the lengths (a pasted 100k-character name
 * against a few thousand candidates held the server for minutes).
 */
const MAX_SUGGESTED_LENGTH = 64;

/** The closest candidate to `word`, if it is close enough to be a likely typo (the first of the closest). */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > MAX_SUGGESTED_LENGTH) return undefined;
  const w = word.toLowerCase();
  let best: string | undefined;
  // Only distances up to a third of the word count; each candidate must beat the best so far.
  let bestD = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    if (Math.abs(c.length - w.length) >= bestD) continue;
    const d = editDistance(w, c.toLowerCase(), bestD - 1);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function expectation(labels: string[]): string {
  const unique = [...new Set(labels)];
  if (unique.length === 1) return unique[0]!;
  if (unique.length <= 12) return `one of ${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
  return `one of ${unique.slice(0, 12).join(', ')}, ...`;
}

function withSuggestion(found: IToken, labels: string[]): string {
  const words = labels.filter((l) => l.startsWith("'")).map((l) => l.slice(1, -1));
  // Only a word can be a misspelt keyword; `}` is never a typo of `{`.
  const guess = /^[A-Za-z]/.test(found.image) ? didYouMean(found.image, words) : undefined;
  return guess && guess !== found.image ? ` (did you mean '${guess}'?)` : '';
}

export const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    const l = [label(expected)];
    return `expected ${l[0]}, found ${describe(actual)}${withSuggestion(actual, l)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `unexpected ${describe(firstRedundant)}`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual }) {
    const labels = expectedPathsPerAlt.flatMap((alt) =>
      alt
        .map((path) => path[0])
        .filter((t): t is TokenType => !!t)
        .map(label),
    );
    return `expected ${expectation(labels)}, found ${describe(actual[0]!)}${withSuggestion(actual[0]!, labels)}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual }) {
    const labels = expectedIterationPaths
      .map((path) => path[0])
      .filter((t): t is TokenType => !!t)
      .map(label);
    return `expected ${expectation(labels)}, found ${describe(actual[0]!)}`;
  },
};

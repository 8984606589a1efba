/**
 * A file's chunk starts (grammar/src/chunks.ts's `chunkStarts`) after an edit, from the
 * chunks of the text it replaced: the chunks before and after the edit are found by
 * comparing their texts (native string compares), and only the text between them is
 * scanned. Scanning a 100k-line file per keystroke cost more than the rest of an edit.
 *
 * Why it is exact: `chunkStarts` is a left-to-right scan whose state at every chunk start
 * is the same (depth 0, no brace seen, outside comments). So where the new text begins
 * with an old chunk that was not the last one (which ends at a start only because more
 * text followed), the scan reaches its end in that state, as it did before; and once the
 * scan of the edited stretch pushes a start where an unchanged tail of old chunks begins,
 * it goes on from there as the old scan did over the same text.
 */
import { scanChunks } from '@iommu-lens/grammar';

export interface Resplit {
  /** The offsets where chunks start, as `chunkStarts(text)` gives them. */
  starts: number[];
  /** How many of the old chunks begin the new text (same texts, same starts). */
  head: number;
  /** How many of the old chunks end it. */
  tail: number;
}

/**
 * `old`: the texts of the chunks `text` replaced, in order (at least two: a file parsed
 * whole has no split to start from). Undefined when the braces do not balance, as for
 * `chunkStarts`.
 */
export function resplit(text: string, old: readonly string[]): Resplit | undefined {
  const starts: number[] = [];
  let head = 0;
  let at = 0;
  // The last old chunk ends where its file did: only a start when the new text ends there too.
  while (head < old.length) {
    const t = old[head]!;
    const end = at + t.length;
    if (end > text.length || (head === old.length - 1 && end !== text.length)) break;
    if (text.slice(at, end) !== t) break;
    // A `\r` now followed by `\n` is one line break: the start moves past it.
    if (t.charCodeAt(t.length - 1) === 13 && text.charCodeAt(end) === 10) break;
    starts.push(at);
    at = end;
    head++;
  }
  const from = at;
  if (head === 0 || from < text.length) starts.push(from);
  // Old chunks that end the new text, after `from`: where each would start, ascending.
  const stops: number[] = [];
  let end = text.length;
  for (let j = old.length - 1; j >= head; j--) {
    const t = old[j]!;
    if (end - t.length < from || text.slice(end - t.length, end) !== t) break;
    end -= t.length;
    stops.push(end);
  }
  stops.reverse();
  if (from === text.length && head > 0) return { starts, head, tail: 0 };
  const k = stops[0] === from ? 0 : scan(text, from, starts, stops);
  if (k === undefined) return undefined;
  if (k < 0) return { starts, head, tail: 0 };
  for (let i = k + 1; i < stops.length; i++) starts.push(stops[i]!);
  return { starts, head, tail: stops.length - k };
}

/**
 * `chunkStarts`'s scan from the chunk start `from`, pushing onto `starts`: stops when it
 * pushes one of `stops` (ascending) and returns its index; -1 at the end of the text;
 * undefined for a `}` with no `{`.
 */
function scan(text: string, from: number, starts: number[], stops: readonly number[]): number | undefined {
  let k = 0;
  const end = scanChunks(text, from, (start) => {
    starts.push(start);
    while (k < stops.length && stops[k]! < start) k++;
    return stops[k] === start;
  });
  return end === 'unbalanced' ? undefined : end === 'stopped' ? k : -1;
}

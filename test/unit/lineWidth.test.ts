/**
 * No source line is wider than the formatter's 140 columns (biome.json, lineWidth): the formatter does not
 * split string literals or comments, so long messages and comments are wrapped by hand (`'...' + '...'`).
 * Widths are in characters (code points), as the formatter counts them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const WIDTH = 140;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every source file with its lines over the width, as `file:line (width)`. */
function longLines(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const dir of ['grammar/src', 'server/src', 'client/src']) {
    for (const file of sources(join(ROOT, dir))) {
      const rel = relative(ROOT, file).split('\\').join('/');
      const long = readFileSync(file, 'utf8')
        .split(/\r?\n/)
        .flatMap((line, i) => {
          const width = [...line].length;
          return width > WIDTH ? [`${rel}:${i + 1} (${width})`] : [];
        });
      if (long.length) out.set(rel, long);
    }
  }
  return out;
}

test(`no source line is wider than ${WIDTH} characters`, () => {
  const over = [...longLines().values()].flat();
  assert.deepEqual(over, [], `wrap these lines at ${WIDTH} columns (split long strings as 'a ' + 'b', long comments over lines)`);
});

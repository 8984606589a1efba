/**
 * The host splits an edited file from the split of the text before (ide/resplit.ts),
 * scanning only the edited stretch. It must give exactly `chunkStarts` of the new text,
 * and keep only old chunks whose text and place are the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkStarts } from '@iommu-lens/grammar';
import { resplit } from '../../server/src/ide/resplit';
import { exampleFiles } from '../helpers';
import { prng } from '../prng.mjs';

const PIECES = ['{', '}', '\n', '\r', '\r\n', '}\n', '{\n', '//', '/*', '*/', '// }\n', '/* { */', 'x', ' ', 'platform p {\n}\n'];

function check(before: string, after: string, where: string): void {
  const old = chunkStarts(before);
  if (!old || old.length < 2) return;
  const texts = old.map((s, i) => before.slice(s, old[i + 1] ?? before.length));
  const got = resplit(after, texts);
  const want = chunkStarts(after);
  assert.deepEqual(got?.starts, want, where);
  if (!got) return;
  for (let i = 0; i < got.head; i++)
    assert.equal(after.slice(got.starts[i], got.starts[i + 1] ?? after.length), texts[i], `${where}: head ${i}`);
  for (let i = 1; i <= got.tail; i++) {
    const s: number = got.starts[got.starts.length - i]!;
    assert.equal(after.slice(s, got.starts[got.starts.length - i + 1] ?? after.length), texts[texts.length - i], `${where}: tail ${i}`);
  }
}

test('splitting after an edit from the old split gives chunkStarts of the new text', () => {
  const rand = prng(7);
  const base = exampleFiles()
    .map((f) => f.text)
    .join('\n');
  const crlf = base.replace(/\n/g, '\r\n');
  for (let round = 0; round < 3000; round++) {
    let text = round % 3 === 0 ? crlf : base;
    // Small texts too, where the edit meets the first or last chunk.
    if (round % 5 === 0) text = text.slice(0, Math.floor(rand() * 400));
    const n = 1 + Math.floor(rand() * 3);
    let after = text;
    for (let e = 0; e < n; e++) {
      const p = Math.floor(rand() * (after.length + 1));
      const del = rand() < 0.4 ? Math.floor(rand() * 30) : 0;
      const ins = rand() < 0.8 ? PIECES[Math.floor(rand() * PIECES.length)]! : '';
      after = after.slice(0, p) + ins + after.slice(p + del);
    }
    check(text, after, `round ${round}`);
  }
});

test('text appended after a last chunk that a later brace closes', () => {
  check('platform a {\n}\nplatform b {\n', 'platform a {\n}\nplatform b {\n}\nguest g on b { }\n', 'appended');
  check('platform a {\n}\nx\r', 'platform a {\n}\nx\r\n}', 'cr then lf');
  check('a {\r}\rb {\r}\r', 'a {\r}\r\nb {\r}\r', 'lf after a chunk ending in cr');
});

/**
 * Did-you-mean stays cheap on pathological input (names of 100k characters, thousands of
 * candidates) and gives the same answers as the plain edit distance would.
 */
import { MODEL_SCHEMA } from '../../server/src/domains';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { didYouMean, editDistance, parse } from '@iommu-lens/grammar';
import { buildModel } from '../../server/src/model';

/** The definition: the first candidate at the smallest distance, if within a third of the word. */
function reference(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

const name = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'n', 'i', 'c', '0', '1', '-', 'A'), maxLength: 12 });

describe('did-you-mean', () => {
  test('a bounded distance is exact up to its bound, and bound + 1 past it', () => {
    fc.assert(
      fc.property(name, name, fc.nat(6), (a, b, bound) => {
        const exact = editDistance(a, b);
        assert.equal(editDistance(a, b, bound), exact <= bound ? exact : bound + 1);
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  test('the suggestion is the one the plain distance picks', () => {
    fc.assert(
      fc.property(name, fc.array(name, { maxLength: 20 }), (word, candidates) => {
        assert.equal(didYouMean(word, candidates), reference(word, candidates));
      }),
      { seed: 7, numRuns: 2000 },
    );
    assert.equal(didYouMean('nic1', ['nvme0', 'nic0', 'nic2']), 'nic0');
    assert.equal(didYouMean('dirct', ['direct', 'msi', 'reserved']), 'direct');
  });

  test('a name of 100k characters gets no suggestion, without comparing it', () => {
    const long = 'a'.repeat(100_000);
    const candidates = Array.from({ length: 2000 }, (_, i) => `${long.slice(0, 99_999)}${i % 10}`);
    assert.equal(didYouMean(long, candidates), undefined);
    assert.equal(didYouMean('nic0', [long, 'nic1']), 'nic1');
  });

  test('thousands of unknown names are all reported; guesses stop once a million candidates were compared', () => {
    const devices = Array.from(
      { length: 1000 },
      (_, i) => `  device dev${String(i).padStart(4, '0')} { bdf 00:${((i >> 3) & 31).toString(16).padStart(2, '0')}.${i & 7}; iommu i }`,
    );
    const assigns = Array.from({ length: 3000 }, (_, i) => `  assign dvv${String(i % 1000).padStart(4, '0')}`);
    const text = `platform p {\n  iommu i vt-d\n${devices.join('\n')}\n}\nguest g on p {\n${assigns.join('\n')}\n}\n`;
    const unknown = buildModel([{ uri: 'file:///fleet.iommu', ast: parse(text) }], MODEL_SCHEMA).findings.filter(
      (f) => f.code === 'unknown-name',
    );
    assert.equal(unknown.length, 3000);
    assert.match(unknown[0]!.message, /^no device 'dvv0000' on platform p \(did you mean 'dev0000'\?\)/);
    assert.equal(unknown[0]!.fixes.length, 1);
    // Each guess compares the platform's 1000 devices: the budget covers the first 1000 names.
    assert.equal(unknown.filter((f) => f.message.includes('did you mean')).length, 1000);
    assert.deepEqual(unknown[2999]!.fixes, []);
  });
});

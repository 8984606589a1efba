/** Releases (RULES §0.2): parsing, order, "newest when not given", the `kernel` statement and its hover. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hover } from '../../server/src/ide';
import { atLeast, COMPONENT_NAMES, compareReleases, parseRelease, VERSION_CHANGES } from '../../server/src/model';
import { analyze, codesAt, uri } from '../helpers';

test('releases parse and compare by number, not by text', () => {
  assert.deepEqual(parseRelease('6.6')?.parts, [6, 6]);
  assert.deepEqual(parseRelease('6.6.12')?.parts, [6, 6, 12]);
  assert.deepEqual(parseRelease('edk2-stable202411')?.parts, [2024, 11]);
  for (const bad of ['6', '6.', 'v6.6', '6.6-rc1', '1.2.3.4', 'edk2-stable2024']) assert.equal(parseRelease(bad), undefined, bad);
  assert.ok(compareReleases('6.10', '6.9') > 0, '6.10 is newer than 6.9');
  assert.ok(compareReleases('4.13', '4.2') > 0);
  assert.equal(compareReleases('6.6', '6.6.0'), 0);
  assert.ok(compareReleases('edk2-stable202205', 'edk2-stable202411') < 0);
});

test('a release not given is the newest: every change applies', () => {
  assert.equal(atLeast(undefined, '6.6'), true);
  assert.equal(atLeast(parseRelease('6.5'), '6.6'), false);
  assert.equal(atLeast(parseRelease('6.6'), '6.6'), true);
  assert.equal(atLeast(parseRelease('6.10'), '6.6'), true);
});

test('every row of VERSION_CHANGES names a parsable release and a source', () => {
  for (const row of VERSION_CHANGES) {
    assert.ok(parseRelease(row.release), row.release);
    assert.ok(row.source.length > 10 && row.change.length > 10, row.release);
  }
});

const HOST = `platform dl380 {
  arch x86_64
  kernel 6.5
  iommu dmar0 vt-d { address-width 46 }
}
`;

test('`kernel 6.5` on a platform is its Linux release in the model', () => {
  const a = analyze({ 'h.iommu': HOST });
  assert.deepEqual(a.all, []);
  assert.equal(a.model.platforms.get('dl380')?.kernel?.text, '6.5');
  const newest = analyze({ 'h.iommu': HOST.replace('  kernel 6.5\n', '') });
  assert.equal(newest.model.platforms.get('dl380')?.kernel, undefined);
});

test('a malformed or repeated kernel line is reported, not a crash', () => {
  const files = { 'h.iommu': HOST.replace('kernel 6.5', 'kernel 6.5.1.2\n  kernel 6.8') };
  const a = analyze(files);
  assert.deepEqual(codesAt(a, files).sort(), ['duplicate-setting@kernel 6.8', 'invalid-number@6.5.1.2']);
  assert.equal(a.model.platforms.get('dl380')?.kernel?.text, '6.8');
  const missing = { 'h.iommu': HOST.replace('kernel 6.5', 'kernel') };
  assert.deepEqual(
    codesAt(analyze(missing), missing).map((c) => c.split('@')[0]),
    ['syntax-error'],
  );
});

test('hovering the kernel line lists the release boundaries the engines check', () => {
  const a = analyze({ 'h.iommu': HOST });
  const h = hover(a, uri('h.iommu'), HOST.indexOf('kernel') + 2);
  assert.ok(h, 'a hover');
  assert.match(h.markdown, /\*\*Linux 6\.5\*\* on platform dl380/);
  for (const row of VERSION_CHANGES.filter((r) => r.component === 'linux')) assert.ok(h.markdown.includes(row.source), row.source);
});

test("docs/language.md's table of release boundaries is VERSION_CHANGES", () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'language.md'), 'utf8');
  const table = doc.slice(doc.indexOf('<!-- versions:begin -->'), doc.indexOf('<!-- versions:end -->'));
  const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| component'));
  const expected = VERSION_CHANGES.map((c) => `| ${COMPONENT_NAMES[c.component]} | ${c.release} | ${c.change} | ${c.source} |`);
  assert.deepEqual(rows, expected);
});

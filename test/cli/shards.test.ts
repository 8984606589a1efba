/**
 * `check --shard K/N`, `check --jobs N` and `merge-reports` through the bundled CLI: the shards'
 * JSON and SARIF outputs, merged in any order, are byte for byte the output of one run, and
 * worker threads change nothing in the output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cli, ROOT } from './run';

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-shards-'));
let written = 0;
/** `text` in a temporary file: its path. */
function file(text: string, ext = 'json'): string {
  const p = join(dir, `r${written++}.${ext}`);
  writeFileSync(p, text);
  return p;
}

describe('check --shard, --jobs and merge-reports', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const format of ['json', 'sarif'] as const) {
    test(`${format}: three shards merged (in any order) are the unsharded output, byte for byte`, () => {
      const whole = cli(['check', 'examples', '--format', format]);
      assert.equal(whole.status, 1);
      const shards = [1, 2, 3].map((k) => cli(['check', 'examples', '--format', format, '--shard', `${k}/3`]));
      for (const s of shards) assert.ok(s.status === 0 || s.status === 1, s.stderr);
      assert.ok(
        shards.every((s) => s.stdout !== whole.stdout),
        'each shard has a part',
      );
      const merged = cli(['merge-reports', ...[2, 0, 1].map((i) => file(shards[i]!.stdout, format))]);
      assert.equal(merged.stderr, '');
      assert.equal(merged.status, 1, 'errors among the findings');
      assert.equal(merged.stdout, whole.stdout);
    });
  }

  test('text: each shard counts its own files; together, every file once', () => {
    const whole = cli(['check', 'examples']);
    const count = (out: string) => Number(/^(\d+) files? checked/m.exec(out)![1]);
    const shards = [1, 2, 3, 4].map((k) => cli(['check', 'examples', '--shard', `${k}/4`]).stdout);
    assert.equal(
      shards.reduce((n, s) => n + count(s), 0),
      count(whole.stdout),
    );
    const findings = (out: string) => out.split('\n').filter((l) => /^\S+:\d+:\d+: /.test(l));
    assert.deepEqual(shards.flatMap(findings).sort(), findings(whole.stdout).sort());
  });

  test('--jobs 2: the same output as one thread, in every format', () => {
    for (const format of ['text', 'json', 'sarif', 'github']) {
      const one = cli(['check', 'examples', '--format', format]);
      const two = cli(['check', 'examples', '--format', format, '--jobs', '2']);
      assert.equal(two.status, one.status);
      assert.equal(two.stderr, one.stderr);
      assert.equal(two.stdout, one.stdout, format);
    }
    const shard = cli(['check', 'examples', '--format', 'json', '--shard', '2/3']);
    assert.equal(cli(['check', 'examples', '--format', 'json', '--shard', '2/3', '--jobs', '3']).stdout, shard.stdout);
  });

  test('a shard with no component: an empty report, exit 0', () => {
    const r = cli(['check', 'test/fixtures/cli/clean', '--format', 'json', '--shard', '5/5']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '[]\n');
  });

  test('bad --shard and --jobs, and --fix with either: usage errors, exit 2', () => {
    for (const args of [
      ['--shard', '0/3'],
      ['--shard', '4/3'],
      ['--shard', '1/0'],
      ['--shard', 'two'],
      ['--jobs', '0'],
      ['--jobs', '1.5'],
      ['--jobs', '65'],
      ['--fix', '--shard', '1/2'],
      ['--fix', '--jobs', '2'],
    ]) {
      const r = cli(['check', 'test/fixtures/cli/clean', ...args]);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /^iommu-lens: --(shard|jobs|fix)/, args.join(' '));
      assert.equal(r.stdout, '');
    }
  });

  test('merge-reports refuses what is not the shards of one run: exit 2, nothing on stdout', () => {
    const json = cli(['check', 'examples', '--format', 'json', '--shard', '1/2']).stdout;
    const sarif = cli(['check', 'examples', '--format', 'sarif', '--shard', '2/2']).stdout;
    const otherRoot = cli(['check', '.', '--format', 'sarif', '--shard', '1/2'], join(ROOT, 'examples'));
    const cases: [string[], RegExp][] = [
      [[file(json), file(json)], /are in .* and /],
      [[file(json), file(sarif, 'sarif')], /merge reports of one format/],
      [[file('not json')], /is not JSON/],
      [[file('{"a": 1}')], /neither check --format json nor --format sarif/],
      [[join(dir, 'missing.json')], /cannot read/],
      [[file(sarif, 'sarif'), file(otherRoot.stdout, 'sarif')], /differ beyond their results/],
      [[], /needs at least one FILE/],
    ];
    for (const [args, message] of cases) {
      const r = cli(['merge-reports', ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
  });

  test('merge-reports of a clean run: exit 0', () => {
    const r = cli(['merge-reports', file(cli(['check', 'test/fixtures/cli/clean', '--format', 'json', '--shard', '1/2']).stdout)]);
    assert.equal(r.status, 0);
  });
});

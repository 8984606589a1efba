/**
 * Limits through the bundled CLI (docs/limits.md): `--max-file-size`, a million regions
 * over the default limit, pathological files, and bytes that are not UTF-8. The CLI
 * exits 0 or 1 with findings for all of them (2 only for usage errors and unreadable paths).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { regions } from '../helpers';
import { loadShapes, SIZE_LIMIT } from '../shapes/lib/shapes.mjs';
import { CLI, cli, ROOT } from './run';

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-cli-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(...args: string[]) {
  const r = cli(['check', '--format', 'json', ...args], dir);
  const findings =
    r.status === 0 || r.status === 1
      ? (JSON.parse(r.stdout) as { file: string; code: string; message: string; range: { start: { line: number; character: number } } }[])
      : [];
  return {
    status: r.status,
    stderr: r.stderr,
    findings,
    codes: (file: string) => findings.filter((f) => f.file === file).map((f) => f.code),
  };
}

describe('iommu-lens check at the limits', () => {
  test('--max-file-size: a file over it is file-too-large, the others are checked', () => {
    writeFileSync(join(dir, 'medium.iommu'), `platform medium {\n  arch x86_64\n  arch x86_64\n}\n${'// padding\n'.repeat(200)}`);
    writeFileSync(join(dir, 'small.iommu'), 'platform small {\n  arch sparc\n}\n');
    const low = check('--max-file-size', '1000', 'medium.iommu', 'small.iommu');
    assert.equal(low.status, 1);
    assert.deepEqual(low.codes('medium.iommu'), ['file-too-large']);
    assert.match(low.findings[0]!.message, /over the limit of 1000 \(setting iommuLens\.maxFileSize, CLI --max-file-size\)/);
    assert.ok(low.codes('small.iommu').includes('syntax-error'));
    assert.deepEqual(check('medium.iommu').codes('medium.iommu'), ['duplicate-setting']);
    assert.equal(check('--max-file-size', '0', 'medium.iommu').status, 2);
  });

  test('a million regions over the default limit is reported as too large without being parsed', () => {
    writeFileSync(join(dir, 'million.iommu'), regions(1_000_000));
    const r = check('million.iommu');
    assert.equal(r.status, 1);
    assert.deepEqual(r.codes('million.iommu'), ['file-too-large']);
    assert.match(r.findings[0]!.message, /^file is 47\d{6} characters, over the limit of 2097152/);
  });

  test('deep nesting, 100k-character lines and numbers of thousands of digits: findings with short messages', () => {
    const files: Record<string, [string, string[]]> = {
      'braces.iommu': ['{'.repeat(100_000), ['syntax-error']],
      'platforms.iommu': ['platform p {\n'.repeat(20_000), ['unclosed-block']],
      'number.iommu': [`platform n {\n  iommu i vt-d\n  reserved r reserved 0x${'f'.repeat(100_000)} size 4K\n}\n`, ['number-too-large']],
      'garbage.iommu': [`${'#$%'.repeat(40_000)}\n`, ['invalid-character']],
    };
    for (const [name, [text]] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const r = check(...Object.keys(files));
    assert.equal(r.status, 1);
    for (const [name, [, codes]] of Object.entries(files)) {
      for (const code of codes) assert.ok(r.codes(name).includes(code), `${name}: ${r.codes(name).join()}`);
    }
    for (const f of r.findings) assert.ok(f.message.length < 400, `${f.file} ${f.code}: ${f.message.length} characters`);
  });

  test('bytes that are not UTF-8 are read as U+FFFD: the file is still checked', () => {
    const bytes = Buffer.concat([
      Buffer.from('platform latin {\n  arch x86_64 // caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n  arch x86'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('_64\n}\nguest g on nowhere { }\n'),
    ]);
    writeFileSync(join(dir, 'latin1.iommu'), bytes);
    const r = check('latin1.iommu');
    assert.equal(r.status, 1);
    const codes = r.codes('latin1.iommu');
    assert.ok(codes.includes('invalid-character'), 'the U+FFFD outside the comment');
    assert.ok(codes.includes('unknown-name'), 'the rest of the file is analysed');
    const bad = r.findings.find((f) => f.code === 'invalid-character')!;
    assert.deepEqual(bad.range.start, { line: 2, character: 10 });
    // Each run of bad bytes is named once, with its bytes, also inside the comment.
    const encoding = r.findings.filter((f) => f.code === 'invalid-utf8');
    assert.deepEqual(
      encoding.map((f) => f.range.start),
      [
        { line: 1, character: 20 },
        { line: 2, character: 10 },
      ],
    );
    assert.match(encoding[0]!.message, /^byte 0xe9 at byte offset \d+ is not UTF-8; read as U\+FFFD$/);
    assert.equal(check('latin1.iommu', '--severity', 'invalid-utf8=off').codes('latin1.iommu').includes('invalid-utf8'), false);
    // Over the size limit the file is not analysed: file-too-large alone.
    assert.deepEqual(check('latin1.iommu', '--max-file-size', '50').codes('latin1.iommu'), ['file-too-large']);
  });

  test('format never writes a file with bytes that are not UTF-8 (the U+FFFD would replace them)', () => {
    const bytes = Buffer.concat([Buffer.from('platform   latin { arch x86_64 }   // caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    writeFileSync(join(dir, 'unformatted-latin1.iommu'), bytes);
    const r = cli(['format', '--write', 'unformatted-latin1.iommu'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unformatted-latin1\.iommu: not formatted: it has bytes that are not UTF-8/);
    assert.deepEqual(readFileSync(join(dir, 'unformatted-latin1.iommu')), bytes);
  });
});

/**
 * Issue 22: every shape of test/shapes/ (read from the folder) just under the default size
 * limit, through the bundled CLI with a 1 GiB heap: it exits 0 or 1 with the findings the
 * shape expects. The timeout only guards against a hang (docs/limits.md has the figures).
 */
describe('engine shapes at the size limit, through the CLI', async () => {
  const shapes = await loadShapes();

  /** `iommu-lens check FILE` (text output, to a file: it can be tens of megabytes) under the heap cap. */
  function checkCapped(file: string) {
    const outFile = join(dir, `${file}.out`);
    const fd = openSync(outFile, 'w');
    const r = spawnSync(process.execPath, ['--max-old-space-size=1024', CLI, 'check', file], {
      cwd: dir,
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
      timeout: 300_000,
    });
    closeSync(fd);
    const codes = new Set<string>();
    for (const line of readFileSync(outFile, 'utf8').split('\n')) {
      const m = /^\S+:\d+:\d+: (?:error|warning|information|hint) (\S+) /.exec(line);
      if (m) codes.add(m[1]!);
    }
    rmSync(outFile);
    return { status: r.status, signal: r.signal, stderr: r.stderr, codes };
  }

  for (const shape of shapes) {
    test(`${shape.name}: ${shape.description}`, { timeout: 300_000 }, () => {
      const text = shape.generate(SIZE_LIMIT - 1);
      assert.ok(text.length > SIZE_LIMIT - 64 * 1024 && text.length < SIZE_LIMIT, `${text.length} characters`);
      writeFileSync(join(dir, `${shape.name}.iommu`), text);
      const r = checkCapped(`${shape.name}.iommu`);
      assert.ok(r.status === 0 || r.status === 1, `exit ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
      for (const code of shape.expect) assert.ok(r.codes.has(code), `${code} missing from ${[...r.codes].join(', ')}`);
      assert.ok(!r.codes.has('internal-error') && !r.codes.has('file-too-large'), [...r.codes].join(', '));
    });
  }

  test('a pool check past its budget: the other engines in the same description still report', { timeout: 300_000 }, () => {
    const others = readFileSync(join(ROOT, 'test', 'fixtures', 'limits', 'every-engine.iommu'), 'utf8');
    const pool = shapes.find((s) => s.name === 'pool-layouts')!;
    writeFileSync(join(dir, 'truncated.iommu'), `${pool.generate(SIZE_LIMIT - 1 - others.length)}${others}`);
    const r = checkCapped('truncated.iommu');
    assert.equal(r.status, 1, r.stderr.slice(-2000));
    for (const code of [
      'pool-checks-truncated',
      'pool-ram-conflict',
      'ram-over-reserved',
      'guest-not-running',
      'fw-mapping-left',
      'xen-invalid-setting',
      'cmdqv-missing',
    ]) {
      assert.ok(r.codes.has(code), `${code} missing from ${[...r.codes].join(', ')}`);
    }
  });
});

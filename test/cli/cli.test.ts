/**
 * The bundled CLI (dist/cli.cjs, built by `npm test`) against golden outputs.
 * Regenerate goldens with UPDATE_GOLDEN=1 after an intended change, and review the diff.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from '@iommu-lens/grammar';
import { run } from '../../server/src/cli/main';
import { simulate } from '../../server/src/sim';
import { ROOT, CLI, cli } from './run';

function golden(name: string, actual: string): void {
  const file = join(ROOT, 'test', 'golden', name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `golden ${name} differs (UPDATE_GOLDEN=1 to accept)`);
}

describe('iommu-lens check', () => {
  test('is built', () => assert.ok(existsSync(CLI), 'run `npm run build` first'));

  test('a clean workspace: summary only, exit 0', () => {
    const r = cli(['check', 'test/fixtures/cli/clean']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '2 files checked: 0 errors, 0 warnings, 0 information, 0 hints\n');
  });

  test('text output: file:line:col: severity CODE message, related notes, summary; exit 1', () => {
    const r = cli(['check', 'test/fixtures/cli/broken']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, '');
    golden('check-broken.txt', r.stdout);
    const lines = r.stdout.trimEnd().split('\n');
    const findings = lines.filter((l) => /^\S/.test(l) && !/ checked: /.test(l));
    for (const l of findings)
      assert.match(l, /^test\/fixtures\/cli\/broken\/\S+\.iommu:\d+:\d+: (error|warning|information|hint) [a-z0-9-]+ \S/);
    assert.match(lines[lines.length - 1]!, /^2 files checked: \d+ errors, 0 warnings, 0 information, 0 hints$/);
  });

  test('json output: one array, 0-based LSP positions, related locations', () => {
    const r = cli(['check', '--format', 'json', 'test/fixtures/cli/broken']);
    assert.equal(r.status, 1);
    golden('check-broken.json', r.stdout);
    const data = JSON.parse(r.stdout) as {
      file: string;
      range: { start: { line: number; character: number } };
      severity: string;
      code: string;
      message: string;
      related: unknown[];
    }[];
    assert.ok(Array.isArray(data) && data.length > 5);
    for (const f of data) {
      assert.deepEqual(Object.keys(f), ['file', 'range', 'severity', 'code', 'message', 'related']);
      assert.ok(['error', 'warning', 'information', 'hint'].includes(f.severity));
    }
    // guests.iommu line 4 "  assign gpu1": 0-based line 3, character 9.
    const gpu1 = data.find((f) => f.message.includes("'gpu1'"))!;
    assert.equal(gpu1.file, 'test/fixtures/cli/broken/guests.iommu');
    assert.deepEqual(gpu1.range, { start: { line: 3, character: 9 }, end: { line: 3, character: 13 } });
    const dup = data.find((f) => f.code === 'duplicate-name')!;
    assert.deepEqual(dup.related, [
      {
        file: 'test/fixtures/cli/broken/hosts/a.iommu',
        range: { start: { line: 4, character: 9 }, end: { line: 4, character: 13 } },
        message: 'first declared here',
      },
    ]);
  });

  test('text and json report the same findings', () => {
    const text = cli(['check', 'test/fixtures/cli/broken'])
      .stdout.split('\n')
      .filter((l) => /^\S+:\d+:\d+: /.test(l));
    const json = JSON.parse(cli(['check', '--format=json', 'test/fixtures/cli/broken']).stdout) as {
      file: string;
      range: { start: { line: number; character: number } };
      severity: string;
      code: string;
      message: string;
    }[];
    assert.deepEqual(
      text,
      json.map((f) => `${f.file}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${f.severity} ${f.code} ${f.message}`),
    );
  });

  test('single files, any extension, and absolute paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-'));
    const file = join(dir, 'desc.txt');
    writeFileSync(file, 'platform p { arch arm64 }\n');
    const r = cli(['check', file]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^1 file checked/);
    writeFileSync(file, 'platform p { arch sparc }\n');
    const bad = cli(['check', file], dir);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^desc\.txt:1:19: error syntax-error /);
  });

  test('usage errors and unreadable paths exit 2 with a clear message', () => {
    const cases: [string[], RegExp][] = [
      [[], /usage: iommu-lens/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['check'], /check needs at least one PATH/],
      [['check', '--format', 'xml', 'examples'], /--format must be text, json, sarif or github, not 'xml'/],
      [['check', '--nope', 'examples'], /Unknown option '--nope'/],
      [['check', 'does/not/exist.iommu'], /cannot read 'does\/not\/exist.iommu': no such file or directory/],
      [['check', 'test/unit'], /no \.iommu files under 'test\/unit'/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stdout + r.stderr, message, args.join(' '));
    }
  });

  test('--help and --version exit 0', () => {
    assert.equal(cli(['--help']).status, 0);
    assert.match(cli(['--version']).stdout, /^iommu-lens \d+\.\d+\.\d+/);
  });

  test('a file over --max-file-size gets one file-too-large error', () => {
    const r = cli(['check', '--max-file-size', '50', 'test/fixtures/cli/clean/host.iommu']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^test\/fixtures\/cli\/clean\/host\.iommu:1:1: error file-too-large /);
  });

  test('a check that fails inside IOMMU Lens: internal-error on stdout, its stack once on stderr, exit 1', () => {
    const out: string[] = [];
    const err: string[] = [];
    const broken = () => {
      throw new RangeError('planted');
    };
    const status = run(['check', 'test/fixtures/cli/clean'], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      cwd: ROOT,
      stages: { parse, simulate, buildModel: broken },
    });
    assert.equal(status, 1);
    assert.match(out.join(''), /host\.iommu:1:1: error internal-error resolving names failed inside IOMMU Lens \(RangeError: planted\)/);
    // One failure covering every file of the run: one stack, not one per file.
    assert.equal(err.length, 1);
    assert.match(
      err[0]!,
      /^iommu-lens: internal error \(please report it with the file\): resolving names: RangeError: planted\n\s+at (Object\.)?broken /,
    );
  });

  test("--severity CODE=LEVEL changes a code's severity, off hides it, and the exit status follows", () => {
    const plain = cli(['check', 'examples/seed-002-arm-msi-migration']);
    assert.equal(plain.status, 1);
    assert.match(plain.stdout, / error ram-over-reserved /);
    const lowered = cli(['check', '--severity', 'ram-over-reserved=warning', 'examples/seed-002-arm-msi-migration']);
    assert.equal(lowered.status, 0, 'no errors left');
    assert.match(lowered.stdout, / warning ram-over-reserved /);
    const off = cli(['check', '--severity', 'ram-over-reserved=off', 'examples/seed-002-arm-msi-migration']);
    assert.doesNotMatch(off.stdout, /ram-over-reserved/);
    for (const [arg, message] of [
      ['ram-over-reserved', /takes CODE=LEVEL/],
      ['ram-overreserved=off', /unknown diagnostic code 'ram-overreserved'/],
      ['ram-over-reserved=fatal', /must be one of error, warning, information, hint, off/],
    ] as const) {
      const r = cli(['check', '--severity', arg, 'examples/seed-002-arm-msi-migration']);
      assert.equal(r.status, 2, arg);
      assert.match(r.stderr, message, arg);
    }
  });

  test("the extension's problem matcher reads every finding line of the text output", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      contributes: {
        problemMatchers: {
          name: string;
          pattern: { regexp: string; file: number; line: number; column: number; severity: number; code: number; message: number };
        }[];
      };
    };
    const matcher = manifest.contributes.problemMatchers.find((m) => m.name === 'iommu-lens')!;
    const re = new RegExp(matcher.pattern.regexp);
    const r = cli(['check', '--format', 'json', 'test/fixtures/cli/broken']);
    const json = JSON.parse(r.stdout) as {
      file: string;
      range: { start: { line: number; character: number } };
      severity: string;
      code: string;
      message: string;
    }[];
    const lines = cli(['check', 'test/fixtures/cli/broken']).stdout.split('\n');
    const matched = lines.map((l) => re.exec(l)).filter((m): m is RegExpExecArray => m !== null);
    assert.equal(matched.length, json.length, 'one match per finding: related notes, message lines and the summary do not match');
    matched.forEach((m, i) => {
      const f = json[i]!;
      assert.equal(m[matcher.pattern.file], f.file);
      assert.equal(Number(m[matcher.pattern.line]), f.range.start.line + 1);
      assert.equal(Number(m[matcher.pattern.column]), f.range.start.character + 1);
      assert.equal(m[matcher.pattern.severity], f.severity);
      assert.equal(m[matcher.pattern.code], f.code);
      assert.equal(m[matcher.pattern.message], f.message);
    });
  });
});

describe('writing the output', () => {
  /** Runs the CLI with its standard output closed before it writes (as `| head -1` does once it has its line). */
  function closedStdout(args: string[]): Promise<{ status: number | null; signal: string | null; stderr: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        stderr += s;
      });
      child.on('close', (status, signal) => done({ status, signal, stderr }));
    });
  }

  test('a reader that goes away (| head): the CLI stops writing quietly, with the status the command had', async () => {
    const full = cli(['check', 'examples']);
    assert.equal(full.status, 1);
    assert.ok(full.stdout.length > 10_000);
    assert.deepEqual(await closedStdout(['check', 'examples']), { status: 1, signal: null, stderr: '' });
    assert.deepEqual(await closedStdout(['check', 'test/fixtures/cli/clean']), { status: 0, signal: null, stderr: '' });
  });

  test('a full disk behind standard output: a message and exit 2', { skip: !existsSync('/dev/full') && 'no /dev/full' }, () => {
    const r = spawnSync(process.execPath, [CLI, 'check', 'test/fixtures/cli/clean'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'],
    });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'iommu-lens: cannot write standard output: no space left on device\n');
  });
});

/**
 * The CLI as CI systems use it: SARIF 2.1.0 (validated against the schema, vendored in
 * test/fixtures/sarif with its licence), GitHub Actions annotations, `check --fix` and
 * `--fix --dry-run`, and each command's own --help.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { Finding } from '../../server/src/model';
import { CODES } from '../../server/src/domains';
import { planFixes } from '../../server/src/cli/fixes';
import { formatGithub } from '../../server/src/cli/report';
import { cli, ROOT } from './run';

const BROKEN = 'test/fixtures/cli/broken';

interface SarifRegion {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}
interface SarifLocation {
  physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: SarifRegion };
}
interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: SarifLocation[];
  relatedLocations?: (SarifLocation & { message: { text: string } })[];
  fixes?: { description: { text: string }; artifactChanges: { replacements: { insertedContent: { text: string } }[] }[] }[];
}
interface SarifLog {
  version: string;
  runs: { tool: { driver: { rules: { id: string; helpUri: string }[] } }; results: SarifResult[] }[];
}

function validator() {
  const schema = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'sarif', 'sarif-2.1.0-rtm.5.json'), 'utf8'));
  // rtm.5's language pattern (`...]?$`) is valid only without the u flag, as JSON Schema's ECMA 262 patterns are read.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

function copyOf(dir: string): string {
  const to = join(mkdtempSync(join(tmpdir(), 'fix-')), 'w');
  cpSync(join(ROOT, dir), to, { recursive: true });
  return to;
}

describe('check --format sarif', () => {
  const validate = validator();

  test('is valid SARIF 2.1.0, one result per finding, with the JSON output positions made 1-based', () => {
    const sarif = cli(['check', '--format', 'sarif', BROKEN]);
    const json = cli(['check', '--format', 'json', BROKEN]);
    assert.equal(sarif.status, 1);
    const log = JSON.parse(sarif.stdout) as SarifLog;
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    assert.equal(log.version, '2.1.0');
    const findings = JSON.parse(json.stdout) as {
      file: string;
      code: string;
      severity: string;
      message: string;
      range: { start: { line: number; character: number }; end: { line: number; character: number } };
      related: unknown[];
    }[];
    const results = log.runs[0]!.results;
    assert.equal(results.length, findings.length);
    const rules = log.runs[0]!.tool.driver.rules;
    results.forEach((r, i) => {
      const f = findings[i]!;
      assert.equal(r.ruleId, f.code);
      assert.equal(rules[r.ruleIndex]!.id, f.code);
      assert.equal(r.level, f.severity === 'information' ? 'note' : f.severity);
      assert.equal(r.message.text, f.message);
      const loc = r.locations[0]!.physicalLocation;
      assert.equal(loc.artifactLocation.uri, f.file);
      assert.equal(loc.artifactLocation.uriBaseId, '%SRCROOT%');
      assert.deepEqual(loc.region, {
        startLine: f.range.start.line + 1,
        startColumn: f.range.start.character + 1,
        endLine: f.range.end.line + 1,
        endColumn: f.range.end.character + 1,
      });
      assert.equal(r.relatedLocations?.length ?? 0, f.related.length);
    });
    // The engine's "did you mean" becomes a SARIF fix.
    const unknown = results.filter((r) => r.ruleId === 'unknown-name');
    assert.ok(unknown.length > 0 && unknown.every((r) => r.fixes?.[0]?.artifactChanges[0]?.replacements.length === 1));
  });

  test('the schema check is not vacuous: a level SARIF does not have, or a 0 line, fails it', () => {
    const log = JSON.parse(cli(['check', '--format', 'sarif', BROKEN]).stdout) as SarifLog;
    const result = log.runs[0]!.results[0]!;
    result.level = 'fatal';
    assert.equal(validate(log), false);
    result.level = 'error';
    result.locations[0]!.physicalLocation.region.startLine = 0;
    assert.equal(validate(log), false);
  });

  test('every code is a rule whose help URI points to its section of docs/diagnostics.md', () => {
    const log = JSON.parse(cli(['check', '--format', 'sarif', 'test/fixtures/cli/clean']).stdout) as SarifLog;
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    const rules = log.runs[0]!.tool.driver.rules;
    assert.deepEqual(rules.map((r) => r.id).sort(), Object.keys(CODES).sort());
    const docs = readFileSync(join(ROOT, 'docs', 'diagnostics.md'), 'utf8');
    for (const r of rules) {
      const [file, anchor] = r.helpUri.split('#');
      assert.equal(new URL(file!).pathname, join(ROOT, 'docs', 'diagnostics.md'));
      assert.ok(docs.includes(`\n### ${anchor}\n`), `no section ### ${anchor}`);
    }
  });

  test('files outside the working directory are named by file URL', () => {
    const log = JSON.parse(
      cli(['check', '--format', 'sarif', join(ROOT, BROKEN)], mkdtempSync(join(tmpdir(), 'outside-'))).stdout,
    ) as SarifLog;
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    const loc = log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation;
    assert.match(loc.uri, /^file:\/\/\/.*\.iommu$/);
    assert.equal(loc.uriBaseId, undefined);
  });
});

describe('check --format github', () => {
  test('one workflow command per finding, 1-based, then the summary', () => {
    const r = cli(['check', '--format', 'github', BROKEN]);
    assert.equal(r.status, 1);
    const lines = r.stdout.trimEnd().split('\n');
    const commands = lines.slice(0, -1);
    assert.equal(commands.length, (JSON.parse(cli(['check', '--format', 'json', BROKEN]).stdout) as unknown[]).length);
    for (const l of commands)
      assert.match(l, /^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=[a-z0-9-]+::\S/);
    assert.match(lines.at(-1)!, /^2 files checked: /);
  });

  test('escapes what the runner would read as syntax: %, newlines, and in properties : and ,', () => {
    const range = { start: { line: 0, character: 4 }, end: { line: 1, character: 0 } };
    const out = formatGithub(
      [
        {
          file: 'odd,name:x.iommu',
          range,
          severity: 'information',
          code: 'c',
          message: '100% sure\nreally',
          related: [{ file: 'b.iommu', range, message: 'here' }],
        },
      ],
      1,
    );
    assert.equal(
      out.split('\n')[0],
      '::notice file=odd%2Cname%3Ax.iommu,line=1,col=5,endLine=2,endColumn=1,title=c::100%25 sure really%0Ab.iommu:1:5: here',
    );
  });
});

describe('check --fix', () => {
  test('applies the unambiguous fixes, says what it fixed, and reports what remains', () => {
    const dir = copyOf(BROKEN);
    const before = readFileSync(join(dir, 'guests.iommu'), 'utf8');
    const r = cli(['check', '--fix', '.'], dir);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^guests\.iommu:4:10: fixed unknown-name: Change to 'gpu0'$/m);
    assert.match(r.stdout, /^guests\.iommu:7:14: fixed unknown-name: Change to 'epyc-a'$/m);
    const after = readFileSync(join(dir, 'guests.iommu'), 'utf8');
    assert.equal(after, before.replace('assign gpu1', 'assign gpu0').replace('vm2 on epyc-b', 'vm2 on epyc-a'));
    // What remains is reported from the files as written: no unknown-name left.
    assert.doesNotMatch(r.stdout, /error unknown-name/);
    assert.match(r.stdout, /error duplicate-name/);
    // A second run has nothing left to fix and changes nothing.
    const again = cli(['check', '--fix', '.'], dir);
    assert.doesNotMatch(again.stdout, /^\S+: fixed /m);
    assert.equal(readFileSync(join(dir, 'guests.iommu'), 'utf8'), after);
  });

  test('--dry-run prints a unified diff that git apply takes, and writes nothing', () => {
    const dir = copyOf(BROKEN);
    const before = readFileSync(join(dir, 'guests.iommu'), 'utf8');
    const r = cli(['check', '--fix', '--dry-run', '.'], dir);
    assert.equal(readFileSync(join(dir, 'guests.iommu'), 'utf8'), before);
    assert.match(r.stdout, /^--- a\/guests\.iommu\n\+\+\+ b\/guests\.iommu$/m);
    assert.match(r.stdout, /^- {2}assign gpu1\n\+ {2}assign gpu0$/m);
    assert.match(r.stderr, /fixed unknown-name/);
    writeFileSync(join(dir, 'fix.diff'), r.stdout);
    const apply = spawnSync('git', ['apply', 'fix.diff'], { cwd: dir, encoding: 'utf8' });
    assert.equal(apply.status, 0, apply.stderr);
    const fixed = copyOf(BROKEN);
    cli(['check', '--fix', '.'], fixed);
    assert.equal(readFileSync(join(dir, 'guests.iommu'), 'utf8'), readFileSync(join(fixed, 'guests.iommu'), 'utf8'));
  });

  test('--fix goes to stderr when stdout carries SARIF, which stays valid', () => {
    const dir = copyOf(BROKEN);
    const r = cli(['check', '--fix', '--format', 'sarif', '.'], dir);
    const validate = validator();
    assert.ok(validate(JSON.parse(r.stdout)));
    assert.match(r.stderr, /fixed unknown-name/);
  });

  test('--dry-run alone is a usage error', () => {
    const r = cli(['check', '--dry-run', BROKEN]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--dry-run goes with --fix/);
  });
});

describe('choosing fixes', () => {
  const at = (start: number, end: number, uri = 'file:///a.iommu') => ({ uri, span: { start, end } });
  const finding = (code: string, fixes: { start: number; end: number; text: string; uri?: string }[][]): Finding => ({
    ...at(0, 1),
    code,
    severity: 'error',
    message: code,
    related: [],
    fixes: fixes.map((edits, i) => ({
      title: `${code} ${i}`,
      edits: edits.map((e) => ({ ...at(e.start, e.end, e.uri), newText: e.text })),
    })),
  });
  const files = new Set(['file:///a.iommu', 'file:///b.iommu']);

  test('one fix each, disjoint: all chosen; a choice of two, or edits in a file not checked: left', () => {
    const plan = planFixes(
      [
        finding('one', [[{ start: 0, end: 2, text: 'x' }]]),
        finding('two', [[{ start: 10, end: 12, text: 'y' }]]),
        finding('choice', [[{ start: 20, end: 21, text: 'a' }], [{ start: 20, end: 21, text: 'b' }]]),
        finding('outside', [[{ start: 30, end: 31, text: 'a', uri: 'file:///c.iommu' }]]),
        finding('several', [
          [
            { start: 40, end: 41, text: 'a' },
            { start: 0, end: 1, text: 'b', uri: 'file:///b.iommu' },
          ],
        ]),
      ],
      files,
    );
    assert.deepEqual(
      plan.chosen.map((c) => c.finding.code),
      ['one', 'two'],
    );
    assert.deepEqual(
      plan.skipped.map((s) => [s.finding.code, s.why]),
      [
        ['choice', '2 fixes to choose from'],
        ['outside', 'it edits a file that is not being checked'],
        ['several', 'it edits several files'],
      ],
    );
  });

  test('overlapping fixes are both left, even when an edit between them does not overlap either', () => {
    const plan = planFixes(
      [
        finding('long', [[{ start: 0, end: 100, text: 'x' }]]),
        finding('inner', [[{ start: 10, end: 20, text: 'y' }]]),
        finding('later', [[{ start: 30, end: 40, text: 'z' }]]),
        finding('insert-a', [[{ start: 200, end: 200, text: 'a' }]]),
        finding('insert-b', [[{ start: 200, end: 200, text: 'b' }]]),
        finding('clear', [[{ start: 300, end: 301, text: 'c' }]]),
      ],
      files,
    );
    assert.deepEqual(
      plan.chosen.map((c) => c.finding.code),
      ['clear'],
    );
    assert.deepEqual(plan.skipped.map((s) => s.finding.code).sort(), ['inner', 'insert-a', 'insert-b', 'later', 'long']);
  });

  test('the same fix offered by several findings is applied once', () => {
    const same = [[{ start: 5, end: 6, text: 'q' }]];
    const plan = planFixes([finding('first', same), finding('second', same)], files);
    assert.equal(plan.chosen.length, 1);
    assert.deepEqual(plan.edits.get('file:///a.iommu')?.length, 1);
  });
});

describe('help and usage errors', () => {
  for (const [args, first] of [
    [['check', '--help'], '  check PATH...'],
    [['iova', '-h'], '  iova PATH... --guest G'],
    [['layout', '--help'], '  layout PATH...'],
    [['map', '--help'], '  map PATH...'],
    [['format', '-h'], '  format PATH...'],
    [['import', 'acpi', '--help'], '  import sysfs DIR'],
    [['export', '--help'], '  export qemu|libvirt'],
  ] as const) {
    test(`${args.join(' ')} prints that command's usage and exits 0`, () => {
      const r = cli([...args]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`usage:\n${first}`), r.stdout);
      assert.doesNotMatch(r.stdout, /^commands:/m);
      assert.match(r.stdout, /^exit status: /m);
    });
  }

  test('-h after -- belongs to the QEMU command line, not to iommu-lens', () => {
    const r = cli(['import', 'qemu', '--', '-h']);
    assert.doesNotMatch(r.stdout, /^usage:/);
  });

  test('an unknown option names the options the command takes', () => {
    const r = cli(['check', '--nope', BROKEN]);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      "iommu-lens: Unknown option '--nope'; check takes --format, --fix, --dry-run, --max-file-size, --severity, --shard, --jobs (and --help)\n" +
        "run 'iommu-lens --help' for usage\n",
    );
    const imp = cli(['import', 'acpi', '--bogus', 'x']);
    assert.match(imp.stderr, /^iommu-lens: Unknown option '--bogus'; import acpi takes --platform, --pci \(and --help\)$/m);
  });
});

describe('what CI and pre-commit run', () => {
  test('the commands of docs/ci.md and of .pre-commit-hooks.yaml exist and run (exit 0 or 1, never 2)', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8');
    const hooks = readFileSync(join(ROOT, '.pre-commit-hooks.yaml'), 'utf8');
    // The CI's own variables, as a matrix job sets them: the first shard of four.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub Actions' own expression syntax, replaced as the runner does
    const matrix = (c: string) => c.replace('${{ matrix.shard }}', '1').replace('$CI_NODE_INDEX', '1').replace('$CI_NODE_TOTAL', '4');
    const commands = [
      ...[...docs.matchAll(/npx --yes iommu-lens (check[^>\n]*?)(?: >|\n)/g)].map((m) => matrix(m[1]!.trim())),
      ...[...hooks.matchAll(/^ {2}entry: iommu-lens (.+)$/gm)].map((m) => `${m[1]!.trim()} .`),
    ];
    assert.ok(commands.length >= 5, commands.join('\n'));
    for (const command of commands) {
      const dir = copyOf('examples/rack-pool');
      const r = cli(command.split(' '), dir);
      assert.ok(r.status === 0 || r.status === 1, `${command}: ${r.status} ${r.stderr}`);
      if (command.includes('sarif')) assert.ok(validator()(JSON.parse(r.stdout)));
    }
  });

  test('npm pack (pre-commit installs this way) carries the bundles, launchers and docs, no sources or tests', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['bin/iommu-lens.cjs', 'bin/iommu-lens-server.cjs', 'dist/cli.cjs', 'dist/server.cjs', 'docs/diagnostics.md'])
      assert.ok(files.includes(f), `${f} missing`);
    assert.deepEqual(
      files.filter((f) => /\.ts$|^test\/|^server\/|^grammar\/|\.map$/.test(f)),
      [],
    );
    // pre-commit takes npm pack's standard output as the tarball's name: the build's banner must not be there.
    assert.match(readFileSync(join(ROOT, '.npmrc'), 'utf8'), /^foreground-scripts=false$/m);
  });
});

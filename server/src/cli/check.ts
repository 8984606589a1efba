/**
 * `iommu-lens check`: findings as text, JSON, SARIF or GitHub annotations, and `--fix`, which
 * applies the unambiguous fixes (or with `--dry-run` prints them as a unified diff).
 */
import { relative, sep } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { type Analysis, DEFAULT_OPTIONS, parseSeverityOverrides, type AnalysisOptions } from '../ide';
import type { Span } from '@iommu-lens/grammar';
import { CODES } from '../domains';
import type { Finding } from '../model';
import { applyEdits, load, replace, reread, type Io } from './context';
import { escapeText } from './escape';
import type { InputFile } from './files';
import { planFixes, type FixPlan } from './fixes';
import { formatGithub, formatJson, formatText, toOutput, type OutputFinding } from './report';
import { type SarifFinding, toSarif } from './sarif';
import { options, UsageError, VERSION } from './usage';

const FORMATS = ['text', 'json', 'sarif', 'github'] as const;
type Format = (typeof FORMATS)[number];

export function check(args: readonly string[], io: Io): number {
  const { values, positionals } = options(
    args,
    {
      format: { type: 'string', default: 'text' },
      fix: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'max-file-size': { type: 'string' },
      severity: { type: 'string', multiple: true },
    },
    'check',
  );
  const format = values.format as string;
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format must be text, json, sarif or github, not '${escapeText(format)}'`);
  if (values['dry-run'] && !values.fix) throw new UsageError('--dry-run goes with --fix');
  const opts = analysisOptions(values['max-file-size'] as string | undefined, (values.severity ?? []) as string[]);
  if (positionals.length === 0) throw new UsageError('check needs at least one PATH');
  let { analysis, inputs } = load(positionals, io, opts);
  if (values.fix) {
    const plan = planFixes(
      inputs.flatMap((f) => analysis.findings.get(f.uri) ?? []),
      new Set(inputs.map((f) => f.uri)),
    );
    if (values['dry-run']) return dryRun(plan, analysis, inputs, io);
    // What was written is read back: the findings that remain are those of the files as they now are.
    const notes = format === 'text' ? io.out : io.err;
    const failed = applyFixes(plan, analysis, inputs, io, notes);
    ({ analysis, inputs } = load(positionals, io, opts));
    const status = report(analysis, inputs, format as Format, io);
    return failed ? 2 : status;
  }
  return report(analysis, inputs, format as Format, io);
}

function analysisOptions(maxSize: string | undefined, severities: string[]): AnalysisOptions {
  let maxFileSize = DEFAULT_OPTIONS.maxFileSize;
  if (maxSize !== undefined) {
    const n = Number(maxSize);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--max-file-size must be a positive whole number`);
    maxFileSize = n;
  }
  const pairs = severities.map((s) => {
    const eq = s.indexOf('=');
    if (eq < 0) throw new UsageError(`--severity takes CODE=LEVEL, not '${s}'`);
    return [s.slice(0, eq), s.slice(eq + 1)] as const;
  });
  const { overrides: severity, problems } = parseSeverityOverrides(pairs, CODES);
  if (problems.length) throw new UsageError(`--severity: ${problems.join('; ')}`);
  return { maxFileSize, severity };
}

/** Prints the findings in `format`; the exit status says whether any is an error. */
function report(analysis: Analysis, inputs: readonly InputFile[], format: Format, io: Io): number {
  const findings = inputs.flatMap((f) => analysis.findings.get(f.uri) ?? []);
  const displayOf = new Map(inputs.map((f) => [f.uri, f.display]));
  const range = (uri: string, span: Span) => analysis.lineIndex(uri).range(span);
  if (format === 'sarif') {
    const uriOf = sarifUris(inputs, io.cwd);
    io.out(
      toSarif(
        findings.map((x) => sarifFinding(x, uriOf, range)),
        { version: VERSION, codes: CODES, docs: io.docs, root: io.cwd },
      ),
    );
  } else {
    const out: OutputFinding[] = findings.map((x) => toOutput(x, (uri) => displayOf.get(uri) ?? uri, range));
    const render = format === 'json' ? formatJson : format === 'github' ? formatGithub : formatText;
    io.out(render(out, inputs.length));
  }
  // An internal error's stack, once per failure, for the bug report (stdout stays the findings).
  const causes = new Set(findings.flatMap((x) => x.cause ?? []));
  for (const c of causes) io.err(`iommu-lens: internal error (please report it with the file): ${c}\n`);
  return findings.some((f) => f.severity === 'error') ? 1 : 0;
}

/** Each file's SARIF URI: relative to the working directory (the checkout, in CI), else a file URL. */
function sarifUris(inputs: readonly InputFile[], cwd: string): (uri: string) => string {
  const map = new Map(
    inputs.map((f) => {
      const rel = relative(cwd, f.path);
      const inside = rel !== '' && !rel.startsWith('..') && !/^[a-z]:/i.test(rel) && !rel.startsWith(sep);
      return [f.uri, inside ? rel.split(sep).map(encodeURIComponent).join('/') : f.uri];
    }),
  );
  return (uri) => map.get(uri) ?? uri;
}

function sarifFinding(f: Finding, uriOf: (uri: string) => string, range: (uri: string, span: Span) => SarifFinding['at']['range']) {
  const place = (uri: string, span: Span) => ({ uri: uriOf(uri), range: range(uri, span) });
  return {
    code: f.code,
    severity: f.severity,
    message: f.message,
    at: place(f.uri, f.span),
    related: f.related.map((r) => ({ ...place(r.uri, r.span), message: r.message })),
    fixes: f.fixes.map((x) => ({ title: x.title, edits: x.edits.map((e) => ({ ...place(e.uri, e.span), newText: e.newText })) })),
  };
}

/** `file:line:col: CODE: what the fix does`, for the fixes applied or shown. */
function describe(plan: FixPlan, analysis: Analysis, inputs: readonly InputFile[]): string[] {
  const displayOf = new Map(inputs.map((f) => [f.uri, f.display]));
  const where = (f: Finding) => {
    const p = analysis.lineIndex(f.uri).range(f.span).start;
    return `${escapeText(displayOf.get(f.uri) ?? f.uri)}:${p.line + 1}:${p.character + 1}`;
  };
  return [
    ...plan.chosen.map(({ finding, fix }) => `${where(finding)}: fixed ${finding.code}: ${fix.title}`),
    ...plan.skipped.map(({ finding, why }) => `${where(finding)}: not fixed ${finding.code}: ${why}`),
  ];
}

/** Writes each changed file through a temporary file; returns whether any could not be written. */
function applyFixes(plan: FixPlan, analysis: Analysis, inputs: readonly InputFile[], io: Io, notes: (s: string) => void): boolean {
  let failed = false;
  for (const input of inputs) {
    const edits = plan.edits.get(input.uri);
    if (!edits) continue;
    const read = reread(input, io);
    // The fixes' offsets are into the text analysed; a file changed since is left alone.
    const problem =
      'problem' in read
        ? `cannot read '${escapeText(input.display)}': ${read.problem}; not fixed`
        : read.file.text !== input.text
          ? `${escapeText(input.display)}: not fixed: it changed since it was read; run check --fix again`
          : replace(read.file, applyEdits(input.text, edits), read.snapshot, io, 'run check --fix again');
    if (problem) {
      io.err(`iommu-lens: ${problem}\n`);
      failed = true;
      plan.chosen = plan.chosen.filter((c) => c.fix.edits[0]!.uri !== input.uri);
    }
  }
  const lines = describe(plan, analysis, inputs);
  if (lines.length) notes(`${lines.join('\n')}\n`);
  return failed;
}

/** `--fix --dry-run`: the unified diff of every file the fixes would change, on standard output. */
function dryRun(plan: FixPlan, analysis: Analysis, inputs: readonly InputFile[], io: Io): number {
  for (const input of inputs) {
    const edits = plan.edits.get(input.uri);
    if (!edits) continue;
    const name = input.display.split(sep).join('/');
    io.out(createTwoFilesPatch(`a/${name}`, `b/${name}`, input.text, applyEdits(input.text, edits), '', '', { context: 3 }));
  }
  const lines = describe(plan, analysis, inputs);
  if (lines.length) io.err(`${lines.join('\n')}\n`);
  return inputs.some((f) => analysis.findings.get(f.uri)?.some((x) => x.severity === 'error')) ? 1 : 0;
}

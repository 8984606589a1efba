/**
 * `iommu-lens check`: findings as text, JSON, SARIF or GitHub annotations, and `--fix`, which
 * applies the unambiguous fixes (or with `--dry-run` prints them as a unified diff).
 */
import { relative, sep } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { type Analysis, DEFAULT_OPTIONS, parseSeverityOverrides, type AnalysisOptions } from '../ide';
import { CODES } from '../domains';
import type { Finding } from '../model';
import { applyEdits, load, replace, reread, type Io } from './context';
import { escapeText } from './escape';
import { planFixes, type FixPlan } from './fixes';
import { collectInputs, type InputFile } from './files';
import { formatGithub, formatJson, formatText, toOutput, type OutputFinding, type PlacedFinding } from './report';
import { checkStreamed, MAX_JOBS, placeAll, type Shard, type Streamed } from './stream';
import { type SarifFinding, toSarif } from './sarif';
import { options, UsageError, VERSION } from './usage';

const FORMATS = ['text', 'json', 'sarif', 'github'] as const;
type Format = (typeof FORMATS)[number];

export function check(args: readonly string[], io: Io): number | Promise<number> {
  const { values, positionals } = options(
    args,
    {
      format: { type: 'string', default: 'text' },
      fix: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'max-file-size': { type: 'string' },
      severity: { type: 'string', multiple: true },
      shard: { type: 'string' },
      jobs: { type: 'string' },
    },
    'check',
  );
  const format = values.format as string;
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format must be text, json, sarif or github, not '${escapeText(format)}'`);
  if (values['dry-run'] && !values.fix) throw new UsageError('--dry-run goes with --fix');
  const opts = analysisOptions(values['max-file-size'] as string | undefined, (values.severity ?? []) as string[]);
  if (positionals.length === 0) throw new UsageError('check needs at least one PATH');
  const shard = parseShard(values.shard as string | undefined);
  const jobs = parseJobs(values.jobs as string | undefined);
  if (values.fix && (values.shard !== undefined || values.jobs !== undefined))
    throw new UsageError('--fix rewrites files and checks them again in one process: it takes neither --shard nor --jobs');
  if (values.fix) {
    let { analysis, inputs } = load(positionals, io, opts);
    const plan = planFixes(
      inputs.flatMap((f) => analysis.findings.get(f.uri) ?? []),
      new Set(inputs.map((f) => f.uri)),
    );
    if (values['dry-run']) return dryRun(plan, analysis, inputs, io);
    // What was written is read back: the findings that remain are those of the files as they now are.
    const notes = format === 'text' ? io.out : io.err;
    const failed = applyFixes(plan, analysis, inputs, io, notes);
    ({ analysis, inputs } = load(positionals, io, opts));
    const status = report(placeAll(analysis, inputs), inputs, inputs.length, format as Format, io);
    return failed ? 2 : status;
  }
  const inputs = collectInputs(positionals, io.cwd, (note) => io.err(`iommu-lens: ${note}\n`));
  const streamed = checkStreamed(inputs, { options: opts, stages: io.stages, shard, jobs, worker: io.worker });
  const print = (r: Streamed) => report(r.findings, inputs, r.files, format as Format, io);
  return streamed instanceof Promise ? streamed.then(print) : print(streamed);
}

/** `--shard K/N`: which part of the workspace's components this run checks (1 <= K <= N). */
function parseShard(spec: string | undefined): Shard {
  if (spec === undefined) return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(n) || n < 1 || k < 1 || k > n)
    throw new UsageError(`--shard takes K/N with 1 <= K <= N (e.g. 2/4), not '${escapeText(spec)}'`);
  return { index: k - 1, count: n };
}

/** `--jobs N`: worker threads (1: none); at most MAX_JOBS. */
function parseJobs(spec: string | undefined): number {
  if (spec === undefined) return 1;
  const n = Number(spec);
  if (!/^\d+$/.test(spec) || n < 1 || n > MAX_JOBS)
    throw new UsageError(`--jobs takes a whole number from 1 to ${MAX_JOBS}, not '${escapeText(spec)}'`);
  return n;
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

/**
 * Prints the findings in `format`; the exit status says whether any is an error. `inputs`:
 * every file read (they name the places); `checked`: how many files the findings cover.
 */
function report(findings: readonly PlacedFinding[], inputs: readonly InputFile[], checked: number, format: Format, io: Io): number {
  if (format === 'sarif') {
    const uriOf = sarifUris(inputs, io.cwd);
    const at = <T extends { uri: string }>(p: T) => ({ ...p, uri: uriOf(p.uri) });
    const sarif: SarifFinding[] = findings.map((x) => ({
      code: x.code,
      severity: x.severity,
      message: x.message,
      at: at({ uri: x.uri, range: x.range }),
      related: x.related.map(at),
      fixes: x.fixes.map((fix) => ({ title: fix.title, edits: fix.edits.map(at) })),
    }));
    io.out(toSarif(sarif, { version: VERSION, codes: CODES, docs: io.docs, root: io.cwd }));
  } else {
    const displayOf = new Map(inputs.map((f) => [f.uri, f.display]));
    const out: OutputFinding[] = findings.map((x) => toOutput(x, (uri) => displayOf.get(uri) ?? uri));
    const render = format === 'json' ? formatJson : format === 'github' ? formatGithub : formatText;
    io.out(render(out, checked));
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

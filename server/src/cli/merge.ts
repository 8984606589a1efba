/**
 * `iommu-lens merge-reports FILE...`: the JSON or SARIF outputs of `check --shard K/N`, one
 * per shard, as the one output `check` gives without `--shard`. A shard checks whole
 * components, so each file's findings are all in one report, already in order; the merge
 * puts the files back in the order `check` goes through them (by the name it shows).
 */
import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errnoReason } from './errors';
import { escapeText } from './escape';
import { InputError } from './files';
import type { Io } from './context';
import { options, UsageError } from './usage';

interface Report {
  name: string;
  format: 'json' | 'sarif';
  /** The findings (JSON) or results (SARIF), in the report's order. */
  items: unknown[];
  /** SARIF: the log around its results. */
  log?: { runs: [Record<string, unknown>] };
}

export function mergeReports(args: readonly string[], io: Io): number {
  const { positionals } = options(args, {}, 'merge-reports');
  if (positionals.length === 0) throw new UsageError('merge-reports needs at least one FILE (the JSON or SARIF output of check --shard)');
  const reports = positionals.map((p) => readReport(p, io.cwd));
  const format = reports[0]!.format;
  const other = reports.find((r) => r.format !== format);
  if (other)
    throw new InputError(
      `'${escapeText(other.name)}' is ${other.format} and '${escapeText(reports[0]!.name)}' is ${format}: merge reports of one format`,
    );
  const keyOf = format === 'json' ? (x: unknown) => String((x as { file?: unknown }).file) : sarifFile;
  // Each file's findings, kept whole, with the report they came from.
  const files = new Map<string, { from: string; items: unknown[] }>();
  for (const r of reports) {
    let last: string | undefined;
    for (const item of r.items) {
      const key = keyOf(item);
      const seen = files.get(key);
      if (!seen) files.set(key, { from: r.name, items: [item] });
      else if (seen.from === r.name && key === last) seen.items.push(item);
      else
        throw new InputError(
          `findings of '${escapeText(key)}' are in '${escapeText(seen.from)}' and '${escapeText(r.name)}' (or apart in one): ` +
            'merge the shards of one run, each once',
        );
      last = key;
    }
  }
  const keys = [...files.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const merged = keys.flatMap((k) => files.get(k)!.items);
  if (format === 'json') io.out(`${JSON.stringify(merged, null, 2)}\n`);
  else {
    const first = reports[0]!.log!;
    const around = (log: Report['log']) => JSON.stringify({ ...log, runs: [{ ...log!.runs[0], results: [] }] });
    const odd = reports.find((r) => around(r.log) !== around(first));
    if (odd)
      throw new InputError(
        `'${escapeText(odd.name)}' and '${escapeText(reports[0]!.name)}' differ beyond their results ` +
          '(another version of iommu-lens, or another working directory): merge the shards of one run',
      );
    io.out(`${JSON.stringify({ ...first, runs: [{ ...first.runs[0], results: merged }] }, null, 2)}\n`);
  }
  const isError =
    format === 'json'
      ? (x: unknown) => (x as { severity?: unknown }).severity === 'error'
      : (x: unknown) => (x as { level?: unknown }).level === 'error';
  return merged.some(isError) ? 1 : 0;
}

function readReport(path: string, cwd: string): Report {
  const name = path;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (e) {
    throw new InputError(`cannot read '${escapeText(name)}': ${errnoReason(e)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(`'${escapeText(name)}' is not JSON: merge-reports reads check --format json or sarif`);
  }
  if (Array.isArray(value) && value.every((x) => typeof x === 'object' && x !== null && typeof x.file === 'string'))
    return { name, format: 'json', items: value };
  const log = value as { version?: unknown; runs?: unknown };
  const run = Array.isArray(log?.runs) && log.runs.length === 1 ? (log.runs[0] as { results?: unknown }) : undefined;
  const results = run?.results;
  if (log?.version === '2.1.0' && Array.isArray(results) && results.every((r) => typeof sarifFileOf(r) === 'string'))
    return { name, format: 'sarif', items: results, log: log as Report['log'] };
  throw new InputError(`'${escapeText(name)}' is neither check --format json nor --format sarif output`);
}

function sarifFileOf(result: unknown): unknown {
  return (result as { locations?: { physicalLocation?: { artifactLocation?: { uri?: unknown } } }[] })?.locations?.[0]?.physicalLocation
    ?.artifactLocation?.uri;
}

/**
 * The name `check` shows for a SARIF result's file (cli/files.ts `display`), which orders its
 * output: a relative URI's segments decoded, or a file URL's path.
 */
function sarifFile(result: unknown): string {
  const uri = sarifFileOf(result) as string;
  try {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(uri)) return uri.split('/').map(decodeURIComponent).join('/');
    return uri.startsWith('file:') ? fileURLToPath(uri).split(sep).join('/') : uri;
  } catch {
    return uri; // not one check wrote (bad escapes): ordered as written
  }
}

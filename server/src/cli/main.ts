/**
 * `iommu-lens`: the command-line front of the same engine the language server runs.
 * Exit status: 0 no errors, 1 errors found, 2 usage error or unreadable input.
 */
import { parseArgs } from 'node:util';
import { AnalysisHost, DEFAULT_OPTIONS } from '../ide';
import { collectInputs, InputError } from './files';
import { formatJson, formatText, toOutput } from './report';

const VERSION = '0.1.0';

const USAGE = `usage: iommu-lens <command> [options]

commands:
  check PATH...     check .iommu files (directories are searched recursively)
      --format text|json   output format (default text)
      --max-file-size N    skip files over N characters (default ${DEFAULT_OPTIONS.maxFileSize})

options:
  -h, --help        show this help
  -V, --version     show the version

exit status: 0 no errors, 1 errors found, 2 usage error or unreadable path`;

export interface Io { out: (s: string) => void; err: (s: string) => void; cwd: string }

class UsageError extends Error {}

export function run(argv: readonly string[], io: Io): number {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      io.out(USAGE + '\n');
      return command === undefined ? 2 : 0;
    }
    if (command === '-V' || command === '--version') {
      io.out(`iommu-lens ${VERSION}\n`);
      return 0;
    }
    if (command === 'check') return check(rest, io);
    throw new UsageError(`unknown command '${command}'`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof InputError) {
      io.err(`iommu-lens: ${e.message}\n${e instanceof UsageError ? "run 'iommu-lens --help' for usage\n" : ''}`);
      return 2;
    }
    throw e;
  }
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string }>;

function options(args: readonly string[], spec: OptionSpec): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...args], options: spec, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

function check(args: readonly string[], io: Io): number {
  const { values, positionals } = options(args, {
    format: { type: 'string', default: 'text' },
    'max-file-size': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { io.out(USAGE + '\n'); return 0; }
  const format = values.format as string;
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not '${format}'`);
  let maxFileSize = DEFAULT_OPTIONS.maxFileSize;
  if (values['max-file-size'] !== undefined) {
    const n = Number(values['max-file-size'] as string);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--max-file-size must be a positive whole number`);
    maxFileSize = n;
  }
  if (positionals.length === 0) throw new UsageError('check needs at least one PATH');
  const inputs = collectInputs(positionals, io.cwd);
  const host = new AnalysisHost({ maxFileSize });
  const displayOf = new Map<string, string>();
  for (const f of inputs) {
    host.setFile(f.uri, f.text);
    displayOf.set(f.uri, f.display);
  }
  const analysis = host.analyze();
  const out = inputs.flatMap((f) => (analysis.findings.get(f.uri) ?? []).map((x) =>
    toOutput(x, (uri) => displayOf.get(uri) ?? uri, (uri, span) => analysis.lineIndex(uri).range(span))));
  io.out(format === 'json' ? formatJson(out) : formatText(out, inputs.length));
  return out.some((f) => f.severity === 'error') ? 1 : 0;
}

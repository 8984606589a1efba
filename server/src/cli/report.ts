/** The CLI's output formats for findings: compiler-style text, JSON and GitHub Actions annotations (SARIF: sarif.ts). */
import type { Finding, Severity } from '../model';
import type { Range } from '../ide';

/** A finding with its file names and ranges resolved for output. */
export interface OutputFinding {
  file: string;
  range: Range;
  severity: Severity;
  code: string;
  message: string;
  related: { file: string; range: Range; message: string }[];
}

/**
 * A finding with the range of every place it names (its own, its related locations', its
 * fixes' edits): plain data, so a component analysed on a worker thread hands it back as is,
 * and every output format is made from it.
 */
export interface PlacedFinding {
  uri: string;
  range: Range;
  severity: Severity;
  code: string;
  message: string;
  related: { uri: string; range: Range; message: string }[];
  fixes: { title: string; edits: { uri: string; range: Range; newText: string }[] }[];
  /** An internal error's stack (for stderr). */
  cause?: string;
}

export function placeFinding(f: Finding, range: (uri: string, span: Finding['span']) => Range): PlacedFinding {
  return {
    uri: f.uri,
    range: range(f.uri, f.span),
    severity: f.severity,
    code: f.code,
    message: f.message,
    related: f.related.map((r) => ({ uri: r.uri, range: range(r.uri, r.span), message: r.message })),
    fixes: f.fixes.map((x) => ({
      title: x.title,
      edits: x.edits.map((e) => ({ uri: e.uri, range: range(e.uri, e.span), newText: e.newText })),
    })),
    ...(f.cause === undefined ? {} : { cause: f.cause }),
  };
}

export function toOutput(f: PlacedFinding, file: (uri: string) => string): OutputFinding {
  return {
    file: file(f.uri),
    range: f.range,
    severity: f.severity,
    code: f.code,
    message: f.message,
    related: f.related.map((r) => ({ file: file(r.uri), range: r.range, message: r.message })),
  };
}

/** `file:line:col: severity CODE message` (1-based), related locations indented below. */
export function formatText(findings: readonly OutputFinding[], fileCount: number): string {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${f.file}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${f.severity} ${f.code} ${oneLine(f.message)}`);
    for (const r of f.related) {
      lines.push(`    ${r.file}:${r.range.start.line + 1}:${r.range.start.character + 1}: note: ${oneLine(r.message)}`);
    }
  }
  lines.push(summary(findings, fileCount));
  return `${lines.join('\n')}\n`;
}

export function formatJson(findings: readonly OutputFinding[]): string {
  return `${JSON.stringify(findings, null, 2)}\n`;
}

/** A workflow command's level: GitHub Actions annotates errors, warnings and notices. */
const GITHUB_LEVEL: Record<Severity, string> = { error: 'error', warning: 'warning', information: 'notice', hint: 'notice' };

/**
 * GitHub Actions workflow commands (`::error file=F,line=L,col=C,...::message`), which the
 * runner turns into annotations on the files and the pull request; related locations go in
 * the message. Escaping follows the runner's toolkit (`%`, CR, LF; in properties also `:` `,`).
 */
export function formatGithub(findings: readonly OutputFinding[], fileCount: number): string {
  const data = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const property = (s: string) => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const lines = findings.map((f) => {
    const where = [
      `file=${property(f.file)}`,
      `line=${f.range.start.line + 1}`,
      `col=${f.range.start.character + 1}`,
      `endLine=${f.range.end.line + 1}`,
      `endColumn=${f.range.end.character + 1}`,
      `title=${property(f.code)}`,
    ];
    const related = f.related.map((r) => `\n${r.file}:${r.range.start.line + 1}:${r.range.start.character + 1}: ${oneLine(r.message)}`);
    return `::${GITHUB_LEVEL[f.severity]} ${where.join(',')}::${data(oneLine(f.message) + related.join(''))}`;
  });
  lines.push(summary(findings, fileCount));
  return `${lines.join('\n')}\n`;
}

export function summary(findings: readonly OutputFinding[], fileCount: number): string {
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
  return (
    `${plural(fileCount, 'file')} checked: ${plural(count('error'), 'error')}, ${plural(count('warning'), 'warning')}, ` +
    `${plural(count('information'), 'information', 'information')}, ${plural(count('hint'), 'hint')}`
  );
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

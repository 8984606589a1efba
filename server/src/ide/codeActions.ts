/**
 * Code actions: every fix the engines attached to a finding under the cursor, plus
 * creating what a name refers to when nothing declares it (a device on the platform it
 * was looked up on, a platform, a guest). Creations insert a skeleton block in the
 * file's own indentation; they never touch anything else.
 */
import type { Span } from '@iommu-lens/grammar';
import type { Finding, Platform, Unresolved } from '../model';
import type { Analysis } from './analysis';
import type { TextEdit } from './navigation';

export interface CodeAction {
  title: string;
  edits: TextEdit[];
  /** The finding the action answers, so the editor can tie it to its diagnostic. */
  finding?: Finding;
  isPreferred?: boolean;
}

const touches = (s: Span, range: Span) => s.start <= range.end && range.start <= s.end;

export function codeActions(a: Analysis, uri: string, range: Span): CodeAction[] {
  const out: CodeAction[] = [];
  const findings = (a.findings.get(uri) ?? []).filter((f) => touches(f.span, range));
  for (const f of findings) {
    for (const fix of f.fixes)
      out.push({ title: fix.title, edits: fix.edits.map((e) => fitToFile(a, e)), finding: f, isPreferred: f.fixes.length === 1 });
  }
  for (const u of a.model.unresolved) {
    if (u.uri !== uri || !touches(u.span, range)) continue;
    const finding = findings.find((f) => f.code === 'unknown-name' && f.span.start === u.span.start && f.span.end === u.span.end);
    for (const action of creations(a, u)) out.push({ ...action, finding });
  }
  return out;
}

/**
 * The engines write fixes without the text: `\n` line breaks, two-space indentation, and
 * new lines inserted right after a statement. Here they get the file's line breaks and
 * the indentation of the line they follow, and move past its trailing comment.
 */
function fitToFile(a: Analysis, e: TextEdit): TextEdit {
  const lines = a.lineIndex(e.uri);
  const eol = lines.eol;
  let { span, newText } = e;
  if (span.start === span.end && newText.startsWith('\n')) {
    const line = lines.lineAround(span.start);
    if (/^[ \t]*(?:\/\/.*)?$/.test(lines.text.slice(span.start, line.end))) span = { start: line.end, end: line.end };
    // Engines indent a statement by two spaces; the file may use its own indentation:
    // a statement's own, or (after a block's `{`) that of the block's first line.
    const indentOf = (l: Span) => /^[ \t]*/.exec(lines.text.slice(l.start, l.end))![0];
    let indent = indentOf(line);
    if (/\{[ \t]*(?:\/\/.*)?$/.test(lines.text.slice(line.start, line.end))) {
      const next = line.end < lines.text.length ? indentOf(lines.lineAround(line.end + eol.length)) : '';
      indent = next.length > indent.length ? next : `${indent}  `;
    }
    newText = newText.replace(/\n {2}(?! )/g, `\n${indent}`);
  }
  return { uri: e.uri, span, newText: eol === '\n' ? newText : newText.replace(/\n/g, eol) };
}

function creations(a: Analysis, u: Unresolved): CodeAction[] {
  const out: CodeAction[] = [];
  if (u.platform && u.kinds.includes('device')) {
    const edit = createDevice(a, u.platform, u.name);
    if (edit) out.push({ title: `Create device '${u.name}' on platform ${u.platform.sym.name}`, edits: [edit] });
  }
  if (!u.platform && u.kinds.includes('platform')) {
    out.push({ title: `Create platform '${u.name}'`, edits: [appendBlock(a, u.uri, `platform ${u.name} {\n}`)] });
  }
  if (!u.platform && u.kinds.includes('guest')) {
    const on = [...a.model.platforms.values()].find((p) => p.sym.uri === u.uri) ?? a.model.platforms.values().next().value;
    if (on)
      out.push({
        title: `Create guest '${u.name}' on platform ${on.sym.name}`,
        edits: [appendBlock(a, u.uri, `guest ${u.name} on ${on.sym.name} {\n}`)],
      });
  }
  return out;
}

/**
 * `device NAME { iommu I }` as the platform's last member, indented like its other
 * members. The IOMMU is filled in when the platform has exactly one: the device is
 * then assignable as soon as it has a group.
 */
function createDevice(a: Analysis, p: Platform, name: string): TextEdit | undefined {
  const close = p.decl.braces?.close;
  if (!close) return undefined;
  const lines = a.lineIndex(p.sym.uri);
  const { text, eol } = lines;
  const indentAt = (offset: number) => /^[ \t]*/.exec(text.slice(lines.lineAround(offset).start, offset))![0];
  const outer = indentAt(p.decl.span.start);
  const first = p.decl.items[0];
  const inner =
    first && lines.lineAround(first.span.start).start > lines.lineAround(p.decl.span.start).start
      ? indentAt(first.span.start)
      : `${outer}  `;
  const step = inner.startsWith(outer) && inner.length > outer.length ? inner.slice(outer.length) : '  ';
  const iommus = [...p.iommus.values()];
  const body = iommus.length === 1 ? `${eol}${inner}${step}iommu ${iommus[0]!.sym.name}${eol}${inner}` : eol + inner;
  const block = `${inner}device ${name} {${body}}${eol}`;
  const start = lines.lineAround(close.start).start;
  if (/^[ \t]*$/.test(text.slice(start, close.start))) {
    return { uri: p.sym.uri, span: { start, end: start }, newText: block };
  }
  // `platform p { ... }` on one line: open it up before its `}`.
  return { uri: p.sym.uri, span: { start: close.start, end: close.start }, newText: `${eol}${block}${outer}` };
}

/** A new top-level block at the end of the file, after one blank line. */
function appendBlock(a: Analysis, uri: string, block: string): TextEdit {
  const { text, eol } = a.lineIndex(uri);
  const end = text.length;
  const lead = text.length === 0 || text.endsWith(eol + eol) ? '' : text.endsWith(eol) ? eol : eol + eol;
  return { uri, span: { start: end, end }, newText: `${lead}${block.replace(/\n/g, eol)}${eol}` };
}

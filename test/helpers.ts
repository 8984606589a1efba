/** Shared test helpers: inline workspaces and AST walking. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse, type SourceFile, type Span } from '@iommu-lens/grammar';
import { AnalysisHost, type Analysis } from '../server/src/ide';
import type { Finding } from '../server/src/model';
import { EXAMPLES, workspaceAt } from './files';
import { DOMAINS } from '../server/src/domains';

/** The text a span covers. */
export function slice(text: string, span: Span): string {
  return text.slice(span.start, span.end);
}

/** Parses and fails loudly on any syntax diagnostic. */
export function parseClean(text: string): SourceFile {
  const f = parse(text);
  if (f.diagnostics.length) {
    throw new Error(`unexpected diagnostics:\n${f.diagnostics.map((d) => `${d.code} ${d.message} @${d.span.start}`).join('\n')}`);
  }
  return f;
}

/** Analyses an inline workspace: `{ 'a.iommu': text, ... }`. */
export function analyze(files: Record<string, string>): Analysis & { all: Finding[] } {
  const host = new AnalysisHost(DOMAINS);
  for (const [name, text] of Object.entries(files)) host.setFile(uri(name), text);
  const a = host.analyze();
  return { ...a, all: [...a.findings.values()].flat() };
}

export function uri(name: string): string {
  return `file:///ws/${name}`;
}

/** Every object in a tree (for checking spans of every AST node). */
export function* walk(node: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(node)) {
    for (const n of node) yield* walk(n);
  } else if (node && typeof node === 'object') {
    yield node as Record<string, unknown>;
    for (const v of Object.values(node)) yield* walk(v);
  }
}

/** Codes of the findings, with the text each points at: `code@text`. */
/** The one finding with `code` (the assertion lists every finding when there is not exactly one). */
export function only(a: { all: Finding[] } | Finding[], code: string): Finding {
  const all = Array.isArray(a) ? a : a.all;
  const f = all.filter((x) => x.code === code);
  assert.equal(f.length, 1, `one ${code}: ${all.map((x) => `${x.code} ${x.message}`).join('\n')}`);
  return f[0]!;
}

export function codesAt(a: { all: Finding[] }, files: Record<string, string>): string[] {
  return a.all.map((f) => `${f.code}@${slice(files[f.uri.replace('file:///ws/', '')]!, f.span)}`);
}

/** Applies a fix's edits (one file) to its text, last edit first so offsets stay valid. */
export function applyEdits(text: string, edits: readonly { span: Span; newText: string }[]): string {
  let out = text;
  for (const e of [...edits].sort((x, y) => y.span.start - x.span.start))
    out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return out;
}

/**
 * Inline text with markers, for ide-layer tests: `<|>` marks a cursor, `[[ ... ]]` a
 * range. Returns the text without markers, the cursor offsets and the ranges, in order.
 */
export function markers(marked: string): { text: string; cursors: number[]; ranges: Span[] } {
  let text = '';
  const cursors: number[] = [];
  const ranges: Span[] = [];
  const open: number[] = [];
  for (let i = 0; i < marked.length; ) {
    if (marked.startsWith('<|>', i)) {
      cursors.push(text.length);
      i += 3;
    } else if (marked.startsWith('[[', i)) {
      open.push(text.length);
      i += 2;
    } else if (marked.startsWith(']]', i)) {
      const start = open.pop();
      if (start === undefined) throw new Error(`']]' without '[[' at ${i}`);
      ranges.push({ start, end: text.length });
      i += 2;
    } else {
      text += marked[i];
      i++;
    }
  }
  if (open.length) throw new Error("'[[' without ']]'");
  return { text, cursors, ranges: ranges.sort((x, y) => x.start - y.start) };
}

/** One cursor: the text without its marker and the offset. */
export function cursor(marked: string): { text: string; offset: number } {
  const m = markers(marked);
  if (m.cursors.length !== 1) throw new Error(`expected one <|>, found ${m.cursors.length}`);
  return { text: m.text, offset: m.cursors[0]! };
}

/** A platform of `n` reserved regions, one per line, 4 KiB apart (a million is 47 MB). */
export function regions(n: number): string {
  const lines = ['platform huge {', '  iommu dmar0 vt-d'];
  for (let i = 0; i < n; i++) lines.push(`  reserved r${i} reserved 0x${(i * 0x2000).toString(16)} size 4K`);
  lines.push('}', '');
  return lines.join('\n');
}

/** The bundled examples (or one folder of them) as files of a workspace, uris as `uri()` makes them. */
export function exampleFiles(folder?: string): { uri: string; text: string }[] {
  const dir = folder ? join(EXAMPLES, folder) : EXAMPLES;
  return Object.entries(workspaceAt(dir)).map(([rel, text]) => ({ uri: uri(folder ? `${folder}/${rel}` : rel), text }));
}

/**
 * One fuzz input through everything the editor and the CLI reach: the analysis host
 * (grammar → model → simulator), then every IDE feature at several positions, formatting
 * and its promises, every code action applied and re-analysed, the address maps. What is
 * checked:
 * - nothing throws, and no `internal-error` finding (a check that threw);
 * - every range lies inside its document (findings, related locations, fixes, symbols,
 *   AST nodes, hovers, completions, edits, folding, selection, semantic tokens, hints,
 *   address-map sources), and what LSP clients require of some: a completion's range on
 *   the cursor's line around it, a symbol's name inside its range, selection parents
 *   strictly around their children;
 * - formatting changes only whitespace, is idempotent, and keeps the finding codes of a
 *   file without syntax errors; renaming a platform, guest, ... to a fresh name keeps them;
 * - the same files in another order, or re-analysed after edits were undone, give the
 *   same findings in the same order;
 * - each step (an analysis, one feature call) finishes within a generous time bound.
 *
 * Problems are collected, not thrown one by one, so a report shows all of an input's.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SourceFile, Span } from '@iommu-lens/grammar';
import {
  AnalysisHost,
  addressMap,
  addressMapTargetAt,
  codeActions,
  completion,
  definition,
  documentHighlights,
  documentSymbols,
  encodeSemanticTokens,
  foldingRanges,
  formatDocument,
  formatRange,
  hover,
  inlayHints,
  type LineIndex,
  prepareRename,
  references,
  rename,
  renderSvg,
  selectionRanges,
  semanticTokens,
  symbolAt,
  workspaceSymbols,
  type Analysis,
  type OutlineSymbol,
  type SelectionRange,
} from '../../server/src/ide';
import { mapSources } from '../../server/src/ide/addressMap';
import { run as runCliMain } from '../../server/src/cli/main';
import type { Engine } from '../../server/src/sim';
import { ROOT } from './corpus';
import type { Input } from './mutate';
import { DOMAINS, ENGINE_IDS } from '../../server/src/domains';

export interface Problem {
  /** `throw`, `internal-error`, `range`, `format`, `rename`, `order`, `incremental`, `slow`, `cli` (or `planted`). */
  kind: string;
  /** The feature or stage, e.g. `hover`, `analyze`, `code action`. */
  where: string;
  detail: string;
}

export interface CheckOptions {
  /** Positions per file at which the position-taking features run. */
  positions: number;
  /** At most this many code actions applied and re-analysed per input. */
  maxActions: number;
  /** The liveness bound per step (an analysis, one feature at one position), in milliseconds. */
  timeLimitMs: number;
  /**
   * A fault planted for testing the harness itself (finding, shrinking, minimising,
   * saving): text that counts as a failure wherever it appears; nothing else is checked.
   */
  plant?: string;
}

/** The bound of a whole input, in steps' bounds. */
const INPUT_BOUNDS = 6;

export const DEFAULT_CHECK: CheckOptions = { positions: 10, maxActions: 12, timeLimitMs: 5000 };

export const uriOf = (name: string): string => `file:///fuzz/${name}`;

/** A problem's identity for minimising: what failed where, numbers and names left out. */
export function signature(p: Problem): string {
  return `${p.kind}|${p.where}|${p.detail
    .split('\n')[0]!
    .replace(/'[^']*'/g, "''")
    .replace(/\d+/g, 'N')
    .slice(0, 120)}`;
}

export function describe(problems: readonly Problem[]): string {
  return problems.map((p) => `[${p.kind}] ${p.where}: ${p.detail}`).join('\n');
}

class Checker {
  readonly problems: Problem[] = [];
  private readonly seen = new Set<string>();
  /** Renames applied and re-analysed so far (two per input: each costs an analysis). */
  renames = 0;

  constructor(
    readonly texts: ReadonlyMap<string, string>,
    private readonly timeLimitMs: number,
  ) {}

  add(kind: string, where: string, detail: string): void {
    const p = { kind, where, detail };
    const key = signature(p);
    if (this.seen.has(key)) return; // one of each is enough to read
    this.seen.add(key);
    this.problems.push(p);
  }

  /** Runs `f`; a throw becomes a problem (with the top of its stack) and `undefined`; so does a step over the time bound. */
  guard<T>(where: string, f: () => T): T | undefined {
    const t0 = performance.now();
    try {
      return f();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const stack = (err.stack ?? '')
        .split('\n')
        .slice(1, 6)
        .map((l) => l.trim())
        .join(' | ');
      this.add('throw', where, `${err.name}: ${err.message}\n    ${stack}`);
      return undefined;
    } finally {
      const ms = performance.now() - t0;
      if (ms > this.timeLimitMs) this.add('slow', where, `took ${Math.round(ms)} ms, over the bound of ${this.timeLimitMs} ms`);
    }
  }

  span(where: string, uri: string, s: Span | undefined): void {
    const text = this.texts.get(uri);
    if (text === undefined) {
      this.add('range', where, `points into ${uri}, which is not in the workspace`);
      return;
    }
    if (!s || !Number.isInteger(s.start) || !Number.isInteger(s.end) || s.start < 0 || s.start > s.end || s.end > text.length) {
      this.add(
        'range',
        where,
        `span ${s ? `${s.start}..${s.end}` : String(s)} outside ${uri.replace('file:///fuzz/', '')} (0..${text.length})`,
      );
    }
  }
}

/** Every AST node's span inside the file (the grammar's invariant), and the file's length right. */
function checkAst(c: Checker, uri: string, ast: SourceFile): void {
  const text = c.texts.get(uri)!;
  if (ast.length !== text.length) c.add('range', 'parse', `ast.length ${ast.length} for a text of ${text.length}`);
  const visit = (node: unknown, depth: number): void => {
    if (depth > 200 || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n, depth + 1);
      return;
    }
    const span = (node as { span?: Span }).span;
    if (span && typeof span === 'object') c.span('ast node', uri, span);
    for (const [k, v] of Object.entries(node)) if (k !== 'span') visit(v, depth + 1);
  };
  visit(ast.decls, 0);
  for (const s of ast.comments) c.span('ast comment', uri, s);
  for (const d of ast.diagnostics) c.span('syntax diagnostic', uri, d.span);
}

/** A few offsets worth asking about: the edges, past the end as the LSP clamps it, and inside tokens spread over the file. */
function positionsIn(text: string, lines: LineIndex, n: number): number[] {
  const out = new Set<number>([0, text.length, lines.offset({ line: 1e6, character: 5 }), lines.offset({ line: 0, character: 1e6 })]);
  const starts = [...text.matchAll(/[A-Za-z0-9_]+|[^\sA-Za-z0-9_]/g)];
  const step = Math.max(1, Math.floor(starts.length / n));
  for (let i = 0; i < starts.length && out.size < n + 4; i += step) {
    const m = starts[i]!;
    out.add(m.index!);
    out.add(m.index! + Math.floor(m[0].length / 2));
  }
  return [...out].sort((a, b) => a - b);
}

function applyEdits(text: string, edits: readonly { span: Span; newText: string }[]): string | undefined {
  const sorted = [...edits].sort((x, y) => x.span.start - y.span.start || x.span.end - y.span.end);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    if (e.span.start < at) return undefined; // overlapping edits: reported by the caller
    out += text.slice(at, e.span.start) + e.newText;
    at = e.span.end;
  }
  return out + text.slice(at);
}

const codesOf = (a: Analysis, uri: string) =>
  (a.findings.get(uri) ?? [])
    .map((f) => f.code)
    .sort()
    .join(' ');

/**
 * A second host holding the same files, for what needs re-analysis (edited text): it
 * re-analyses incrementally, the way the server does after an edit.
 */
class Scratch {
  private readonly host = new AnalysisHost(DOMAINS);
  constructor(private readonly c: Checker) {
    for (const [uri, text] of c.texts) this.host.setFile(uri, text);
  }

  /** Analyses the workspace with the files of `changes` holding their new text (with `engines`), then puts the originals back. */
  withText(where: string, changes: ReadonlyMap<string, string>, engines?: ReadonlySet<Engine>): Analysis | undefined {
    for (const [uri, text] of changes) this.host.setFile(uri, text);
    const a = this.c.guard(where, () => this.host.analyze(undefined, engines));
    if (a) {
      for (const list of a.findings.values()) {
        for (const f of list) if (f.code === 'internal-error') this.c.add('internal-error', where, f.message);
      }
    }
    for (const uri of changes.keys()) this.host.setFile(uri, this.c.texts.get(uri) ?? '');
    return a;
  }

  /**
   * After all the edits above were undone, the host analyses the original workspace
   * again: what it reuses from its caches must give what a fresh host gave.
   */
  sameAsFresh(fresh: Analysis): void {
    const again = this.c.guard('analyze (after edits undone)', () => this.host.analyze());
    if (again) compareAnalyses(this.c, 'incremental', 'analyze (after edits undone)', fresh, again, ['a fresh analysis', 'the reused one']);
  }
}

/** Checks one input in this process; returns its problems and how long it took. */
export function checkInput(input: Input, options: CheckOptions = DEFAULT_CHECK): { ms: number; problems: Problem[] } {
  const t0 = performance.now();
  const texts = new Map(Object.entries(input.files).map(([name, text]) => [uriOf(name), text] as const));
  const c = new Checker(texts, options.timeLimitMs);
  if (options.plant !== undefined) {
    if ([...texts.values()].some((t) => t.includes(options.plant!))) c.add('planted', 'input', `holds '${options.plant}'`);
    return { ms: performance.now() - t0, problems: c.problems };
  }
  const host = new AnalysisHost(DOMAINS);
  for (const [uri, text] of texts) host.setFile(uri, text);
  const a = c.guard('analyze', () => host.analyze());
  if (a) {
    checkAnalysis(c, a, options);
    if (texts.size > 1) sameInAnyOrder(c, a);
  }
  const ms = performance.now() - t0;
  // Each step has the bound; the whole input (some twenty analyses, every feature at every position) a few times it.
  if (ms > INPUT_BOUNDS * options.timeLimitMs)
    c.add('slow', 'input', `took ${Math.round(ms)} ms, over the bound of ${INPUT_BOUNDS * options.timeLimitMs} ms`);
  return { ms, problems: c.problems };
}

const showFindings = (a: Analysis, uri: string) =>
  (a.findings.get(uri) ?? []).map((f) => `${f.code}@${f.span.start}-${f.span.end}: ${f.message}`);

/** Which finding first differs between two analyses of the same workspace, per file. */
function compareAnalyses(c: Checker, kind: string, where: string, x: Analysis, y: Analysis, names: [string, string]): void {
  for (const uri of c.texts.keys()) {
    const fx = showFindings(x, uri),
      fy = showFindings(y, uri);
    let at = 0;
    while (at < Math.max(fx.length, fy.length) && fx[at] === fy[at]) at++;
    if (at === Math.max(fx.length, fy.length)) continue;
    c.add(
      kind,
      where,
      `${uri.replace('file:///fuzz/', '')}: ${names[0]} has ${fx[at] ?? '(nothing more)'}, ${names[1]} ${fy[at] ?? '(nothing more)'} (${fx.length} vs ${fy.length} findings)`,
    );
  }
}

/** The same files given in the opposite order: the same findings in the same order (files go in URI order). */
function sameInAnyOrder(c: Checker, a: Analysis): void {
  const host = new AnalysisHost(DOMAINS);
  for (const [uri, text] of [...c.texts].reverse()) host.setFile(uri, text);
  const b = c.guard('analyze (files in another order)', () => host.analyze());
  if (b) compareAnalyses(c, 'order', 'analyze (files in another order)', a, b, ['in one order', 'in the other']);
}

function checkAnalysis(c: Checker, a: Analysis, options: CheckOptions): void {
  const uris = [...c.texts.keys()].sort();
  // Findings: where they point, their related locations, traces and fixes.
  for (const uri of uris) {
    const list = a.findings.get(uri);
    if (!list) {
      c.add('range', 'findings', `no findings entry for ${uri}`);
      continue;
    }
    for (const f of list) {
      const where = `finding ${f.code}`;
      if (f.code === 'internal-error') c.add('internal-error', 'analyze', f.message);
      if (f.uri !== uri) c.add('range', where, `listed under ${uri} but points into ${f.uri}`);
      c.span(where, f.uri, f.span);
      for (const r of f.related) c.span(`${where} related`, r.uri, r.span);
      for (const r of f.trace ?? []) c.span(`${where} trace`, r.uri, r.span);
      for (const fix of f.fixes) for (const e of fix.edits) c.span(`${where} fix '${fix.title}'`, e.uri, e.span);
    }
  }
  for (const s of a.model.symbols) {
    c.span(`symbol ${s.kind}`, s.uri, s.span);
    c.span(`symbol ${s.kind} name`, s.uri, s.nameSpan);
  }
  for (const r of a.model.references) c.span(`reference to ${r.target.kind}`, r.uri, r.span);

  const scratch = new Scratch(c);
  // The server runs the engines of `checksWhileTyping` while typing: a partial run, reusing the full one's parses.
  scratch.withText('analyze (some engines)', new Map(), new Set<Engine>(ENGINE_IDS.filter((_, i) => i % 2 === 0)));

  for (const uri of uris) checkFile(c, a, uri, options, scratch);

  c.guard('workspace symbols', () => {
    for (const q of ['', 'a', 'e0', 'zzzz-no-such']) for (const s of workspaceSymbols(a, q)) c.span('workspace symbol', s.uri, s.span);
  });
  checkAddressMaps(c, a);
  checkCodeActions(c, a, uris, options, scratch);
  scratch.sameAsFresh(a);
}

function checkFile(c: Checker, a: Analysis, uri: string, options: CheckOptions, scratch: Scratch): void {
  const text = c.texts.get(uri)!;
  const lines = c.guard('line index', () => a.lineIndex(uri));
  if (!lines) return;
  if (lines.text !== text) c.add('range', 'line index', `the analysis holds another text for ${uri}`);
  const ast = a.ast(uri);
  if (!ast) {
    c.add('range', 'ast', `no parse for ${uri}`);
    return;
  }
  checkAst(c, uri, ast);
  const offsets = positionsIn(text, lines, options.positions);
  // A duplicate, a name found with the wrong kind or on several platforms rightly changes its findings when renamed.
  const renameKeepsFindings = ![...a.findings.values()].some((l) =>
    l.some((f) => f.code === 'duplicate-name' || f.code === 'wrong-kind' || f.code === 'ambiguous-name'),
  );
  const names = a.model.symbols.map((s) => s.name);

  for (const off of offsets) {
    const h = c.guard('hover', () => hover(a, uri, off));
    if (h) {
      c.span('hover', uri, h.span);
      if (typeof h.markdown !== 'string' || !h.markdown) c.add('range', 'hover', 'markdown is empty or not a string');
      if (h.span.start > off || h.span.end < off)
        c.add('range', 'hover', `span ${h.span.start}..${h.span.end} does not hold the cursor ${off}`);
    }
    for (const item of c.guard('completion', () => completion(a, uri, text, off)) ?? []) {
      c.span(`completion '${item.label}'`, uri, item.replace);
      // LSP: an item's edit range is on one line and holds the cursor (VS Code drops the item otherwise).
      if (item.replace.start > off || item.replace.end < off || /[\r\n]/.test(text.slice(item.replace.start, item.replace.end))) {
        c.add(
          'range',
          'completion',
          `'${item.label}' replaces ${item.replace.start}..${item.replace.end} ${JSON.stringify(text.slice(item.replace.start, item.replace.end).slice(0, 40))}, not a span on the cursor's line around ${off}`,
        );
      }
    }
    const d = c.guard('definition', () => definition(a, uri, off));
    if (d) c.span('definition', d.uri, d.span);
    for (const inc of [true, false])
      for (const l of c.guard('references', () => references(a, uri, off, inc)) ?? []) c.span('references', l.uri, l.span);
    for (const hl of c.guard('highlights', () => documentHighlights(a, uri, off)) ?? []) c.span('highlights', uri, hl.span);
    const pr = c.guard('prepare rename', () => prepareRename(a, uri, off));
    if (pr && 'span' in pr) {
      c.span('prepare rename', uri, pr.span);
      if (text.slice(pr.span.start, pr.span.end) !== pr.placeholder || pr.span.start > off || pr.span.end < off) {
        c.add(
          'range',
          'prepare rename',
          `span ${pr.span.start}..${pr.span.end} ${JSON.stringify(text.slice(pr.span.start, pr.span.end))} for '${pr.placeholder}' at ${off}`,
        );
      }
      for (const newName of [FRESH_NAME, names[off % Math.max(1, names.length)] ?? 'y', '9bad', '']) {
        const r = c.guard('rename', () => rename(a, uri, off, newName));
        if (r && 'edits' in r) for (const e of r.edits) c.span('rename edit', e.uri, e.span);
        if (r && 'edits' in r && newName === FRESH_NAME && renameKeepsFindings && isGlobal(a, uri, off) && c.renames++ < 2)
          checkRenamed(c, a, r.edits, pr.placeholder, scratch);
      }
    }
    const target = c.guard('address map target', () => addressMapTargetAt(a, uri, off));
    // No map for a target is allowed (a duplicate's name): the server answers null.
    const map = target && c.guard('address map at cursor', () => addressMap(a, target));
    if (map) c.guard('address map svg', () => renderSvg(map));
  }

  c.guard('document symbols', () => {
    const visit = (s: OutlineSymbol) => {
      c.span(`document symbol ${s.kind}`, uri, s.span);
      c.span(`document symbol ${s.kind} name`, uri, s.nameSpan);
      // LSP: the selection range must lie inside the symbol's range (VS Code rejects the outline otherwise).
      if (s.nameSpan.start < s.span.start || s.nameSpan.end > s.span.end)
        c.add(
          'range',
          `document symbol ${s.kind}`,
          `name ${s.nameSpan.start}..${s.nameSpan.end} outside its range ${s.span.start}..${s.span.end}`,
        );
      s.children.forEach(visit);
    };
    documentSymbols(a, uri).forEach(visit);
  });

  const lineCount = lines.position(text.length).line + 1;
  for (const f of c.guard('folding', () => foldingRanges(ast, text, lines)) ?? []) {
    if (!Number.isInteger(f.start) || !Number.isInteger(f.end) || f.start < 0 || f.start > f.end || f.end >= lineCount) {
      c.add('range', 'folding', `lines ${f.start}..${f.end} outside 0..${lineCount - 1}`);
    }
  }

  c.guard('selection ranges', () => {
    for (const chain of selectionRanges(ast, offsets)) {
      for (let r: SelectionRange | undefined = chain; r; r = r.parent) {
        c.span('selection range', uri, r.span);
        const p = r.parent;
        const holds =
          p && p.span.start <= r.span.start && r.span.end <= p.span.end && (p.span.start < r.span.start || r.span.end < p.span.end);
        if (p && !holds)
          c.add(
            'range',
            'selection range',
            `parent ${p.span.start}..${p.span.end} does not strictly contain ${r.span.start}..${r.span.end}`,
          );
      }
    }
  });

  c.guard('semantic tokens', () => {
    for (const range of [undefined, { start: 0, end: Math.floor(text.length / 2) }]) {
      const toks = semanticTokens(a, uri, range);
      let end = 0;
      for (const t of toks) {
        c.span('semantic token', uri, t.span);
        if (t.span.start < end) c.add('range', 'semantic token', `tokens overlap or are unsorted at ${t.span.start}`);
        end = t.span.end;
      }
      checkEncoded(c, encodeSemanticTokens(toks, lines), text, lines);
    }
  });

  c.guard('inlay hints', () => {
    for (const span of [undefined, { start: 0, end: Math.floor(text.length / 3) }]) {
      for (const h of inlayHints(a, uri, span))
        if (!(h.offset >= 0 && h.offset <= text.length)) c.add('range', 'inlay hint', `offset ${h.offset} outside 0..${text.length}`);
    }
  });

  checkFormatting(c, a, uri, text, ast, scratch);
}

/**
 * Whether the name at `offset` is in the global namespace (platforms, guests, ...). A
 * device's name also means "the device of that name" on the platform a guest migrates
 * to, so renaming one device of a platform rightly changes what a migration finds.
 */
function isGlobal(a: Analysis, uri: string, offset: number): boolean {
  const at = symbolAt(a, uri, offset);
  return !!at && !!a.model.kinds[at.sym.kind].global;
}

/** A name no input declares (the fuzzer's names never have this shape). */
const FRESH_NAME = 'zz-renamed-9';

/**
 * Renaming a declaration to a fresh name changes no finding's code: every use that
 * resolved to it still does (a use left behind would become `unknown-name`).
 */
function checkRenamed(
  c: Checker,
  a: Analysis,
  edits: readonly { uri: string; span: Span; newText: string }[],
  old: string,
  scratch: Scratch,
): void {
  const changes = new Map<string, string>();
  for (const [u, text] of c.texts) {
    const mine = edits.filter((e) => e.uri === u);
    if (!mine.length) continue;
    for (const e of mine) {
      if (text.slice(e.span.start, e.span.end) !== old)
        c.add(
          'range',
          'rename edit',
          `replaces ${JSON.stringify(text.slice(e.span.start, e.span.end))}, not the name ${JSON.stringify(old)}`,
        );
    }
    const out = applyEdits(text, mine);
    if (out === undefined) {
      c.add('range', 'rename edit', 'overlapping edits');
      return;
    }
    changes.set(u, out);
  }
  const after = scratch.withText('analyze (renamed)', changes);
  if (!after) return;
  for (const u of c.texts.keys()) {
    if (codesOf(after, u) !== codesOf(a, u))
      c.add(
        'rename',
        'rename',
        `renaming '${old}' changes the findings of ${u.replace('file:///fuzz/', '')}: ${codesOf(a, u) || '(none)'} → ${codesOf(after, u) || '(none)'}`,
      );
  }
}

/** LSP's relative token data decoded: every token on a line of the file, within that line. */
function checkEncoded(c: Checker, data: readonly number[], text: string, lines: LineIndex): void {
  if (data.length % 5) c.add('range', 'semantic tokens encoded', `${data.length} numbers, not a multiple of 5`);
  let line = 0,
    char = 0;
  for (let i = 0; i + 4 < data.length; i += 5) {
    const [dl, dc, len] = [data[i]!, data[i + 1]!, data[i + 2]!];
    if (dl < 0 || (dl === 0 && dc < 0) || len <= 0) {
      c.add('range', 'semantic tokens encoded', `bad delta ${dl},${dc},${len}`);
      return;
    }
    line += dl;
    char = dl ? dc : char + dc;
    const start = lines.offset({ line, character: 0 });
    const lineEnd = lines.lineAround(start).end;
    if (lines.position(start).line !== line || start + char + len > lineEnd) {
      c.add(
        'range',
        'semantic tokens encoded',
        `token ${line}:${char}+${len} outside its line (of ${lines.position(text.length).line + 1})`,
      );
      return;
    }
  }
}

function checkFormatting(c: Checker, a: Analysis, uri: string, text: string, ast: SourceFile, scratch: Scratch): void {
  const clean = ast.diagnostics.length === 0;
  for (const options of [{}, { tabSize: 4, insertSpaces: false }]) {
    const edits = c.guard('format', () => formatDocument(text, options, ast));
    if (!edits) continue;
    for (const e of edits) c.span('format edit', uri, e.span);
    const formatted = applyEdits(text, edits);
    if (formatted === undefined) {
      c.add('format', 'format', 'overlapping edits');
      continue;
    }
    if (withoutSpace(formatted) !== withoutSpace(text))
      c.add('format', 'format', `changes more than whitespace: ${firstDifference(withoutSpace(text), withoutSpace(formatted))}`);
    if (!clean && edits.length) c.add('format', 'format', 'edits for a file with syntax errors');
    const again = c.guard('format (again)', () => formatDocument(formatted, options));
    if (again?.length) {
      const e = again[0]!;
      c.add(
        'format',
        'format',
        `not idempotent: a second pass still changes ${e.span.start}..${e.span.end} ${JSON.stringify(formatted.slice(e.span.start, e.span.end))} → ${JSON.stringify(e.newText)}`,
      );
    }
    if (clean && formatted !== text && !Object.keys(options).length) {
      const after = scratch.withText('analyze (formatted)', new Map([[uri, formatted]]));
      if (after && codesOf(after, uri) !== codesOf(a, uri)) {
        c.add('format', 'format', `changes the findings: ${codesOf(a, uri) || '(none)'} → ${codesOf(after, uri) || '(none)'}`);
      }
    }
  }
  for (const span of [
    { start: 0, end: 0 },
    { start: Math.floor(text.length / 3), end: Math.floor((2 * text.length) / 3) },
    { start: text.length, end: text.length },
  ]) {
    const edits = c.guard('format range', () => formatRange(text, span, {}, ast)) ?? [];
    for (const e of edits) c.span('format range edit', uri, e.span);
    const out = applyEdits(text, edits);
    if (out === undefined) c.add('format', 'format range', 'overlapping edits');
    else if (withoutSpace(out) !== withoutSpace(text))
      c.add('format', 'format range', `changes more than whitespace: ${firstDifference(withoutSpace(text), withoutSpace(out))}`);
  }
}

/** The text without the whitespace the formatter may change (the lexer's: spaces, tabs, line breaks, NBSP, BOM). */
const withoutSpace = (t: string) => t.replace(/[ \t\f\v\u00a0\ufeff\r\n]+/g, '');

function firstDifference(x: string, y: string): string {
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return `${JSON.stringify(x.slice(Math.max(0, i - 20), i + 20))} became ${JSON.stringify(y.slice(Math.max(0, i - 20), i + 20))}`;
}

function checkAddressMaps(c: Checker, a: Analysis): void {
  const targets = [
    ...[...a.model.guests.keys()].slice(0, 6).map((guest) => ({ guest })),
    ...[...a.model.platforms.keys()].slice(0, 6).map((platform) => ({ platform })),
  ];
  for (const t of targets) {
    c.guard('address map', () => {
      const map = addressMap(a, t);
      if (!map) {
        c.add('range', 'address map', `no map for declared ${JSON.stringify(t)}`);
        return;
      }
      renderSvg(map);
      for (const s of mapSources(map).list) c.span('address map source', s.uri, s.span);
    });
  }
}

/** Every fix of every finding (up to a bound) applied, and the workspace analysed again. */
function checkCodeActions(c: Checker, a: Analysis, uris: readonly string[], options: CheckOptions, scratch: Scratch): void {
  let applied = 0;
  for (const uri of uris) {
    const seen = new Set<string>();
    // The whole file, then each finding's own span (the first hundred: a file of garbage has thousands).
    const ranges = [{ start: 0, end: c.texts.get(uri)!.length }, ...(a.findings.get(uri) ?? []).slice(0, 100).map((f) => f.span)];
    for (const range of ranges) {
      for (const action of c.guard('code actions', () => codeActions(a, uri, range)) ?? []) {
        const key = JSON.stringify([action.title, action.edits]);
        if (seen.has(key)) continue;
        seen.add(key);
        const changes = new Map<string, string>();
        for (const e of action.edits) c.span(`code action '${action.title}'`, e.uri, e.span);
        for (const [u, text] of c.texts) {
          const mine = action.edits.filter((e) => e.uri === u);
          if (!mine.length) continue;
          const out = applyEdits(text, mine);
          if (out === undefined) c.add('range', `code action '${action.title}'`, 'overlapping edits');
          else changes.set(u, out);
        }
        if (applied++ < options.maxActions && changes.size)
          scratch.withText(`analyze after code action '${action.title.replace(/'[^']*'/g, "''")}'`, changes);
      }
    }
  }
}

/** Writes inputs into `dir`, one subdirectory each (`000/`, `001/`, ...), as the CLI will read them. */
export function writeInputs(dir: string, inputs: readonly Input[]): string[] {
  return inputs.map((input, i) => {
    const sub = join(dir, String(i).padStart(3, '0'));
    for (const [name, text] of Object.entries(input.files)) {
      const path = join(sub, name.endsWith('.iommu') ? name : `${name}.iommu`);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
    return sub;
  });
}

export const CLI = join(ROOT, 'dist', 'cli.cjs');

/**
 * The CLI on paths: exit 0 (clean) or 1 (errors found) only, no signal, and nothing on
 * stderr but its own `iommu-lens: ...` lines (an uncaught exception also exits 1, so
 * the stack trace is what gives it away).
 */
export function runCli(args: readonly string[], cwd: string): Problem | undefined {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  const what = `iommu-lens ${args.join(' ')}`;
  if (r.error) return { kind: 'cli', where: what, detail: `could not run: ${r.error.message}` };
  const foreign = r.stderr.split('\n').filter((l) => l && !l.startsWith('iommu-lens: ') && !l.startsWith("run 'iommu-lens --help'"));
  if (r.signal || (r.status !== 0 && r.status !== 1) || foreign.length) {
    return {
      kind: 'cli',
      where: what,
      detail: `exit ${r.status ?? r.signal}; stderr: ${foreign.slice(0, 8).join('\n') || r.stderr.slice(0, 500)}`,
    };
  }
  if (args.includes('json')) {
    try {
      JSON.parse(r.stdout);
    } catch (e) {
      return { kind: 'cli', where: what, detail: `not JSON: ${(e as Error).message}` };
    }
  }
  return undefined;
}

/**
 * The CLI's other commands on one input written at `dir`, in this process (no spawn):
 * `map` (text and SVG) and `iova` of its first guests and platforms, `iova` of a group
 * and a device, `layout` of its first pool. They may refuse (exit 2: no such guest, no
 * container) but must not throw.
 */
export function checkCliCommands(dir: string, input: Input): Problem[] {
  const text = Object.values(input.files).join('\n');
  const first = (re: RegExp, n: number) => [...new Set([...text.matchAll(re)].map((m) => m[1]!))].slice(0, n);
  const guests = first(/^\s*guest\s+([A-Za-z][\w-]*)/gm, 2);
  const platforms = first(/^\s*platform\s+([A-Za-z][\w-]*)/gm, 2);
  const pools = first(/^\s*pool\s+([A-Za-z][\w-]*)/gm, 1);
  const groups = first(/\bgroup\s+(\w+)/g, 1);
  const devices = first(/^\s*device\s+([A-Za-z][\w-]*)/gm, 1);
  const runs: string[][] = [
    ...guests.flatMap((g) => [
      ['map', dir, '--guest', g],
      ['map', dir, '--guest', g, '--svg', '-'],
      ['iova', dir, '--guest', g],
    ]),
    ...platforms.flatMap((p) => [
      ['map', dir, '--platform', p],
      ['map', dir, '--platform', p, '--svg', '-'],
      ...groups.map((n) => ['iova', dir, '--platform', p, '--group', n]),
      ...devices.map((d) => ['iova', dir, '--platform', p, '--device', d]),
    ]),
    ...pools.flatMap((p) => [
      ['layout', dir, '--pool', p, '--memory', '16G'],
      ['layout', dir, '--pool', p, '--memory', '1T', '--machine', 'virt', '--name', 'r'],
    ]),
  ];
  const problems: Problem[] = [];
  for (const argv of runs) {
    let status: number | undefined;
    try {
      // Without a worker script (Io.worker), every command runs in this thread and returns its status.
      const r = runCliMain(argv, { out: () => {}, err: () => {}, cwd: dir });
      if (typeof r !== 'number') throw new Error('the command returned a promise without worker threads');
      status = r;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      problems.push({
        kind: 'cli',
        where: `iommu-lens ${argv[0]}`,
        detail: `${err.name}: ${err.message} (iommu-lens ${argv.join(' ')}; input ${input.label})\n    ${(err.stack ?? '')
          .split('\n')
          .slice(1, 5)
          .map((l) => l.trim())
          .join(' | ')}`,
      });
      continue;
    }
    if (status !== 0 && status !== 1 && status !== 2)
      problems.push({ kind: 'cli', where: `iommu-lens ${argv[0]}`, detail: `exit ${status} (iommu-lens ${argv.join(' ')})` });
  }
  return problems;
}

/**
 * The CLI over a batch: `check` and `check --format json` of all of them at once,
 * `format --check` of all, and `check` / `format` of a few single files (spawned); `map`,
 * `iova` and `layout` of some inputs (in process). When a batch command fails, each
 * input's directory is run alone to say which one.
 */
export function checkCliBatch(dir: string, inputs: readonly Input[], singles = 4, commandInputs = 30): Problem[] {
  const subs = writeInputs(dir, inputs);
  const problems: Problem[] = [];
  for (const args of [
    ['check', '.'],
    ['check', '--format', 'json', '.'],
    ['format', '--check', '.'],
  ]) {
    const p = runCli(args, dir);
    if (!p) continue;
    const culprits = subs.flatMap((sub, i) =>
      runCli([...args.slice(0, -1), sub], dir) ? [`${sub.slice(dir.length + 1)} (${inputs[i]!.label})`] : [],
    );
    problems.push({ ...p, detail: `${p.detail}\n    inputs that fail alone: ${culprits.join(', ') || 'none (only together)'}` });
  }
  // The other commands in process, on a share of the batch (each runs a whole analysis).
  const every = Math.max(1, Math.floor(subs.length / commandInputs));
  for (let i = 0; i < subs.length; i += every) problems.push(...checkCliCommands(subs[i]!, inputs[i]!));
  const step = Math.max(1, Math.floor(subs.length / singles));
  for (let i = 0; i < subs.length; i += step) {
    const file = Object.keys(inputs[i]!.files)[0]!;
    const path = join(subs[i]!, file.endsWith('.iommu') ? file : `${file}.iommu`);
    for (const args of [
      ['check', path],
      ['format', path],
    ]) {
      const p = runCli(args, dir);
      if (p) problems.push({ ...p, detail: `${p.detail}\n    input: ${inputs[i]!.label}` });
    }
  }
  return problems;
}

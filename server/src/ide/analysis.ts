/**
 * The analysis host: holds the text of every file of a workspace, caches each file's
 * parse until its text changes, and runs the whole pipeline (grammar → model →
 * simulator) on demand. The LSP server and the CLI both drive this one class, so an
 * editor diagnostic and a CLI line are the same finding. No I/O here.
 */
import { parse, type SourceFile } from '@iommu-lens/grammar';
import { buildModel, compareFindings, finding, type Finding, type Model } from '../model';
import { ALL_ENGINES, ENGINES, simulate, type Engine, type Simulation } from '../sim';
import { LineIndex } from './positions';
import { applySeverities, type SeverityOverrides } from './severity';

export interface AnalysisOptions {
  /** Files longer than this many characters are not parsed; they get `file-too-large`. */
  maxFileSize: number;
  /** Severity per code (`off` hides it); findings keep their defaults otherwise. */
  severity?: SeverityOverrides;
}

/** 2 MiB of text (~60k lines) parses in about 2 s; a larger file is reported, not parsed. */
export const DEFAULT_OPTIONS: AnalysisOptions = { maxFileSize: 2 * 1024 * 1024 };

/** Thrown when `isCancelled` says a newer request superseded this analysis. */
export class Cancelled extends Error {
  constructor() { super('analysis cancelled'); }
}

export interface Analysis {
  model: Model;
  /** What the simulator computed: groups, regions, guest containers (for hovers and the CLI). */
  sim: Simulation;
  /** Findings per file, sorted; every file of the host has an entry (maybe empty). */
  findings: Map<string, Finding[]>;
  lineIndex(uri: string): LineIndex;
  /** The parse of a file (syntax features, the formatter, inlay hints read it). */
  ast(uri: string): SourceFile | undefined;
  /** How the run went, for the server's log: files parsed anew and milliseconds per stage. */
  stats: { files: number; parsed: number; parseMs: number; modelMs: number; simulateMs: number };
}

interface FileEntry {
  text: string;
  parsed?: { ast: SourceFile; findings: Finding[] };
  lines?: LineIndex;
}

/** What the last run with every engine found, and the texts it saw. */
interface FullRun { byEngine: ReadonlyMap<Engine, readonly Finding[]>; texts: ReadonlyMap<string, string> }

export class AnalysisHost {
  private readonly files = new Map<string, FileEntry>();
  private lastFull: FullRun | undefined;

  constructor(private options: AnalysisOptions = DEFAULT_OPTIONS) {}

  setOptions(options: AnalysisOptions): void {
    if (options.maxFileSize !== this.options.maxFileSize) for (const f of this.files.values()) f.parsed = undefined;
    this.options = options;
  }

  /** Sets a file's text; false when it already had this text (nothing to re-analyse). */
  setFile(uri: string, text: string): boolean {
    const prior = this.files.get(uri);
    if (prior && prior.text === text) return false;
    this.files.set(uri, { text });
    return true;
  }

  removeFile(uri: string): void { this.files.delete(uri); }

  hasFile(uri: string): boolean { return this.files.has(uri); }

  uris(): string[] { return [...this.files.keys()].sort(); }

  text(uri: string): string | undefined { return this.files.get(uri)?.text; }

  lineIndex(uri: string): LineIndex {
    const f = this.files.get(uri);
    if (!f) return new LineIndex('');
    return (f.lines ??= new LineIndex(f.text));
  }

  /**
   * Parses what changed, then resolves and checks the whole workspace with the given
   * engines. The engines left out (the user's `checksWhileTyping`) keep the findings of
   * the last run that had them all, wherever every file such a finding points into is
   * unchanged since; in edited files they reappear at the next full run (on save).
   */
  analyze(isCancelled: () => boolean = () => false, engines: ReadonlySet<Engine> = ALL_ENGINES): Analysis {
    const parsed: { uri: string; ast: SourceFile }[] = [];
    const findings = new Map<string, Finding[]>();
    let reparsed = 0;
    const t0 = performance.now();
    for (const uri of this.uris()) {
      if (isCancelled()) throw new Cancelled();
      const entry = this.files.get(uri)!;
      if (!entry.parsed) { entry.parsed = this.parseFile(uri, entry.text); reparsed++; }
      parsed.push({ uri, ast: entry.parsed.ast });
      findings.set(uri, [...entry.parsed.findings]);
    }
    if (isCancelled()) throw new Cancelled();
    const t1 = performance.now();
    const { model, findings: modelFindings } = buildModel(parsed);
    for (const f of modelFindings) findings.get(f.uri)?.push(f);
    if (isCancelled()) throw new Cancelled();
    const t2 = performance.now();
    const sim = simulate(model, engines);
    for (const f of sim.findings) findings.get(f.uri)?.push(f);
    if (engines.size === ENGINES.length) this.lastFull = { byEngine: sim.byEngine, texts: new Map(parsed.map((p) => [p.uri, this.files.get(p.uri)!.text])) };
    else for (const f of this.carried(engines)) findings.get(f.uri)?.push(f);
    const overrides = this.options.severity;
    if (overrides?.size) for (const [uri, list] of findings) findings.set(uri, applySeverities(list, overrides));
    for (const list of findings.values()) list.sort(compareFindings);
    const asts = new Map(parsed.map((p) => [p.uri, p.ast]));
    const stats = { files: parsed.length, parsed: reparsed, parseMs: t1 - t0, modelMs: t2 - t1, simulateMs: performance.now() - t2 };
    return { model, sim, findings, lineIndex: (uri) => this.lineIndex(uri), ast: (uri) => asts.get(uri), stats };
  }

  /** The last full run's findings of the engines not in `engines` whose files are all unchanged. */
  private carried(engines: ReadonlySet<Engine>): Finding[] {
    const full = this.lastFull;
    if (!full) return [];
    const unchanged = (uri: string) => full.texts.get(uri) === this.files.get(uri)?.text;
    const keeps = (f: Finding) => unchanged(f.uri) && f.related.every((r) => unchanged(r.uri))
      && (f.trace ?? []).every((r) => unchanged(r.uri)) && f.fixes.every((x) => x.edits.every((e) => unchanged(e.uri)));
    return ENGINES.filter((e) => !engines.has(e)).flatMap((e) => (full.byEngine.get(e) ?? []).filter(keeps));
  }

  private parseFile(uri: string, text: string): { ast: SourceFile; findings: Finding[] } {
    if (text.length > this.options.maxFileSize) {
      const ast: SourceFile = { decls: [], comments: [], diagnostics: [], length: text.length };
      return {
        ast,
        findings: [finding('file-too-large', { uri, span: { start: 0, end: 0 } },
          `file is ${text.length} characters, over the limit of ${this.options.maxFileSize} (setting iommuLens.maxFileSize, CLI --max-file-size); it was not analysed`)],
      };
    }
    const ast = parse(text);
    const findings = ast.diagnostics.map((d) => finding(d.code, { uri, span: d.span }, d.message, {
      related: (d.related ?? []).map((r) => ({ uri, span: r.span, message: r.message })),
    }));
    return { ast, findings };
  }
}

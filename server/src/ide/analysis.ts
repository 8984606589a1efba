/**
 * The analysis host: holds the text of every file of a workspace, caches each file's
 * parse until its text changes, and runs the whole pipeline (grammar → model →
 * simulator) on demand. The LSP server and the CLI both drive this one class, so an
 * editor diagnostic and a CLI line are the same finding. No I/O here.
 */
import { parse, type SourceFile } from '@iommu-lens/grammar';
import { buildModel, compareFindings, finding, type Finding, type Model } from '../model';
import { simulate, type Simulation } from '../sim';
import { LineIndex } from './positions';

export interface AnalysisOptions {
  /** Files longer than this many characters are not parsed; they get `file-too-large`. */
  maxFileSize: number;
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
}

interface FileEntry {
  text: string;
  parsed?: { ast: SourceFile; findings: Finding[] };
  lines?: LineIndex;
}

export class AnalysisHost {
  private readonly files = new Map<string, FileEntry>();

  constructor(private options: AnalysisOptions = DEFAULT_OPTIONS) {}

  setOptions(options: AnalysisOptions): void {
    if (options.maxFileSize !== this.options.maxFileSize) for (const f of this.files.values()) f.parsed = undefined;
    this.options = options;
  }

  setFile(uri: string, text: string): void {
    const prior = this.files.get(uri);
    if (prior && prior.text === text) return;
    this.files.set(uri, { text });
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

  /** Parses what changed, then resolves and checks the whole workspace. */
  analyze(isCancelled: () => boolean = () => false): Analysis {
    const parsed: { uri: string; ast: SourceFile }[] = [];
    const findings = new Map<string, Finding[]>();
    for (const uri of this.uris()) {
      if (isCancelled()) throw new Cancelled();
      const entry = this.files.get(uri)!;
      entry.parsed ??= this.parseFile(uri, entry.text);
      parsed.push({ uri, ast: entry.parsed.ast });
      findings.set(uri, [...entry.parsed.findings]);
    }
    if (isCancelled()) throw new Cancelled();
    const { model, findings: modelFindings } = buildModel(parsed);
    for (const f of modelFindings) findings.get(f.uri)?.push(f);
    if (isCancelled()) throw new Cancelled();
    const sim = simulate(model);
    for (const f of sim.findings) findings.get(f.uri)?.push(f);
    for (const list of findings.values()) list.sort(compareFindings);
    const asts = new Map(parsed.map((p) => [p.uri, p.ast]));
    return { model, sim, findings, lineIndex: (uri) => this.lineIndex(uri), ast: (uri) => asts.get(uri) };
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

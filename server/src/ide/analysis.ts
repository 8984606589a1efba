/**
 * The analysis host: holds the text of every file of a workspace, caches each file's
 * parse until its text changes, and runs the whole pipeline (grammar → model →
 * simulator) on demand. The LSP server and the CLI both drive this one class, so an
 * editor diagnostic and a CLI line are the same finding. No I/O here.
 */
import { parse, type SourceFile } from '@iommu-lens/grammar';
import {
  buildModel,
  compareFindings,
  emptyModel,
  fileNames,
  finding,
  internalError,
  internalErrors,
  mergeModels,
  WorkspaceNames,
  type FileNames,
  type Finding,
  type Model,
  type ModelResult,
} from '../model';
import type { DomainParts as GenericParts, IdeContribution } from './contribution';
import { engineIds, mergeSimulations, simulate, type Engine, type SimEngine, type Simulation } from '../sim';
import { components } from './workspacePartition';
import { LineIndex } from './positions';
import { applySeverities, type SeverityOverrides } from './severity';

export interface AnalysisOptions {
  /** Files longer than this many characters are not parsed; they get `file-too-large`. */
  maxFileSize: number;
  /** Severity per code (`off` hides it); findings keep their defaults otherwise. */
  severity?: SeverityOverrides;
  /**
   * Some files of the workspace are not here (the server's limit, lsp/workspaceFiles.ts):
   * any name may be declared in them, so `unknown-name` would be a false error and is not
   * reported.
   */
  incomplete?: boolean;
  /**
   * The names of the whole workspace when the host holds only part of it (the CLI analyses
   * one component at a time): suggestions of `unknown-name` still look at every file.
   */
  names?: WorkspaceNames;
}

/** What `prepare` is told besides its deadline. */
export interface PrepareOptions {
  /** Components holding one of these files are done first (the editor's open documents). */
  first?: ReadonlySet<string>;
  /** Hears each component done, with its files' findings as `analyze` will report them. */
  finished?: (findings: ReadonlyMap<string, Finding[]>) => void;
}

/** 2 MiB of text (~60k lines) parses in about 2 s; a larger file is reported, not parsed. */
export const DEFAULT_OPTIONS: AnalysisOptions = { maxFileSize: 2 * 1024 * 1024 };

/** Thrown when `isCancelled` says a newer request superseded this analysis. */
export class Cancelled extends Error {
  constructor() {
    super('analysis cancelled');
  }
}

/** What a domain adds to the core, and its editor features over an `Analysis`. */
export type DomainParts = GenericParts<Analysis>;
export type IdeParts = IdeContribution<Analysis>;

export interface Analysis {
  model: Model;
  /** What the simulator computed: groups, regions, guest containers (for hovers and the CLI). */
  sim: Simulation;
  /** Findings per file, sorted; every file of the host has an entry (maybe empty). */
  findings: Map<string, Finding[]>;
  lineIndex(uri: string): LineIndex;
  /** The parse of a file (syntax features, the formatter, inlay hints read it). */
  ast(uri: string): SourceFile | undefined;
  /** How the run went, for the server's log: files parsed anew, components modelled anew, milliseconds per stage. */
  stats: { files: number; parsed: number; components: number; reused: number; parseMs: number; modelMs: number; simulateMs: number };
  /** The domains it was run with: their editor features. */
  domains: readonly DomainParts[];
  /** A partial analysis (`analyze`'s `need`): the files of the components left out, which have their syntax findings only and no model. */
  leftOut?: ReadonlySet<string>;
}

interface FileEntry {
  text: string;
  /** Held without its text (`setOversized`): its size in bytes. */
  oversized?: number;
  /** Findings about this text that come from outside it (the CLI's bytes that are not UTF-8). */
  extra?: readonly Finding[];
  parsed?: { ast: SourceFile; findings: Finding[] };
  /** What the file declares and mentions (from `parsed`). */
  names?: FileNames;
  /** `names` of the text this one replaced: when its keys differ, components or suggestions may have moved. */
  prior?: FileNames;
  lines?: LineIndex;
}

/** A component modelled (and simulated per engine set), reusable while its parses are the same. */
interface ComponentRun {
  asts: readonly SourceFile[];
  namesVersion: number;
  model: ModelResult;
  sims: Map<string, Simulation>;
}

/**
 * The stages the host chains. Tests replace one to check that a stage which throws costs
 * only its own findings; everything else uses these.
 */
export interface Stages {
  parse: typeof parse;
  buildModel: typeof buildModel;
  simulate: typeof simulate;
}
const STAGES: Stages = { parse, buildModel, simulate };

export class AnalysisHost {
  private readonly files = new Map<string, FileEntry>();
  /** The workspace split into components (uris), and the names of all its files. */
  private partition: string[][] | undefined;
  /** The global and Xen domain names declared when `partition` was made: the words that link files. */
  private declared: Set<string> | undefined;
  private names: WorkspaceNames | undefined;
  private namesVersion = 0;
  /** A file came, went or changed what it declares since `names` was made. */
  private namesChanged = true;
  private runs = new Map<string, ComponentRun>();
  /** The last run found a lookup across every platform: model the workspace as one component. */
  private whole = false;
  /**
   * The components in the order `prepare` does them, for one partition and one set of first
   * files, and how far it got: those before `next` are done, unless a file or an option
   * changed since (`changes` differs from `seen`). So a slice does not check them all again.
   */
  private order: { partition: string[][]; first: string; groups: string[][]; engineKey: string; next: number; seen: number } | undefined;
  /** Files whose parse (or names) is not made yet: `prepare` parses them without looking at the others. */
  private unparsed = new Set<string>();
  /** Files and characters held (the server's workspace limit counts them). */
  private held = { files: 0, chars: 0 };
  /** Bumped by every change an analysis can show: files, options, components modelled or simulated. */
  private changes = 0;

  /** Every engine id, VFIO first; an analysis with all of them is a full one. */
  readonly engineIds: readonly Engine[];
  private readonly allEngines: ReadonlySet<Engine>;
  private readonly fullKey: string;

  /** The domains' engines, in order. */
  private readonly engines: readonly SimEngine[];

  /** `domains`: the registry's (server/src/domains), in order. */
  constructor(
    private readonly domains: readonly DomainParts[],
    private options: AnalysisOptions = DEFAULT_OPTIONS,
    private readonly stages: Stages = STAGES,
  ) {
    this.engines = domains.flatMap((d) => (d.engine ? [d.engine] : []));
    this.engineIds = engineIds(this.engines);
    this.allEngines = new Set(this.engineIds);
    this.fullKey = this.keyOf(this.allEngines);
  }

  private keyOf(engines: ReadonlySet<Engine>): string {
    return this.engineIds.filter((e) => engines.has(e)).join(',');
  }

  setOptions(options: AnalysisOptions): void {
    this.changes++;
    if (options.maxFileSize !== this.options.maxFileSize) {
      for (const [uri, f] of this.files) {
        f.prior = f.names ?? f.prior;
        f.parsed = undefined;
        f.names = undefined;
        this.unparsed.add(uri);
      }
    }
    if (options.severity !== this.options.severity) this.severityCopies = new WeakMap();
    this.options = options;
  }

  /** Overridden findings by original, for the current overrides (so reused findings stay the same objects). */
  private severityCopies = new WeakMap<Finding, Finding>();

  /**
   * Sets a file's text; false when it already had this text (nothing to re-analyse).
   * `extra`: findings about the text from where it was read; they count like its syntax
   * findings (severity overrides apply, none when the file is too large to analyse).
   */
  setFile(uri: string, text: string, extra: readonly Finding[] = []): boolean {
    const prior = this.files.get(uri);
    if (prior && prior.text === text && prior.oversized === undefined && !extra.length && !prior.extra?.length) return false;
    return this.put(uri, { text, extra });
  }

  /**
   * A file known by its size only: `bytes` of UTF-8 is more than three times the limit, so
   * its text is certainly over it (a UTF-16 unit takes at most three bytes). It gets
   * `file-too-large` without being read; the server reads it again if the limit changes.
   */
  setOversized(uri: string, bytes: number): boolean {
    const prior = this.files.get(uri);
    if (prior?.oversized === bytes) return false;
    return this.put(uri, { text: '', oversized: bytes });
  }

  private put(uri: string, entry: Pick<FileEntry, 'text' | 'extra' | 'oversized'>): true {
    const prior = this.files.get(uri);
    const text = entry.text;
    if (!prior) {
      this.partition = undefined;
      this.namesChanged = true;
      this.sortedUris = undefined;
    }
    this.files.set(uri, { ...entry, prior: prior?.names ?? prior?.prior });
    this.unparsed.add(uri);
    this.held.files += prior ? 0 : 1;
    this.held.chars += text.length - (prior?.text.length ?? 0);
    this.changes++;
    return true;
  }

  removeFile(uri: string): void {
    const prior = this.files.get(uri);
    if (!prior) return;
    this.files.delete(uri);
    this.unparsed.delete(uri);
    this.partition = undefined;
    this.namesChanged = true;
    this.sortedUris = undefined;
    this.held.files--;
    this.held.chars -= prior.text.length;
    this.changes++;
  }

  /** How many files, and characters of text, the host holds. */
  size(): { files: number; chars: number } {
    return { ...this.held };
  }

  /** A number that changes whenever an analysis could differ from the last one (a cache key for partial analyses). */
  version(): number {
    return this.changes;
  }

  hasFile(uri: string): boolean {
    return this.files.has(uri);
  }

  /** Whether the file is held without its text (`setOversized`). */
  isOversized(uri: string): boolean {
    return this.files.get(uri)?.oversized !== undefined;
  }

  /** Every file's uri, sorted (kept until a file comes or goes: analyses and slices ask often). */
  uris(): readonly string[] {
    return (this.sortedUris ??= [...this.files.keys()].sort());
  }
  private sortedUris: string[] | undefined;

  text(uri: string): string | undefined {
    return this.files.get(uri)?.text;
  }

  lineIndex(uri: string): LineIndex {
    const f = this.files.get(uri);
    if (!f) return new LineIndex('');
    return (f.lines ??= new LineIndex(f.text));
  }

  /**
   * Parses what changed, then resolves and checks the whole workspace with the given
   * engines, component by component (ide/components.ts): a component whose files all
   * kept their parse reuses its model and simulation. The engines left out (the user's
   * `checksWhileTyping`) still count in every component unchanged since a run with all of
   * them; in a component with an edited file they run again at the next full run (on
   * open or save).
   *
   * With `need`, a partial analysis: only the components done already and those holding a
   * file of `need` (done now); the files of the others have their syntax findings only.
   * The server answers requests from one while a long analysis is under way.
   */
  analyze(isCancelled: () => boolean = () => false, engines: ReadonlySet<Engine> = this.allEngines, need?: ReadonlySet<string>): Analysis {
    const uris = this.uris();
    for (const uri of uris) {
      if (isCancelled()) throw new Cancelled();
      this.parsed(uri);
    }
    this.ensurePartition(uris);
    const engineKey = this.keyOf(engines);
    const all = this.whole ? [[...uris]] : this.partition!;
    const groups = need ? all.filter((g) => this.ready(g, engineKey) || g.some((u) => need.has(u))) : all;
    // A partial analysis that needs every component is a whole one: it drops the runs of components gone too.
    let parts = this.runComponents(groups, engineKey, engines, isCancelled, groups.length === all.length);
    const searched = parts.some((p) => p.run.model.searchedAllPlatforms);
    if (searched && !this.whole) parts = this.runComponents([[...uris]], engineKey, engines, isCancelled, true);
    // A partial analysis that met no lookup across platforms knows nothing of the components it left out.
    if (searched || !need) this.whole = searched;

    const model = mergeModels(parts.map((p) => p.run.model.model));
    const sim = mergeSimulations(
      parts.map((p) => ({ platforms: p.run.model.model.platforms.values(), sim: p.sim })),
      engines,
    );
    const perFile = new Map<string, Finding[]>();
    for (const p of parts) for (const [uri, list] of this.componentFindings(p)) perFile.set(uri, list);
    // In URI order, so every consumer (the CLI's output, the server's publishing) goes through files alike.
    const findings = new Map(uris.map((uri) => [uri, perFile.get(uri) ?? this.syntaxFindings(uri)]));
    const w = this.work;
    const stats = {
      files: uris.length,
      parsed: w.parsed,
      components: parts.length,
      reused: parts.filter((p) => !w.built.has(p.run)).length,
      parseMs: w.parseMs,
      modelMs: w.modelMs,
      simulateMs: w.simulateMs,
    };
    this.work = { parsed: 0, built: new Set(), parseMs: 0, modelMs: 0, simulateMs: 0 };
    // Lines and ASTs of the texts analysed: a request answered from this analysis after the
    // text changed (a newer run failed) must place its ranges in the text they came from.
    const entries = new Map(uris.map((u) => [u, this.files.get(u)!]));
    const asts = new Map(uris.map((u) => [u, entries.get(u)!.parsed!.ast]));
    const lineIndex = (uri: string) => {
      const e = entries.get(uri);
      return e ? (e.lines ??= new LineIndex(e.text)) : this.lineIndex(uri);
    };
    const analysis: Analysis = { model, sim, findings, lineIndex, ast: (uri) => asts.get(uri), stats, domains: this.domains };
    if (perFile.size < uris.length) analysis.leftOut = new Set(uris.filter((u) => !perFile.has(u)));
    return analysis;
  }

  /**
   * A file's findings that depend on it alone (syntax, `file-too-large`, and what the
   * reader added), as an analysis reports them: the open document's, at once, while the
   * workspace is still being read.
   */
  syntaxFindings(uri: string): Finding[] {
    return this.files.has(uri) ? this.finish([...this.parsed(uri).findings]) : [];
  }

  /** Each file's findings of one component run: its syntax, the component's model and simulation. */
  private componentFindings(part: { group: readonly string[]; run: ComponentRun; sim: Simulation }): Map<string, Finding[]> {
    const out = new Map(part.group.map((uri) => [uri, [...this.parsed(uri).findings]]));
    for (const f of part.run.model.findings) out.get(f.uri)?.push(f);
    for (const f of part.sim.findings) out.get(f.uri)?.push(f);
    for (const [uri, list] of out) out.set(uri, this.finish(list));
    return out;
  }

  /** A file's findings as reported: the severity overrides applied, names left unchecked in an incomplete workspace, sorted. */
  private finish(list: Finding[]): Finding[] {
    const kept = this.options.incomplete ? list.filter((f) => f.code !== 'unknown-name') : list;
    const overrides = this.options.severity;
    return (overrides?.size ? applySeverities(kept, overrides, this.severityCopies) : kept).sort(compareFindings);
  }

  /** How many components `prepare` has gone through of how many, once it has split the workspace (the server's progress). */
  componentCounts(): { done: number; total: number } | undefined {
    if (!this.partition || this.whole || !this.order || this.order.partition !== this.partition) return undefined;
    return { done: this.order.next, total: this.partition.length };
  }

  /**
   * Does part of the next analysis's work until `deadline` (a `performance.now()` time):
   * parsing every file, then modelling and simulating the components that need it, those
   * holding a file of `first` before the others, smallest first, so that one large or slow
   * component does not hold back the rest. True while work remains. The server calls it in
   * slices between events (each does at least one unit: a file's parse or a component), so
   * loading a large workspace does not hold its event loop, and
   * publishes each component's findings as `finished` hears them; `analyze` then finds the
   * work done.
   */
  prepare(deadline: number, engines: ReadonlySet<Engine> = this.allEngines, options: PrepareOptions = {}): boolean {
    // Each call does at least one unit of work, so slices make progress whatever the clock says.
    let started = false;
    const late = () => started && performance.now() > deadline;
    for (const uri of this.unparsed) {
      if (late()) return true;
      this.parsed(uri);
      started = true;
    }
    this.ensurePartition(this.uris());
    if (this.whole) return false; // one piece: nothing to slice
    const engineKey = this.keyOf(engines);
    const order = this.ordered(options.first, engineKey);
    for (; order.next < order.groups.length; order.next++) {
      const group = order.groups[order.next]!;
      if (this.ready(group, engineKey)) continue;
      if (late()) return true;
      const part = { group, ...this.componentRun(group, engineKey, engines) };
      started = true;
      order.seen = this.changes;
      // A lookup across every platform: `analyze` models the workspace as one piece, and
      // this component's findings may change then, so they are not given out yet.
      if (part.run.model.searchedAllPlatforms) {
        this.whole = true;
        return false;
      }
      options.finished?.(this.componentFindings(part));
    }
    return false;
  }

  /**
   * The components with a file of `first` first, then the others by their text's length,
   * kept while the split holds; `prepare` starts over when something changed meanwhile.
   */
  private ordered(first: ReadonlySet<string> = new Set(), engineKey: string): NonNullable<AnalysisHost['order']> {
    const partition = this.partition!;
    const key = [...first].sort().join('\n');
    if (this.order?.partition !== partition || this.order.first !== key) {
      const length = (g: readonly string[]) => g.reduce((n, u) => n + this.files.get(u)!.text.length, 0);
      const ranked = partition.map((group) => ({ group, first: group.some((u) => first.has(u)) ? 0 : 1, length: length(group) }));
      ranked.sort((a, b) => a.first - b.first || a.length - b.length);
      this.order = { partition, first: key, groups: ranked.map((r) => r.group), engineKey, next: 0, seen: this.changes };
    } else if (this.order.seen !== this.changes || this.order.engineKey !== engineKey) {
      Object.assign(this.order, { engineKey, next: 0, seen: this.changes });
    }
    return this.order;
  }

  /** Work done since the last `analyze` (by it or by `prepare`), for its stats. */
  private work = { parsed: 0, built: new Set<ComponentRun>(), parseMs: 0, modelMs: 0, simulateMs: 0 };

  /** A file's parse (and its names), made now if its text changed. */
  private parsed(uri: string): { ast: SourceFile; findings: Finding[] } {
    const entry = this.files.get(uri)!;
    if (!entry.parsed) {
      const t = performance.now();
      entry.parsed = this.parseFile(uri, entry);
      this.work.parsed++;
      this.work.parseMs += performance.now() - t;
    }
    if (!entry.names) {
      this.unparsed.delete(uri);
      entry.names = fileNames(entry.parsed.ast);
      if (entry.names.key !== entry.prior?.key && !this.splitHolds(entry.prior, entry.names)) this.partition = undefined;
      if (entry.names.namesKey !== entry.prior?.namesKey) this.namesChanged = true;
      entry.prior = undefined;
    }
    return entry.parsed;
  }

  /**
   * Whether an edit from `before` to `after` leaves the split as it is: it declares the
   * same names, and the words it gained or lost name nothing declared (most keystrokes:
   * a value, a typo in the middle of a word). O(words of the file), not of the workspace.
   */
  private splitHolds(before: FileNames | undefined, after: FileNames): boolean {
    const declared = this.declared;
    if (!before || !this.partition || !declared || before.namesKey !== after.namesKey) return false;
    for (const w of after.words) if (!before.words.has(w) && declared.has(w)) return false;
    for (const w of before.words) if (!after.words.has(w) && declared.has(w)) return false;
    return true;
  }

  /** Splits the workspace anew when a file came, went or changed what it declares or mentions. */
  private ensurePartition(uris: readonly string[]): void {
    if (this.partition && this.names) return;
    const names = uris.map((u) => this.files.get(u)!.names!);
    // Only a change in what files declare is a change for suggestions (and their components).
    if (this.namesChanged || !this.names) {
      this.names = this.options.names ?? new WorkspaceNames(names);
      this.namesVersion++;
      this.namesChanged = false;
    }
    this.partition = components(names).map((group) => group.map((i) => uris[i]!));
    this.declared = new Set(names.flatMap((n) => [...n.globals.map((g) => g.name), ...n.domains]));
  }

  private reusable(run: ComponentRun | undefined, group: readonly string[]): run is ComponentRun {
    return (
      !!run &&
      run.asts.every((a, i) => a === this.files.get(group[i]!)!.parsed?.ast) &&
      !(run.model.usedNames && run.namesVersion !== this.namesVersion)
    );
  }

  private ready(group: readonly string[], engineKey: string): boolean {
    const run = this.runs.get(group.join('\n'));
    return this.reusable(run, group) && (run.sims.has(this.fullKey) || run.sims.has(engineKey));
  }

  /** A component's model and simulation: reused when its parses are unchanged, else made and kept. */
  private componentRun(group: readonly string[], engineKey: string, engines: ReadonlySet<Engine>): { run: ComponentRun; sim: Simulation } {
    const key = group.join('\n');
    let run = this.runs.get(key);
    if (!this.reusable(run, group)) {
      const t = performance.now();
      const files = group.map((uri) => ({ uri, ast: this.files.get(uri)!.parsed!.ast }));
      run = { asts: files.map((f) => f.ast), namesVersion: this.namesVersion, model: this.modelOf(files), sims: new Map() };
      this.runs.set(key, run);
      this.changes++;
      this.work.built.add(run);
      this.work.modelMs += performance.now() - t;
    }
    // A component unchanged since a run with every engine keeps that simulation: the engines
    // left out while typing are then still exact there, for findings and hovers alike.
    let sim = run.sims.get(this.fullKey) ?? run.sims.get(engineKey);
    if (!sim) {
      const t = performance.now();
      sim = this.stages.simulate(run.model.model, this.engines, engines);
      run.sims.set(engineKey, sim);
      this.changes++;
      this.work.simulateMs += performance.now() - t;
    }
    return { run, sim };
  }

  /** Each component's run; with `prune` (every component), the runs of components that no longer exist are dropped. */
  private runComponents(
    groups: readonly string[][],
    engineKey: string,
    engines: ReadonlySet<Engine>,
    isCancelled: () => boolean,
    prune: boolean,
  ) {
    const out = groups.map((group) => {
      if (isCancelled()) throw new Cancelled();
      return { group, ...this.componentRun(group, engineKey, engines) };
    });
    if (prune) {
      const keep = new Set(groups.map((g) => g.join('\n')));
      for (const key of [...this.runs.keys()]) if (!keep.has(key)) this.runs.delete(key);
    }
    return out;
  }

  /** A component's model; if resolving throws (a bug), its files get `internal-error` and an empty model. */
  private modelOf(files: { uri: string; ast: SourceFile }[]): ModelResult {
    try {
      return this.stages.buildModel(files, this.names);
    } catch (err) {
      // An empty model that still holds the files (their comments), so they stay in the workspace.
      const model = emptyModel();
      for (const f of files) model.comments.set(f.uri, f.ast.comments);
      return {
        model,
        findings: internalErrors(
          files.map((f) => f.uri),
          'resolving names',
          err,
        ),
        usedNames: false,
        searchedAllPlatforms: false,
      };
    }
  }

  private parseFile(uri: string, entry: FileEntry): { ast: SourceFile; findings: Finding[] } {
    const { text, oversized } = entry;
    const extra = entry.extra ?? [];
    if (oversized !== undefined || text.length > this.options.maxFileSize) {
      const ast: SourceFile = { decls: [], comments: [], diagnostics: [], length: text.length };
      const limit = this.options.maxFileSize;
      const what =
        oversized === undefined
          ? `file is ${text.length} characters, over the limit of ${limit} (setting iommuLens.maxFileSize, CLI --max-file-size); it was not analysed`
          : `file is ${oversized} bytes, more than three times the limit of ${limit} characters (setting iommuLens.maxFileSize); it was not read`;
      return { ast, findings: [finding('file-too-large', { uri, span: { start: 0, end: 0 } }, what)] };
    }
    let ast: SourceFile;
    try {
      ast = this.stages.parse(text);
    } catch (err) {
      // A parser bug: the file counts as empty, so the rest of the workspace still analyses.
      return {
        ast: { decls: [], comments: [], diagnostics: [], length: text.length },
        findings: [internalError(uri, 'parsing', err), ...extra],
      };
    }
    const findings = ast.diagnostics.map((d) =>
      finding(d.code, { uri, span: d.span }, d.message, {
        related: (d.related ?? []).map((r) => ({ uri, span: r.span, message: r.message })),
      }),
    );
    return { ast, findings: [...findings, ...extra] };
  }
}

/**
 * The analysis host: holds the text of every file of a workspace, caches each file's
 * parse until its text changes, and runs the whole pipeline (grammar → model →
 * simulator) on demand. The LSP server and the CLI both drive this one class, so an
 * editor diagnostic and a CLI line are the same finding. No I/O here.
 */
import {
  capDiagnostics,
  chunkIsClean,
  chunkStarts,
  parse,
  parseUncapped,
  shifted,
  shiftedDiagnostics,
  type SourceFile,
  type Span,
  type SyntaxDiagnostic,
} from '@iommu-lens/grammar';
import {
  buildModel,
  compareFindings,
  CORE_MODEL,
  emptyModel,
  fileNames,
  finding,
  internalError,
  internalErrors,
  mergeModels,
  modelSchema,
  WorkspaceNames,
  type FileNames,
  type Finding,
  type Model,
  type ModelResult,
  type ModelSchema,
  type SymbolKind,
} from '../model';
import { CORE_LOOKS, type KindLook } from './kindLooks';
import type { DomainParts as GenericParts, IdeContribution } from './contribution';
import { engineIds, mergeSimulations, simulate, type Engine, type GuestCheck, type SimEngine, type Simulation } from '../sim';
import { components } from './workspacePartition';
import { resplit } from './resplit';
import { LineIndex, lineBreaks } from './positions';
import { foldingPart, joinFolding, type FoldingPart, type FoldingRange } from './folding';
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
  /**
   * Parse and model each file as one piece instead of declaration by declaration (the
   * tests' reference, and a way out should the split ever be wrong).
   */
  wholeFiles?: boolean;
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

const looks = new WeakMap<readonly DomainParts[], Readonly<Record<SymbolKind, KindLook>>>();
/** How the editor shows each kind of name, the core's and these domains'. */
export function looksOf(domains: readonly DomainParts[]): Readonly<Record<SymbolKind, KindLook>> {
  let l = looks.get(domains);
  if (!l) looks.set(domains, (l = Object.assign({}, CORE_LOOKS, ...domains.map((d) => d.ide?.looks ?? {}))));
  return l!;
}

const schemas = new WeakMap<readonly DomainParts[], ModelSchema>();
/** The model schema of the core and these domains (one per list, so hosts of one registry share it). */
export function modelSchemaOf(domains: readonly DomainParts[]): ModelSchema {
  let s = schemas.get(domains);
  if (!s) schemas.set(domains, (s = modelSchema([CORE_MODEL, ...domains.flatMap((d) => (d.model ? [d.model] : []))])));
  return s;
}
export type IdeParts = IdeContribution<Analysis>;

export interface Analysis {
  model: Model;
  /**
   * What the simulator computed: groups, regions, guest containers. Of the whole workspace,
   * or in the view of one file (`forFile`) of that file's components. Components keep only
   * their findings between analyses (at 200k lines the simulations were 86 MiB of a 312 MiB
   * heap), so reading it simulates them again, each once per analysis.
   */
  sim: Simulation;
  /** The simulation of the components holding `uri`'s declarations; without `uri`, of the whole workspace. */
  simOf(uri?: string): Simulation;
  /** Findings per file, sorted; every file of the host has an entry (maybe empty). */
  findings: Map<string, Finding[]>;
  lineIndex(uri: string): LineIndex;
  /** The parse of a file (syntax features, the formatter, inlay hints read it). */
  ast(uri: string): SourceFile | undefined;
  /** A file's folding ranges (ide/folding.ts), joined from its units' without the whole parse. */
  folding(uri: string): FoldingRange[];
  /** How the run went, for the server's log: files parsed anew, components modelled anew, milliseconds per stage. */
  stats: { files: number; parsed: number; components: number; reused: number; parseMs: number; modelMs: number; simulateMs: number };
  /** The domains it was run with: their editor features. */
  domains: readonly DomainParts[];
  /** A partial analysis (`analyze`'s `need`): the files of the components left out, which have their syntax findings only and no model. */
  leftOut?: ReadonlySet<string>;
}

/**
 * The analysis as a hover on `uri` reads it: `sim` is the simulation of the components
 * holding the file's declarations, made again for that file alone. Anything the file names
 * is in those components (workspacePartition.ts), so what a hover or hint reads there is
 * what the whole workspace's simulation holds. The address hover, which looks at every
 * platform and guest, reads their models and simulates only the guests it writes out.
 */
export function forFile(a: Analysis, uri: string): Analysis {
  return Object.create(a, { sim: { get: () => a.simOf(uri) } }) as Analysis;
}

/**
 * One top-level chunk of a file (grammar/src/chunks.ts: a declaration with the comments
 * before it), the unit of reuse: parsed apart, named apart, and what components are made
 * of. Its parse moves with it, so text before it may change without parsing it again;
 * the file's entry says where it starts. A file that does not split cleanly is one unit.
 */
interface Unit {
  id: number;
  /** Where it starts in its file's current text; -1 once the text no longer holds it (a plain field: set for every unit on every edit). */
  base: number;
  uri: string;
  text: string;
  names: FileNames;
  /**
   * The parse of `text` alone (diagnostics not capped) at offset `base` of the file: parsed
   * there (parseUncapped's base), then moved to where the unit was last placed. One copy,
   * not one in its own offsets and one placed, which the model holds: a second copy of most
   * ASTs was 32 MiB at 200k lines.
   */
  parse: { base: number; ast: SourceFile };
  /** Where its lines start (ide/positions.ts `lineBreaks`): the file's line table joins them. */
  breaks?: number[];
  /** Its folding ranges in its own lines. */
  folding?: FoldingPart;
}

interface FileEntry {
  text: string;
  /** Held without its text (`setOversized`): its size in bytes. */
  oversized?: number;
  /** Findings about this text that come from outside it (the CLI's bytes that are not UTF-8). */
  extra?: readonly Finding[];
  /** The file's units in order, where each starts, and the file's syntax findings. */
  parsed?: { units: Unit[]; bases: number[]; findings: Finding[] };
  /** The whole file's parse, put together from its units when asked. */
  ast?: SourceFile;
  /** The units of the text this one replaced: when their names differ, components or suggestions may have moved. */
  prior?: Unit[];
  lines?: LineIndex;
}

/** A component modelled (and simulated per engine set), reusable while its units are the same. */
interface ComponentRun {
  units: readonly Unit[];
  /** Where each unit started when the run was made: its findings move with its units. */
  bases: readonly number[];
  namesVersion: number;
  model: ModelResult;
  /** By engine set: what simulating it left. */
  sims: Map<string, Simulated>;
  /** Its findings moved as its units last moved (`partFindings`). */
  moved?: { sim: Simulated; key: string; findings: Finding[] };
}

/**
 * What a component's simulation leaves between analyses: its findings, and the engines that
 * made them (to make the rest again, the same, when a request reads it).
 */
interface Simulated {
  findings: readonly Finding[];
  engines: ReadonlySet<Engine>;
}

/** A component, its run and simulation, and how far each of its units moved since the run was made. */
interface Part {
  group: readonly Unit[];
  run: ComponentRun;
  sim: Simulated;
  /** Per unit, its offset now minus its offset when the run was made; undefined when none moved. */
  moved?: number[];
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
  /** The workspace split into components (units, in file then position order). */
  private partition: Unit[][] | undefined;
  /** The component each unit is in (`partition`'s arrays). */
  private groupOf = new Map<Unit, Unit[]>();
  /** Per file, the components holding its units, in the order its units first meet them (`fileFindings` reads them on every edit). */
  private groupsOfFile = new Map<string, Unit[][]>();
  /** The global and Xen domain names declared when `partition` was made: the words that link units. */
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
   * `pending` counts, per file, its components not done yet: a file's findings go out when
   * its last one is.
   */
  private order:
    | { partition: Unit[][]; first: string; groups: Unit[][]; engineKey: string; next: number; seen: number; pending: Map<string, number> }
    | undefined;
  /** Files whose parse (or names) is not made yet: `prepare` parses them without looking at the others. */
  private unparsed = new Set<string>();
  /** Files and characters held (the server's workspace limit counts them). */
  private held = { files: 0, chars: 0 };
  /** Bumped by every change an analysis can show: files, options, components modelled or simulated. */
  private changes = 0;
  private nextUnit = 0;

  /** Every engine id, VFIO first; an analysis with all of them is a full one. */
  readonly engineIds: readonly Engine[];
  private readonly allEngines: ReadonlySet<Engine>;
  private readonly fullKey: string;

  /** The domains' engines, in order. */
  private readonly engines: readonly SimEngine[];
  /** The core's and the domains' model parts. */
  readonly schema: ModelSchema;
  /** The domains' checks of each guest as VFIO starts it. */
  private readonly guestChecks: readonly GuestCheck[];

  /** `domains`: the registry's (server/src/domains), in order. */
  constructor(
    private readonly domains: readonly DomainParts[],
    private options: AnalysisOptions = DEFAULT_OPTIONS,
    private readonly stages: Stages = STAGES,
  ) {
    this.engines = domains.flatMap((d) => (d.engine ? [d.engine] : []));
    this.schema = modelSchemaOf(domains);
    this.guestChecks = domains.flatMap((d) => d.guestChecks ?? []);
    this.engineIds = engineIds(this.engines);
    this.allEngines = new Set(this.engineIds);
    this.fullKey = this.keyOf(this.allEngines);
  }

  private keyOf(engines: ReadonlySet<Engine>): string {
    return this.engineIds.filter((e) => engines.has(e)).join(',');
  }

  setOptions(options: AnalysisOptions): void {
    this.changes++;
    if (options.maxFileSize !== this.options.maxFileSize || !!options.wholeFiles !== !!this.options.wholeFiles) {
      for (const [uri, f] of this.files) {
        f.prior = f.parsed?.units ?? f.prior;
        f.parsed = undefined;
        f.ast = undefined;
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
    this.files.set(uri, { ...entry, prior: prior?.parsed?.units ?? prior?.prior });
    this.unparsed.add(uri);
    this.held.files += prior ? 0 : 1;
    this.held.chars += text.length - (prior?.text.length ?? 0);
    this.changes++;
    return true;
  }

  removeFile(uri: string): void {
    const prior = this.files.get(uri);
    if (!prior) return;
    for (const u of prior.parsed?.units ?? []) u.base = -1;
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
    return (f.lines ??= linesOf(f));
  }

  /**
   * Parses what changed, then resolves and checks the whole workspace with the given
   * engines, component by component (ide/workspacePartition.ts): a component whose units
   * all kept their parse reuses its model and simulation, its findings moved with its
   * units when text before them changed length. The engines left out (the user's
   * `checksWhileTyping`) still count in every component unchanged since a run with all of
   * them; in a component with an edited unit they run again at the next full run (on
   * open or save).
   *
   * With `need`, a partial analysis: only the components done already and those holding a
   * file of `need` (done now); the files of the others have their syntax findings only.
   * The server answers requests from one while a long analysis is under way.
   *
   * The model and simulation are made when first read: a component whose units moved has
   * its findings moved at once, but its model (whose spans are where the units were) is
   * made again, at the units' places, only then.
   */
  analyze(isCancelled: () => boolean = () => false, engines: ReadonlySet<Engine> = this.allEngines, need?: ReadonlySet<string>): Analysis {
    const uris = this.uris();
    for (const uri of uris) {
      if (isCancelled()) throw new Cancelled();
      this.parsed(uri);
    }
    this.ensurePartition(uris);
    const engineKey = this.keyOf(engines);
    const all = this.whole ? [this.allUnits(uris)] : this.partition!;
    const groups = need ? all.filter((g) => this.ready(g, engineKey) || g.some((u) => need.has(u.uri))) : all;
    // A partial analysis that needs every component is a whole one: it drops the runs of components gone too.
    let parts = this.runComponents(groups, engineKey, engines, isCancelled, groups.length === all.length);
    const searched = parts.some((p) => p.run.model.searchedAllPlatforms);
    if (searched && !this.whole) parts = this.runComponents([this.allUnits(uris)], engineKey, engines, isCancelled, true);
    // A partial analysis that met no lookup across platforms knows nothing of the components it left out.
    if (searched || !need) this.whole = searched;

    // A file is analysed when every component holding one of its units is; the others have their syntax findings only.
    const covered = new Map<string, number>();
    for (const p of parts) for (const u of p.group) covered.set(u.uri, (covered.get(u.uri) ?? 0) + 1);
    const complete = (uri: string) => covered.get(uri) === this.files.get(uri)!.parsed!.units.length;
    const perFile = new Map<string, Finding[]>();
    for (const uri of covered.keys()) if (complete(uri)) perFile.set(uri, [...this.files.get(uri)!.parsed!.findings]);
    for (const p of parts) {
      for (const f of this.partFindings(p)) perFile.get(f.uri)?.push(f);
    }
    for (const [uri, list] of perFile) perFile.set(uri, this.finish(list));
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
    const lineIndex = (uri: string) => {
      const e = entries.get(uri);
      return e ? (e.lines ??= linesOf(e)) : this.lineIndex(uri);
    };
    const ast = (uri: string) => {
      const e = entries.get(uri);
      return e && this.fileAst(e);
    };
    const folding = (uri: string) => {
      const e = entries.get(uri);
      return e ? foldingOf(e, lineIndex(uri)) : [];
    };
    const merged = this.merged(parts, entries, engines);
    const analysis: Analysis = {
      get model() {
        return merged().model;
      },
      sim: lazySimulation(engines, () => merged().sim()),
      simOf: (uri) => merged().sim(uri),
      findings,
      lineIndex,
      ast,
      folding,
      stats,
      domains: this.domains,
    };
    if (perFile.size < uris.length) analysis.leftOut = new Set(uris.filter((u) => !perFile.has(u)));
    return analysis;
  }

  /**
   * The model of `parts`, made once when first asked, and their simulations, each made again
   * when first read: a part whose units moved is modelled again at their places in `entries`
   * (kept as the component's run if those are still the current texts), so every span is
   * where the text has it. `sim(uri)`: the components holding `uri`'s units; `sim()`: all.
   */
  private merged(parts: readonly Part[], entries: ReadonlyMap<string, FileEntry>, engines: ReadonlySet<Engine>) {
    let done: { model: Model; sim: (uri?: string) => Simulation } | undefined;
    return () => {
      if (done) return done;
      const bases = new Map<Unit, number>();
      if (parts.some((p) => p.moved))
        for (const e of entries.values()) e.parsed!.units.forEach((u, i) => void bases.set(u, e.parsed!.bases[i]!));
      // Each part's simulation in this analysis: made again from its model, with the engines that made its findings.
      const made = new Map<Part, Simulation>();
      const placed = parts.map((p) => {
        if (!p.moved) return p;
        const again = this.remade(p, bases, engines);
        made.set(again.part, again.sim);
        return again.part;
      });
      const simulation = (p: Part) => {
        let sim = made.get(p);
        if (!sim) made.set(p, (sim = this.stages.simulate(p.run.model.model, this.engines, p.sim.engines, this.guestChecks)));
        return sim;
      };
      const merged = mergeModels(
        placed.map((p) => p.run.model.model),
        this.schema,
      );
      // A component's model holds the comments of its own units: hovers and folding read the whole file's.
      const comments = new Map(merged.comments);
      for (const [uri, e] of entries) if (comments.has(uri)) comments.set(uri, this.fileAst(e).comments);
      const model = { ...merged, comments };
      const sims = new Map<string | undefined, Simulation>();
      const sim = (uri?: string) => {
        let s = sims.get(uri);
        if (!s) {
          const of = uri === undefined ? placed : placed.filter((p) => p.group.some((u) => u.uri === uri));
          s = mergeSimulations(
            of.map((p) => ({ platforms: p.run.model.model.platforms.values(), sim: simulation(p) })),
            engines,
          );
          sims.set(uri, s);
        }
        return s;
      };
      done = { model, sim };
      return done;
    };
  }

  /** A moved part modelled and simulated again where its units are at `at` (the analysed texts). */
  private remade(part: Part, at: ReadonlyMap<Unit, number>, engines: ReadonlySet<Engine>): { part: Part; sim: Simulation } {
    const bases = part.group.map((u) => at.get(u)!);
    const run = this.newRun(part.group, bases);
    const sim = this.stages.simulate(run.model.model, this.engines, engines, this.guestChecks);
    const simulated = { findings: sim.findings, engines };
    run.sims.set(this.keyOf(engines), simulated);
    // Still the current texts: later analyses reuse it instead of moving the old run's findings.
    const key = groupKey(part.group);
    if (this.runs.get(key) === part.run && part.group.every((u, i) => u.base === bases[i])) this.runs.set(key, run);
    return { part: { group: part.group, run, sim: simulated }, sim };
  }

  /**
   * A file's findings that depend on it alone (syntax, `file-too-large`, and what the
   * reader added), as an analysis reports them: the open document's, at once, while the
   * workspace is still being read.
   */
  syntaxFindings(uri: string): Finding[] {
    return this.files.has(uri) ? this.finish([...this.parsed(uri).findings]) : [];
  }

  /** The model's and simulation's findings of one component, moved with its units. */
  private partFindings(part: Part): Finding[] {
    const { run, sim, moved } = part;
    const own = [...run.model.findings, ...sim.findings];
    if (!moved) return own;
    // The same objects for the same move: `prepare` and `analyze` both ask, and the server
    // skips converting a file whose findings are the very ones it published.
    const key = moved.join(',');
    if (run.moved?.sim !== sim || run.moved.key !== key) run.moved = { sim, key, findings: moveFindings(own, run, moved) };
    return run.moved.findings;
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
   * publishes each file's findings as `finished` hears them (once every component holding
   * one of its units is done); `analyze` then finds the work done.
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
      const part = this.componentRun(group, engineKey, engines);
      started = true;
      order.seen = this.changes;
      // A lookup across every platform: `analyze` models the workspace as one piece, and
      // this component's findings may change then, so they are not given out yet.
      if (part.run.model.searchedAllPlatforms) {
        this.whole = true;
        return false;
      }
      const done = new Map<string, Finding[]>();
      for (const uri of new Set(group.map((u) => u.uri))) {
        const left = (order.pending.get(uri) ?? 1) - 1;
        order.pending.set(uri, left);
        if (left === 0) done.set(uri, this.fileFindings(uri, engineKey));
      }
      if (done.size) options.finished?.(done);
    }
    return false;
  }

  /** A file's findings once every component holding one of its units is ready. */
  private fileFindings(uri: string, engineKey: string): Finding[] {
    const list = [...this.parsed(uri).findings];
    for (const group of this.groupsOfFile.get(uri) ?? []) {
      const run = this.runs.get(groupKey(group))!;
      const sim = (run.sims.get(this.fullKey) ?? run.sims.get(engineKey))!;
      for (const f of this.partFindings(this.part(group, run, sim))) if (f.uri === uri) list.push(f);
    }
    return this.finish(list);
  }

  /**
   * The components with a file of `first` first, then the others by their text's length,
   * kept while the split holds; `prepare` starts over when something changed meanwhile.
   */
  private ordered(first: ReadonlySet<string> = new Set(), engineKey: string): NonNullable<AnalysisHost['order']> {
    const partition = this.partition!;
    const key = [...first].sort().join('\n');
    if (this.order?.partition !== partition || this.order.first !== key) {
      const length = (g: readonly Unit[]) => g.reduce((n, u) => n + u.text.length, 0);
      const ranked = partition.map((group) => ({ group, first: group.some((u) => first.has(u.uri)) ? 0 : 1, length: length(group) }));
      ranked.sort((a, b) => a.first - b.first || a.length - b.length);
      const groups = ranked.map((r) => r.group);
      this.order = { partition, first: key, groups, engineKey, next: 0, seen: this.changes, pending: this.pending(groups, engineKey) };
    } else if (this.order.seen !== this.changes || this.order.engineKey !== engineKey) {
      Object.assign(this.order, { engineKey, next: 0, seen: this.changes, pending: this.pending(this.order.groups, engineKey) });
    }
    return this.order;
  }

  /** Per file, how many of the components holding its units are not ready. */
  private pending(groups: readonly Unit[][], engineKey: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const g of groups) {
      if (this.ready(g, engineKey)) continue;
      for (const uri of new Set(g.map((u) => u.uri))) out.set(uri, (out.get(uri) ?? 0) + 1);
    }
    return out;
  }

  /** Work done since the last `analyze` (by it or by `prepare`), for its stats. */
  private work = { parsed: 0, built: new Set<ComponentRun>(), parseMs: 0, modelMs: 0, simulateMs: 0 };

  /** A file's units and syntax findings, made now if its text changed. */
  private parsed(uri: string): NonNullable<FileEntry['parsed']> {
    const entry = this.files.get(uri)!;
    if (!entry.parsed) {
      const t = performance.now();
      entry.parsed = this.parseFile(uri, entry);
      this.work.parsed++;
      this.work.parseMs += performance.now() - t;
      this.unparsed.delete(uri);
      this.noteUnits(entry.prior, entry.parsed.units);
      entry.prior = undefined;
    }
    return entry.parsed;
  }

  /**
   * After a file's units changed from `before` to `after`: the split stands when the units
   * an edit replaced are as many as those that replace them and each pair passes
   * `splitHolds` (the new unit then takes the old one's place in its component); the
   * workspace's names are made again when what they declare changed.
   */
  private noteUnits(before: readonly Unit[] | undefined, after: readonly Unit[]): void {
    if (!before) {
      this.partition = undefined;
      this.namesChanged = true;
      return;
    }
    let head = 0;
    while (head < before.length && head < after.length && before[head] === after[head]) head++;
    let tail = 0;
    while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail])
      tail++;
    const gone = before.slice(head, before.length - tail);
    const came = after.slice(head, after.length - tail);
    for (const u of gone) u.base = -1;
    if (gone.length !== came.length) {
      this.partition = undefined;
      this.namesChanged = true;
      return;
    }
    for (let i = 0; i < gone.length; i++) {
      const [b, a] = [gone[i]!, came[i]!];
      if (b.names.namesKey !== a.names.namesKey) this.namesChanged = true;
      if (!this.partition) continue;
      const group = this.groupOf.get(b);
      if (!group || !this.splitHolds(b.names, a.names)) {
        this.partition = undefined;
        continue;
      }
      group[group.indexOf(b)] = a;
      groupKeys.delete(group);
      this.groupOf.delete(b);
      this.groupOf.set(a, group);
    }
  }

  /**
   * Whether an edit from `before` to `after` leaves the split as it is: it declares the
   * same names, and the words it gained or lost name nothing declared (most keystrokes:
   * a value, a typo in the middle of a word). O(words of the unit), not of the workspace.
   */
  private splitHolds(before: FileNames, after: FileNames): boolean {
    const declared = this.declared;
    if (!this.partition || !declared || before.namesKey !== after.namesKey) return false;
    for (const w of after.words) if (!before.words.has(w) && declared.has(w)) return false;
    for (const w of before.words) if (!after.words.has(w) && declared.has(w)) return false;
    return true;
  }

  private allUnits(uris: readonly string[]): Unit[] {
    return uris.flatMap((u) => this.files.get(u)!.parsed!.units);
  }

  /** Splits the workspace anew when a unit came, went or changed what it declares or mentions. */
  private ensurePartition(uris: readonly string[]): void {
    if (this.partition && this.names) return;
    const units = this.allUnits(uris);
    const names = units.map((u) => u.names);
    // Only a change in what files declare is a change for suggestions (and their components).
    if (this.namesChanged || !this.names) {
      this.names = this.options.names ?? new WorkspaceNames(names);
      this.namesVersion++;
      this.namesChanged = false;
    }
    this.partition = components(names).map((group) => group.map((i) => units[i]!));
    this.groupOf = new Map();
    for (const g of this.partition) for (const u of g) this.groupOf.set(u, g);
    // A unit an edit replaces takes the old one's place in its group, so this order holds until the next split.
    const byFile = new Map<string, Set<Unit[]>>();
    for (const u of units) {
      const set = byFile.get(u.uri);
      if (set) set.add(this.groupOf.get(u)!);
      else byFile.set(u.uri, new Set([this.groupOf.get(u)!]));
    }
    this.groupsOfFile = new Map([...byFile].map(([uri, set]) => [uri, [...set]]));
    this.declared = new Set(names.flatMap((n) => [...n.globals.map((g) => g.name), ...n.bare]));
  }

  private reusable(run: ComponentRun | undefined, group: readonly Unit[]): run is ComponentRun {
    return (
      !!run &&
      run.units.length === group.length &&
      run.units.every((u, i) => u === group[i]) &&
      !(run.model.usedNames && run.namesVersion !== this.namesVersion)
    );
  }

  private ready(group: readonly Unit[], engineKey: string): boolean {
    const run = this.runs.get(groupKey(group));
    return this.reusable(run, group) && (run.sims.has(this.fullKey) || run.sims.has(engineKey));
  }

  /** A component's model and simulation: reused when its units are unchanged, else made and kept. */
  private componentRun(group: readonly Unit[], engineKey: string, engines: ReadonlySet<Engine>): Part {
    const key = groupKey(group);
    let run = this.runs.get(key);
    if (!this.reusable(run, group)) {
      const t = performance.now();
      run = this.newRun(
        group,
        group.map((u) => u.base),
      );
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
      // Only the findings are kept: requests that read the rest make it again (`merged`).
      sim = { findings: this.stages.simulate(run.model.model, this.engines, engines, this.guestChecks).findings, engines };
      run.sims.set(engineKey, sim);
      this.changes++;
      this.work.simulateMs += performance.now() - t;
    }
    return this.part(group, run, sim);
  }

  /** `group`'s run with how far its units moved since it was made. */
  private part(group: readonly Unit[], run: ComponentRun, sim: Simulated): Part {
    let moved: number[] | undefined;
    group.forEach((u, i) => {
      const d = u.base - run.bases[i]!;
      if (d !== 0) (moved ??= group.map(() => 0))[i] = d;
    });
    return moved ? { group, run, sim, moved } : { group, run, sim };
  }

  /** A component modelled with its units at `bases`: each file's units joined into one parse, in order. */
  private newRun(group: readonly Unit[], bases: readonly number[]): ComponentRun {
    const files: { uri: string; ast: SourceFile }[] = [];
    group.forEach((u, i) => {
      const ast = placed(u, bases[i]!);
      const last = files[files.length - 1];
      if (last?.uri === u.uri) {
        last.ast.decls.push(...ast.decls);
        last.ast.comments.push(...ast.comments);
      } else {
        files.push({ uri: u.uri, ast: { decls: [...ast.decls], comments: [...ast.comments], diagnostics: [], length: ast.length } });
      }
    });
    return { units: group, bases, namesVersion: this.namesVersion, model: this.modelOf(files), sims: new Map() };
  }

  /** Each component's run; with `prune` (every component), the runs of components that no longer exist are dropped. */
  private runComponents(
    groups: readonly Unit[][],
    engineKey: string,
    engines: ReadonlySet<Engine>,
    isCancelled: () => boolean,
    prune: boolean,
  ): Part[] {
    const out = groups.map((group) => {
      if (isCancelled()) throw new Cancelled();
      return this.componentRun(group, engineKey, engines);
    });
    if (prune) {
      const keep = new Set(groups.map(groupKey));
      for (const key of [...this.runs.keys()]) if (!keep.has(key)) this.runs.delete(key);
    }
    return out;
  }

  /** A component's model; if resolving throws (a bug), its files get `internal-error` and an empty model. */
  private modelOf(files: { uri: string; ast: SourceFile }[]): ModelResult {
    try {
      return this.stages.buildModel(files, this.schema, this.names);
    } catch (err) {
      // An empty model that still holds the files (their comments), so they stay in the workspace.
      const model = emptyModel(this.schema);
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

  /** The whole file's parse: its units' parses moved to their places, one after another. */
  private fileAst(entry: FileEntry): SourceFile {
    if (entry.ast) return entry.ast;
    const { units, bases } = entry.parsed!;
    if (units.length === 1) return (entry.ast = placed(units[0]!, 0));
    const ast: SourceFile = { decls: [], comments: [], diagnostics: [], length: entry.text.length };
    const diagnostics: SyntaxDiagnostic[] = [];
    units.forEach((u, i) => {
      const p = placed(u, bases[i]!);
      for (const d of p.decls) ast.decls.push(d);
      for (const c of p.comments) ast.comments.push(c);
      for (const d of p.diagnostics) diagnostics.push(d);
    });
    ast.diagnostics = capDiagnostics(diagnostics);
    return (entry.ast = ast);
  }

  private parseFile(uri: string, entry: FileEntry): NonNullable<FileEntry['parsed']> {
    const { text, oversized } = entry;
    const extra = entry.extra ?? [];
    const one = (ast: SourceFile, findings: Finding[]) => {
      const units = [this.unit(uri, text, ast)];
      units[0]!.base = 0;
      return { units, bases: [0], findings };
    };
    if (oversized !== undefined || text.length > this.options.maxFileSize) {
      const ast: SourceFile = { decls: [], comments: [], diagnostics: [], length: text.length };
      const limit = this.options.maxFileSize;
      const what =
        oversized === undefined
          ? `file is ${text.length} characters, over the limit of ${limit} ` +
            '(setting iommuLens.maxFileSize, CLI --max-file-size); it was not analysed'
          : `file is ${oversized} bytes, more than three times the limit of ${limit} characters ` +
            '(setting iommuLens.maxFileSize); it was not read';
      return one(ast, [finding('file-too-large', { uri, span: { start: 0, end: 0 } }, what)]);
    }
    let split: { units: Unit[]; bases: number[] } | undefined;
    let ast: SourceFile;
    try {
      split = this.split(uri, text, entry.prior);
      // The units' diagnostics at their places, capped as one file's: not the whole parse, which only requests need.
      let diagnostics: SyntaxDiagnostic[] | undefined;
      if (split) {
        diagnostics = [];
        // Most units have none: no array per unit on every edit.
        for (let i = 0; i < split.units.length; i++) {
          const { parse } = split.units[i]!;
          if (parse.ast.diagnostics.length)
            for (const d of shiftedDiagnostics(parse.ast.diagnostics, split.bases[i]! - parse.base)) diagnostics.push(d);
        }
        diagnostics = capDiagnostics(diagnostics);
      }
      ast = diagnostics ? { decls: [], comments: [], diagnostics, length: text.length } : this.stages.parse(text);
    } catch (err) {
      // A parser bug: the file counts as empty, so the rest of the workspace still analyses.
      return one({ decls: [], comments: [], diagnostics: [], length: text.length }, [internalError(uri, 'parsing', err), ...extra]);
    }
    const findings = ast.diagnostics.map((d) =>
      finding(d.code, { uri, span: d.span }, d.message, {
        related: (d.related ?? []).map((r) => ({ uri, span: r.span, message: r.message })),
      }),
    );
    if (!split) return one(ast, [...findings, ...extra]);
    split.units.forEach((u, i) => {
      u.base = split.bases[i]!;
    });
    return { ...split, findings: [...findings, ...extra] };
  }

  /**
   * The file's units when it splits cleanly into more than one (grammar/src/chunks.ts):
   * units of `prior` whose text is unchanged are kept (the edit's prefix and suffix), the
   * others parsed (or their parse taken from a replaced unit with the same text: a
   * declaration moved). Undefined when the file is parsed whole.
   */
  private split(uri: string, text: string, prior: readonly Unit[] | undefined): { units: Unit[]; bases: number[] } | undefined {
    // A parse stage of the caller's (the CLI's cache, tests) sees whole files, as it expects.
    if (this.options.wholeFiles || this.stages.parse !== parse) return undefined;
    const old = prior?.filter((u) => u.uri === uri) ?? [];
    // From the old split when there is one: only the stretch between unchanged chunks is scanned.
    const again =
      old.length >= 2
        ? resplit(
            text,
            old.map((u) => u.text),
          )
        : undefined;
    const starts = again ? again.starts : chunkStarts(text);
    if (!starts || starts.length < 2) return undefined;
    const texts = starts.map((s, i) => text.slice(s, starts[i + 1] ?? text.length));
    const units: (Unit | undefined)[] = texts.map(() => undefined);
    let head = 0;
    let tail = 0;
    if (again) {
      for (; head < again.head; head++) units[head] = old[head];
      for (; tail < again.tail; tail++) units[texts.length - 1 - tail] = old[old.length - 1 - tail];
    } else {
      while (head < texts.length && head < old.length && old[head]!.text === texts[head]) units[head] = old[head++];
      for (let i = texts.length - 1, j = old.length - 1; i >= head && j >= head && old[j]!.text === texts[i]; i--, j--, tail++)
        units[i] = old[j];
    }
    // Only the old units between: a declaration cut and pasted nearby keeps its parse.
    const byText = new Map(old.slice(head, old.length - tail).map((u) => [u.text, u]));
    for (let i = head; i < texts.length - tail; i++) {
      const t = texts[i]!;
      const same = byText.get(t);
      // Parsed (or moved) straight to where it stands: no copy in its own offsets first.
      const base = starts[i]!;
      const ast = same ? shifted(same.parse.ast, base - same.parse.base) : parseUncapped(t, base);
      if (!chunkIsClean(ast, i === texts.length - 1, base)) return undefined;
      units[i] = this.unit(uri, t, ast, base, same?.names);
    }
    return { units: units as Unit[], bases: starts };
  }

  /** `ast`: parsed at `base` of the file; `names`: those of a unit with the same text, when there is one. */
  private unit(uri: string, text: string, ast: SourceFile, base = 0, names = fileNames(ast, this.schema)): Unit {
    return { id: this.nextUnit++, base: -1, uri, text, names, parse: { base, ast } };
  }
}

/**
 * A file's line table from its units' line breaks, each unit scanned once in its life: a
 * unit ends after a line break and `\r\n` never straddles two (chunks.ts), so this is the
 * table of the whole text without scanning it, or making an entry per line, on every edit.
 */
function linesOf(entry: FileEntry): LineIndex {
  const p = entry.parsed;
  if (!p || p.units.length < 2) return new LineIndex(entry.text);
  return new LineIndex(entry.text, { bases: p.bases, breaks: p.units.map((u) => (u.breaks ??= lineBreaks(u.text))) });
}

/** A file's folding: each unit's made once in its life, then placed at the line the unit starts on. */
function foldingOf(entry: FileEntry, lines: LineIndex): FoldingRange[] {
  const { units } = entry.parsed!;
  let line = 0;
  const parts = units.map((u) => {
    const breaks = (u.breaks ??= lineBreaks(u.text));
    const part = { line, part: (u.folding ??= foldingPart(u.parse.ast, u.text, new LineIndex(u.text), u.parse.base)) };
    line += breaks.length;
    return part;
  });
  return joinFolding(parts, entry.text, lines);
}

/** A unit's parse at offset `base` of its file (kept in its place of the one before: the model holds it there). */
function placed(u: Unit, base: number): SourceFile {
  if (u.parse.base !== base) u.parse = { base, ast: shifted(u.parse.ast, base - u.parse.base) };
  return u.parse.ast;
}

/** A component's key, its units' ids (so a split made again finds its runs); kept per group array until `noteUnits` changes it. */
const groupKeys = new WeakMap<readonly Unit[], string>();
function groupKey(group: readonly Unit[]): string {
  let key = groupKeys.get(group);
  if (key === undefined) groupKeys.set(group, (key = group.map((u) => u.id).join(',')));
  return key;
}

/**
 * Findings of `run` moved as its units moved (`moved[i]` for `run.units[i]`): each end of
 * a span goes with the unit it lies in when the run was made (an end at a unit's start,
 * or the end of a span, with the unit before when nothing else starts there). Units keep
 * their order in a file, so the findings keep theirs.
 */
function moveFindings(list: readonly Finding[], run: ComponentRun, moved: readonly number[]): Finding[] {
  const byUri = new Map<string, { starts: number[]; ends: number[]; delta: number[] }>();
  run.units.forEach((u, i) => {
    let r = byUri.get(u.uri);
    if (!r) byUri.set(u.uri, (r = { starts: [], ends: [], delta: [] }));
    r.starts.push(run.bases[i]!);
    r.ends.push(run.bases[i]! + u.text.length);
    r.delta.push(moved[i]!);
  });
  const at = (uri: string, x: number, isEnd: boolean): number => {
    const r = byUri.get(uri);
    if (!r) return x;
    // The last unit starting at or before x (before x for an end, which is exclusive).
    let lo = 0;
    let hi = r.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (isEnd ? r.starts[mid]! < x : r.starts[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    const i = Math.max(0, lo - 1);
    return x + r.delta[i]!;
  };
  const span = (uri: string, s: Span): Span => {
    const start = at(uri, s.start, false);
    return { start, end: s.end === s.start ? start : at(uri, s.end, true) };
  };
  const loc = <L extends { uri: string; span: Span }>(l: L): L => ({ ...l, span: span(l.uri, l.span) });
  return list.map((f) => {
    const out: Finding = {
      ...f,
      span: span(f.uri, f.span),
      related: f.related.map(loc),
      fixes: f.fixes.map((x) => ({ ...x, edits: x.edits.map(loc) })),
    };
    if (f.trace) out.trace = f.trace.map(loc);
    return out;
  });
}

/**
 * A simulation whose parts are made when first read, all but `engines` (which the server's
 * status reads after every run): reading it must not model moved components again.
 */
function lazySimulation(engines: ReadonlySet<Engine>, make: () => Simulation): Simulation {
  return {
    engines,
    get findings() {
      return make().findings;
    },
    get byEngine() {
      return make().byEngine;
    },
    get guests() {
      return make().guests;
    },
    get order() {
      return make().order;
    },
    get results() {
      return make().results;
    },
    regionsOf: (p) => make().regionsOf(p),
  };
}

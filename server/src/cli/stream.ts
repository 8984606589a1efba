/**
 * `check` component by component, so memory follows the largest component, not the fleet.
 *
 * Pass 1 parses every file for its names (ide/components.ts links files through them) and
 * keeps the ASTs only while they fit in a budget. From the names: the components, which of
 * them this run checks (`--shard K/N`), and the workspace's names that suggestions read.
 * Pass 2 analyses one component at a time in its own AnalysisHost (the ASTs kept are taken,
 * the others parsed again), keeps only its findings with their ranges, and drops the rest.
 * Findings are the same as one host's with every file: a component's findings depend on its
 * files and the workspace's names alone, except when a timeline looks a device up on every
 * platform; then, as the host does, the workspace is one component.
 *
 * `--jobs N` runs both passes on worker threads (cli/worker.ts); the findings are put back in
 * file order, so the output is the same whatever the number of jobs.
 */
import { Worker } from 'node:worker_threads';
import { parse, type SourceFile } from '@iommu-lens/grammar';
import { AnalysisHost, type Analysis, type AnalysisOptions, type Stages } from '../ide';
import { buildModel, fileNames, WorkspaceNames, type FileNames } from '../model';
import { simulate } from '../sim';
import { components } from '../ide/workspacePartition';
import { encodingFindings, type InputFile } from './files';
import { placeFinding, type PlacedFinding } from './report';
import { DOMAINS, MODEL_SCHEMA } from '../domains';

/** Which part of the components a run checks: `index` of `count` (0-based; `--shard` is 1-based). */
export interface Shard {
  index: number;
  count: number;
}

export interface StreamOptions {
  options: AnalysisOptions;
  /** The stages, when not the real ones (tests break one); worker threads always use the real ones. */
  stages?: Stages;
  shard: Shard;
  jobs: number;
  /** The script a worker thread runs (the bundled CLI); without it, `jobs` are run in this thread. */
  worker?: string;
  /** Characters whose ASTs pass 1 keeps (default AST_BUDGET_CHARS; tests set 0 to parse every file twice). */
  astBudget?: number;
}

/** The findings of the files a run checked, in file order, and how many files those were. */
export interface Streamed {
  findings: PlacedFinding[];
  files: number;
}

export const MAX_JOBS = 64;

/**
 * Characters of text whose ASTs pass 1 keeps for pass 2 (an AST takes about 16 bytes per
 * character: some 130 MiB); past it, files are parsed again when their component comes.
 */
export const AST_BUDGET_CHARS = 8 * 2 ** 20;

const STAGES: Stages = { parse, buildModel, simulate };
const EMPTY: SourceFile = { decls: [], comments: [], diagnostics: [], length: 0 };

/** What pass 1 learns of a file. */
export interface Scanned {
  names: FileNames;
  /** It has a timeline step that may look a device up on every platform. */
  everywhere: boolean;
}

/** ASTs kept from pass 1 by their text, each taken once by pass 2, within a budget of characters. */
export class AstCache {
  private readonly byText = new Map<string, SourceFile[]>();
  private chars = 0;

  constructor(private readonly budget: number) {}

  keep(text: string, ast: SourceFile): void {
    if (this.chars + text.length > this.budget) return;
    this.chars += text.length;
    const list = this.byText.get(text);
    if (list) list.push(ast);
    else this.byText.set(text, [ast]);
  }

  peek(text: string): SourceFile | undefined {
    return this.byText.get(text)?.at(-1);
  }

  /** The parse stage through the cache: a kept AST is handed out once and forgotten. */
  parser(parse: Stages['parse']): Stages['parse'] {
    return (text) => {
      const list = this.byText.get(text);
      const ast = list?.pop();
      if (!ast) return parse(text);
      if (!list!.length) this.byText.delete(text);
      this.chars -= text.length;
      return ast;
    };
  }
}

/**
 * A file's AST as the host would make it (a file over the size limit, or one the parser fails
 * on, counts as empty: the host reports it when it parses the file again).
 */
function parseAs(text: string, options: AnalysisOptions, stages: Stages, cache: AstCache): SourceFile {
  const kept = cache.peek(text);
  if (kept) return kept;
  if (text.length > options.maxFileSize) return EMPTY;
  try {
    return stages.parse(text);
  } catch {
    return EMPTY;
  }
}

/** Pass 1 for one file: its names, and its AST kept if the budget allows. */
export function scanFile(text: string, options: AnalysisOptions, stages: Stages, cache: AstCache): Scanned {
  const ast = parseAs(text, options, stages, cache);
  if (ast !== EMPTY) cache.keep(text, ast);
  return {
    names: fileNames(ast, MODEL_SCHEMA),
    everywhere: MODEL_SCHEMA.parts.some((p) => p.mayLookEverywhere?.(ast, MODEL_SCHEMA)),
  };
}

/** A FileNames without its words (what suggestions read), to send to worker threads. */
export function declaredNames(n: FileNames): FileNames {
  return { ...n, words: new Set() };
}

/**
 * The components (as lists of indices into `inputs`, in file order) this run checks. A
 * component with a step that may look on every platform is modelled here to know whether it
 * does (`everywhere`); if one does, the workspace is one component, as in the host.
 */
export function planComponents(
  inputs: readonly InputFile[],
  scanned: readonly Scanned[],
  shard: Shard,
  searchesEverywhere: (group: readonly number[]) => boolean,
): number[][] {
  let groups = components(scanned.map((s) => s.names));
  if (groups.some((g) => g.some((i) => scanned[i]!.everywhere) && searchesEverywhere(g))) groups = [inputs.map((_, i) => i)];
  const sizes = groups.map((g) => g.reduce((n, i) => n + inputs[i]!.text.length, 0));
  const shardOf = assignShards(
    sizes,
    groups.map((g) => inputs[g[0]!]!.display),
    shard.count,
  );
  return groups.filter((_, i) => shardOf[i] === shard.index);
}

/**
 * Each component's shard: the largest first (ties by the name of its first file), each to the
 * shard with the least text so far (ties: the lowest). It depends on the files and their
 * sizes only, never on the order they were found in, so every shard of a CI matrix computes
 * the same split. Shards are few: a scan over them per component.
 */
export function assignShards(sizes: readonly number[], keys: readonly string[], count: number): number[] {
  const order = sizes.map((_, i) => i);
  order.sort((a, b) => sizes[b]! - sizes[a]! || (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const out = new Array<number>(sizes.length);
  for (const g of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    out[g] = best;
    load[best] = load[best]! + sizes[g]!;
  }
  return out;
}

/** Whether the files' model looks a device up on every platform (a model that fails to build does not: the host reports it). */
function searchesEverywhere(
  files: readonly InputFile[],
  names: WorkspaceNames,
  o: StreamOptions,
  cache: AstCache,
  stages: Stages,
): boolean {
  try {
    const parsed = files.map((f) => ({ uri: f.uri, ast: parseAs(f.text, o.options, stages, cache) }));
    return stages.buildModel(parsed, MODEL_SCHEMA, names).searchedAllPlatforms;
  } catch {
    return false;
  }
}

/** Every finding of `files` in `analysis`, in file order, placed. */
export function placeAll(analysis: Analysis, files: readonly Pick<InputFile, 'uri'>[]): PlacedFinding[] {
  const range = (uri: string, span: { start: number; end: number }) => analysis.lineIndex(uri).range(span);
  return files.flatMap((f) => (analysis.findings.get(f.uri) ?? []).map((x) => placeFinding(x, range)));
}

/** One component's findings per file, from a host that holds only its files but knows the workspace's names. */
export function analyseComponent(
  files: readonly InputFile[],
  names: WorkspaceNames,
  options: AnalysisOptions,
  stages: Stages,
  cache: AstCache,
): [string, PlacedFinding[]][] {
  const host = new AnalysisHost(DOMAINS, { ...options, names }, { ...stages, parse: cache.parser(stages.parse) });
  for (const f of files) host.setFile(f.uri, f.text, encodingFindings(f));
  const analysis = host.analyze();
  return files.map((f) => [f.uri, placeAll(analysis, [f])]);
}

/** The findings of the components checked, in file order. */
function collect(inputs: readonly InputFile[], mine: readonly number[][], byFile: ReadonlyMap<string, PlacedFinding[]>): Streamed {
  const files = mine.flat().sort((a, b) => a - b);
  return { findings: files.flatMap((i) => byFile.get(inputs[i]!.uri) ?? []), files: files.length };
}

export function checkStreamed(inputs: readonly InputFile[], o: StreamOptions): Streamed | Promise<Streamed> {
  if (o.jobs > 1 && o.worker && inputs.length > 1) return checkOnWorkers(inputs, o, o.worker);
  const stages = o.stages ?? STAGES;
  const cache = new AstCache(o.astBudget ?? AST_BUDGET_CHARS);
  const scanned = inputs.map((f) => scanFile(f.text, o.options, stages, cache));
  const names = new WorkspaceNames(scanned.map((s) => s.names));
  const files = (g: readonly number[]) => g.map((i) => inputs[i]!);
  const mine = planComponents(inputs, scanned, o.shard, (g) => searchesEverywhere(files(g), names, o, cache, stages));
  const byFile = new Map<string, PlacedFinding[]>();
  for (const g of mine) for (const [uri, list] of analyseComponent(files(g), names, o.options, stages, cache)) byFile.set(uri, list);
  return collect(inputs, mine, byFile);
}

/** Messages to a worker thread (cli/worker.ts) and its answers. */
export type WorkerRequest =
  | { kind: 'scan'; texts: string[] }
  | { kind: 'names'; names: FileNames[] }
  | { kind: 'analyse'; files: InputFile[] };
export type WorkerAnswer = Scanned[] | [string, PlacedFinding[]][] | null;
export interface WorkerSetup {
  iommuLensWorker: true;
  options: AnalysisOptions;
  budget: number;
}

/** A worker thread that answers one request at a time, in order. */
class Helper {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (a: WorkerAnswer) => void; reject: (e: unknown) => void }[] = [];

  constructor(script: string, setup: WorkerSetup) {
    this.worker = new Worker(script, { workerData: setup });
    this.worker.on('message', (a: WorkerAnswer) => this.waiting.shift()?.resolve(a));
    const fail = (e: unknown) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`a worker thread stopped (exit code ${code})`)));
  }

  ask<T extends WorkerAnswer>(request: WorkerRequest): Promise<T> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (a: WorkerAnswer) => void, reject });
      this.worker.postMessage(request);
    });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Cuts `inputs` into `n` runs of consecutive files with about the same text each. */
function chunks(inputs: readonly InputFile[], n: number): number[][] {
  const total = inputs.reduce((s, f) => s + f.text.length, 0);
  const out: number[][] = Array.from({ length: n }, () => []);
  let seen = 0;
  inputs.forEach((f, i) => {
    out[Math.min(n - 1, Math.floor((seen * n) / Math.max(1, total)))]!.push(i);
    seen += f.text.length;
  });
  return out;
}

/**
 * Both passes on `jobs` worker threads. Pass 1: each parses a run of files and keeps their
 * ASTs. Pass 2: a component goes to the worker that parsed most of its text (fewer parses
 * again); a worker with nothing left takes from the longest queue.
 */
async function checkOnWorkers(inputs: readonly InputFile[], o: StreamOptions, script: string): Promise<Streamed> {
  const n = Math.min(o.jobs, inputs.length);
  const helpers = Array.from(
    { length: n },
    () => new Helper(script, { iommuLensWorker: true, options: o.options, budget: (o.astBudget ?? AST_BUDGET_CHARS) / n }),
  );
  try {
    const runs = chunks(inputs, n);
    const parts = await Promise.all(
      runs.map((run, w) => helpers[w]!.ask<Scanned[]>({ kind: 'scan', texts: run.map((i) => inputs[i]!.text) })),
    );
    const scanned = new Array<Scanned>(inputs.length);
    const holder = new Array<number>(inputs.length);
    runs.forEach((run, w) => {
      run.forEach((i, k) => {
        scanned[i] = parts[w]![k]!;
        holder[i] = w;
      });
    });
    const names = new WorkspaceNames(scanned.map((s) => s.names));
    const files = (g: readonly number[]) => g.map((i) => inputs[i]!);
    const cache = new AstCache(0);
    const mine = planComponents(inputs, scanned, o.shard, (g) => searchesEverywhere(files(g), names, o, cache, STAGES));
    const declared = scanned.map((s) => declaredNames(s.names));
    await Promise.all(helpers.map((h) => h.ask({ kind: 'names', names: declared })));
    const queues: number[][][] = helpers.map(() => []);
    for (const g of mine) {
      const held = new Array<number>(n).fill(0);
      for (const i of g) held[holder[i]!] = held[holder[i]!]! + inputs[i]!.text.length;
      queues[held.indexOf(Math.max(...held))]!.push(g);
    }
    const byFile = new Map<string, PlacedFinding[]>();
    const next = (w: number): number[] | undefined => {
      if (queues[w]!.length) return queues[w]!.shift();
      const longest = queues.reduce((a, q) => (q.length > a.length ? q : a));
      return longest.pop();
    };
    await Promise.all(
      helpers.map(async (h, w) => {
        for (let g = next(w); g; g = next(w)) {
          for (const [uri, list] of await h.ask<[string, PlacedFinding[]][]>({ kind: 'analyse', files: files(g) })) byFile.set(uri, list);
        }
      }),
    );
    return collect(inputs, mine, byFile);
  } finally {
    await Promise.all(helpers.map((h) => h.stop()));
  }
}

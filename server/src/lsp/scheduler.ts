/**
 * When to analyse and with which engines. Edits are debounced and run the engines of
 * `iommuLens.checksWhileTyping`; opening, saving, files changing on disk and new
 * settings run every engine. A newer request cancels an older run. Runs expected to be
 * long report LSP progress, and every run ends with an `iommuLens/status` notification
 * (the VS Code client shows it in the status bar; other editors may ignore it).
 *
 * A run goes component by component (ide/components.ts), those of the open documents
 * first, and publishes each component's findings as soon as it is done, yielding to the
 * event loop between slices of work: one slow component holds back neither the others'
 * findings nor requests and edits. Requests during a run answer from a partial analysis
 * in which the open documents' components are complete.
 */
import type { Connection, WorkDoneProgressServerReporter } from 'vscode-languageserver';
import { Cancelled, type Analysis, type AnalysisHost } from '../ide';
import type { Finding } from '../model';
import type { Engine } from '../sim';
import type { Log } from './log';
import { STATUS_NOTIFICATION, type StatusParams } from './protocol';
import type { ServerSettings } from './settings';
import { ALL_ENGINES, ENGINE_IDS } from '../domains';

/** A run that took this long makes the next one show progress and an `analysing` status. */
const LONG_RUN_MS = 250;
/** The longest stretch of background work between two turns of the event loop. */
const SLICE_MS = 20;
/** The least time between two progress reports (and `analysing` statuses) of one run. */
const REPORT_MS = 200;

/** Where findings go: the server publishes them. */
export interface Publisher {
  /** Some files' findings, final for their current text: a component just done, an open document's syntax while loading. */
  files(findings: ReadonlyMap<string, readonly Finding[]>): void;
  /** A whole analysis: every file's findings; files no longer in it are cleared. */
  analysis(a: Analysis): void;
}

/**
 * Resolves after the messages already queued are served. setImmediate where there is one
 * (Node); in a web worker a MessageChannel message, which comes after the queued ones
 * without the 4 ms a nested setTimeout waits there.
 */
function nextTurn(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    // The web's MessagePort (Node's types describe the worker_threads one, which has no onmessage).
    (channel.port1 as unknown as { onmessage: (() => void) | null }).onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

export class Scheduler {
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The generation of the background run between its first slice and its end, if one is. */
  private running: number | undefined;
  private last: Analysis | undefined;
  private lastMs = 0;
  /** A file changed since the last complete run. */
  private stale = true;
  /** The last run failed: `last` is older than the text. */
  private failed = false;
  /** Something since the last full run asks for every engine (open, save, disk, settings). */
  private wantFull = true;
  /** Settles when the initial read of the workspace is done; until then nothing is analysed. */
  private loading: Promise<void> | undefined;
  /** The partial analysis requests got during a run, while the host has not changed since. */
  private partial: { version: number; analysis: Analysis } | undefined;
  /** The work-done progress shown from the start of a long stretch (reading, analysing) to its end. */
  private progress: { reporter: Promise<WorkDoneProgressServerReporter | undefined>; reported: number } | undefined;
  private readonly counts: Omit<StatusParams, 'state' | 'ms' | 'skipped' | 'message'> = {
    files: 0,
    errors: 0,
    warnings: 0,
    information: 0,
    hints: 0,
  };

  constructor(
    private readonly host: AnalysisHost,
    private readonly connection: Connection,
    private readonly log: Log,
    private readonly settings: () => ServerSettings,
    private readonly publish: Publisher,
    /** The documents open in the editor: their components go first. */
    private readonly open: () => ReadonlySet<string>,
    /** Hears, once, that the first complete analysis is adopted. */
    private readonly onFirstAnalysis: () => void = () => undefined,
  ) {}

  /**
   * Holds every analysis until `loaded` settles (the read of the workspace's folders), then
   * runs one. A document the editor opens meanwhile gets its syntax findings at once (the
   * server asks `loaded()`), but no analysis: half a workspace shows false findings, such
   * as a guest whose host platform is not read yet.
   */
  hold(loaded: Promise<unknown>): void {
    // A second hold (a folder added during the first scan) waits for both.
    const done = Promise.all([this.loading, loaded]).then(
      () => undefined,
      () => undefined,
    );
    this.loading = done;
    this.status('analysing', 'reading the workspace');
    this.beginProgress('Reading the workspace');
    void done.then(() => {
      if (this.loading !== done) return;
      this.loading = undefined;
      this.schedule(0);
    });
  }

  /** While the workspace is read, when it is done: requests wait for it rather than answer from part of it. */
  loaded(): Promise<void> | undefined {
    return this.loading;
  }

  /** How the read of the workspace goes: shown as progress and status, at most every REPORT_MS. */
  reading(message: string): void {
    if (this.loading && this.due()) this.report('analysing', `reading the workspace: ${message}`);
  }

  /** A file's text changed; `full` when every engine should see it (not a keystroke). */
  changed(full: boolean): void {
    this.stale = true;
    if (full) this.wantFull = true;
  }

  /** Analyses after `delay` ms of quiet; cancels a run in progress. */
  schedule(delay = this.settings().debounceMs): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runInBackground().catch((e: unknown) => this.log.error(`analysis failed: ${(e as Error).stack ?? e}`));
    }, delay);
  }

  /**
   * The analysis of the current text, for requests. After a failed run, the last good
   * analysis until the next change: requests do not retry a failure one by one. While a
   * run is due or under way, a partial analysis in which the components of the open
   * documents are complete (done now if need be); else the run happens now.
   */
  current(): Analysis | undefined {
    if (!this.stale && (this.last || this.failed)) return this.last;
    if (this.timer || this.running !== undefined) return this.partialAnalysis();
    this.runNow(++this.generation);
    return this.last;
  }

  /** The last analysis if no file changed since (no run is started). */
  settled(): Analysis | undefined {
    return this.stale || this.failed ? undefined : this.last;
  }

  /**
   * For a request while a run is due or under way. When every component is done (most
   * edits: only the edited one was not), this is the run: it is adopted and published, and
   * the run due has nothing left to do. Else a partial analysis, kept while the host does
   * not change; the components it completed are published now rather than at the end.
   */
  private partialAnalysis(): Analysis | undefined {
    if (this.partial?.version === this.host.version()) return this.partial.analysis;
    const engines = this.engines();
    const started = performance.now();
    let analysis: Analysis;
    try {
      analysis = this.host.analyze(() => false, engines, this.open());
    } catch (e) {
      // The run under way meets the same failure and reports it with its status.
      this.log.debug(() => `a partial analysis for a request failed: ${(e as Error).message}`);
      return this.last;
    }
    const left = analysis.leftOut;
    if (!left) {
      this.generation++; // the run under way is done
      this.adopt(analysis, engines, started);
      return analysis;
    }
    this.partial = { version: this.host.version(), analysis };
    this.publish.files(new Map([...analysis.findings].filter(([uri]) => !left.has(uri))));
    return analysis;
  }

  private async runInBackground(): Promise<void> {
    if (this.loading) return; // hold() runs one when the workspace is in
    if (!this.stale && !this.wantFull && this.last) return; // a request already analysed this text
    const mine = ++this.generation;
    const engines = this.engines();
    // The first run (loading the workspace) or one like a long last run: announce it.
    const long = !this.last || this.lastMs >= LONG_RUN_MS || this.progress !== undefined;
    const files = this.host.uris().length;
    if (long) {
      this.beginProgress(`Analysing ${files} files`);
      this.report('analysing', `analysing ${files} files`);
    }
    this.running = mine;
    try {
      // Slices of parsing and modelling, yielding between them: edits, hovers and
      // cancellation are served while a large workspace loads, and each component's
      // findings are published as it is done.
      try {
        const options = { first: this.open(), finished: (f: ReadonlyMap<string, Finding[]>) => this.publish.files(f) };
        while (mine === this.generation && this.host.prepare(performance.now() + SLICE_MS, engines, options)) {
          const c = long && this.due() ? this.host.componentCounts() : undefined;
          if (c)
            this.report('analysing', `analysing ${files} files: ${c.done} of ${c.total} components`, Math.floor((100 * c.done) / c.total));
          await nextTurn();
        }
      } catch (e) {
        // runNow does the same work again and reports the failure with its status.
        this.log.debug(() => `preparing the analysis failed: ${(e as Error).message}`);
      }
      if (mine === this.generation) this.runNow(mine);
    } finally {
      if (this.running === mine) this.running = undefined;
    }
  }

  /** Every engine when something asks for a full run, else those chosen for typing. */
  private engines(): ReadonlySet<Engine> {
    const typing = this.settings().checksWhileTyping;
    return this.wantFull || typing.size === ENGINE_IDS.length ? ALL_ENGINES : typing;
  }

  private runNow(mine: number): void {
    const engines = this.engines();
    const started = performance.now();
    let a: Analysis;
    try {
      a = this.host.analyze(() => mine !== this.generation, engines);
    } catch (e) {
      if (e instanceof Cancelled) {
        this.stale = true;
        this.log.debug(() => 'analysis cancelled by a newer edit');
        return;
      }
      // A failure is not retried by every request: the next change runs it again.
      this.stale = false;
      this.failed = true;
      this.log.error(`analysis failed: ${(e as Error).stack ?? e}`);
      this.status('failed', (e as Error).message);
      this.firstRunOver();
      return;
    }
    this.adopt(a, engines, started);
  }

  /** A complete analysis of the current text: it answers requests, is published and counted. */
  private adopt(a: Analysis, engines: ReadonlySet<Engine>, started: number): void {
    this.stale = false;
    this.failed = false;
    if (engines.size === ENGINE_IDS.length) this.wantFull = false;
    this.last = a;
    this.partial = undefined;
    this.lastMs = performance.now() - started;
    this.log.debug(() => {
      const s = a.stats;
      return (
        `analysed ${s.files} files (${s.parsed} parsed anew; ${s.components - s.reused} ` +
        `of ${s.components} components modelled anew) in ${this.lastMs.toFixed(0)} ms: ` +
        `parse ${s.parseMs.toFixed(0)}, model ${s.modelMs.toFixed(0)}, ` +
        `simulate ${s.simulateMs.toFixed(0)} ms; engines ${[...engines].join(', ')}`
      );
    });
    this.publish.analysis(a);
    this.count(a);
    this.status('ready');
    this.firstRunOver();
  }

  /** Tells `onFirstAnalysis`, once: after the first run adopted, or failed (no other comes until a change). */
  private firstRunOver(): void {
    if (this.firstOver) return;
    this.firstOver = true;
    this.onFirstAnalysis();
  }
  private firstOver = false;

  private count(a: Analysis): void {
    const c = { files: a.findings.size, errors: 0, warnings: 0, information: 0, hints: 0 };
    for (const list of a.findings.values()) {
      for (const f of list) {
        if (f.severity === 'error') c.errors++;
        else if (f.severity === 'warning') c.warnings++;
        else if (f.severity === 'information') c.information++;
        else c.hints++;
      }
    }
    Object.assign(this.counts, c);
  }

  /**
   * Begins the work-done progress unless one is shown. Not awaited: the work starts while
   * the client answers. One that cannot show progress gets none; work over before the
   * answer begins and ends it at once.
   */
  private beginProgress(message: string): void {
    if (this.progress) return;
    const reporter = this.connection.window.createWorkDoneProgress().then(
      (p) => {
        p.begin('IOMMU Lens', undefined, message);
        return p;
      },
      () => undefined,
    );
    this.progress = { reporter, reported: performance.now() };
  }

  /** Whether a report is due: the first of a stretch, then one every REPORT_MS. */
  private due(): boolean {
    return this.progress === undefined || performance.now() - this.progress.reported >= REPORT_MS;
  }

  /** An `analysing` status and, when progress is shown, the same as a progress report. */
  private report(state: 'analysing', message: string, percentage?: number): void {
    this.status(state, message);
    if (!this.progress) return;
    this.progress.reported = performance.now();
    const text = message.charAt(0).toUpperCase() + message.slice(1);
    void this.progress.reporter.then((p) => (percentage === undefined ? p?.report(text) : p?.report(percentage, text)));
  }

  /** The status notification; a state other than `analysing` ends the progress. */
  private status(state: StatusParams['state'], message?: string): void {
    const skipped =
      this.last && this.last.sim.engines.size < ENGINE_IDS.length ? ENGINE_IDS.filter((e) => !this.last!.sim.engines.has(e)) : [];
    const params: StatusParams = { state, ...this.counts, ms: Math.round(this.lastMs), skipped };
    if (message) params.message = message;
    void this.connection.sendNotification(STATUS_NOTIFICATION, params);
    if (state !== 'analysing' && this.progress) {
      const { reporter } = this.progress;
      this.progress = undefined;
      void reporter.then((p) => p?.done());
    }
  }
}

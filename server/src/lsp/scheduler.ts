/**
 * When to analyse and with which engines. Edits are debounced and run the engines of
 * `iommuLens.checksWhileTyping`; opening, saving, files changing on disk and new
 * settings run every engine. A newer request cancels an older run. Runs expected to be
 * long report LSP progress, and every run ends with an `iommuLens/status` notification
 * (the VS Code client shows it in the status bar; other editors may ignore it).
 */
import type { Connection } from 'vscode-languageserver';
import { Cancelled, type Analysis, type AnalysisHost } from '../ide';
import { ALL_ENGINES, ENGINES, type Engine } from '../sim';
import type { Log } from './log';
import { STATUS_NOTIFICATION, type StatusParams } from './protocol';
import type { ServerSettings } from './settings';


/** A run that took this long makes the next one show progress and an `analysing` status. */
const LONG_RUN_MS = 250;
/** The longest stretch of background work between two turns of the event loop. */
const SLICE_MS = 20;

export class Scheduler {
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
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
  private readonly counts: Omit<StatusParams, 'state' | 'ms' | 'skipped' | 'message'> = { files: 0, errors: 0, warnings: 0, information: 0, hints: 0 };

  constructor(
    private readonly host: AnalysisHost,
    private readonly connection: Connection,
    private readonly log: Log,
    private readonly settings: () => ServerSettings,
    private readonly onAnalysis: (a: Analysis) => void,
  ) {}

  /**
   * Holds every analysis until `loaded` settles (the read of the workspace's folders), then
   * runs one. A document the editor opens meanwhile is kept but not analysed alone: half a
   * workspace shows false findings, such as a guest whose host platform is not read yet.
   */
  hold(loaded: Promise<unknown>): void {
    // A second hold (a folder added during the first scan) waits for both.
    const done = Promise.all([this.loading, loaded]).then(() => undefined, () => undefined);
    this.loading = done;
    this.status('analysing', 'reading the workspace');
    void done.then(() => {
      if (this.loading !== done) return;
      this.loading = undefined;
      this.schedule(0);
    });
  }

  /** While the workspace is read, when it is done: requests wait for it rather than answer from part of it. */
  loaded(): Promise<void> | undefined { return this.loading; }

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
   * The analysis of the current text, running it now if a file changed (requests answer
   * from it). After a failed run, the last good analysis until the next change: requests
   * do not retry a failure one by one.
   */
  current(): Analysis | undefined {
    if (this.stale || (!this.last && !this.failed)) this.runNow(++this.generation);
    return this.last;
  }

  /** The last analysis if no file changed since (no run is started). */
  settled(): Analysis | undefined { return this.stale || this.failed ? undefined : this.last; }

  private async runInBackground(): Promise<void> {
    if (this.loading) return; // hold() runs one when the workspace is in
    if (!this.stale && !this.wantFull && this.last) return; // a request already analysed this text
    const mine = ++this.generation;
    const engines = this.engines();
    // The first run (loading the workspace) or one like a long last run: announce it.
    const long = !this.last || this.lastMs >= LONG_RUN_MS;
    let progress: Promise<{ done(): void } | undefined> | undefined;
    if (long) {
      const files = this.host.uris().length;
      this.status('analysing', `analysing ${files} files`);
      // Not awaited: the analysis starts while the client answers. One that cannot show
      // progress gets none; a run over before the answer begins and ends it at once.
      progress = this.connection.window.createWorkDoneProgress().then((p) => {
        p.begin('IOMMU Lens', undefined, `Analysing ${files} files`);
        return p;
      }, () => undefined);
    }
    try {
      // Slices of parsing and modelling, yielding between them: edits, hovers and
      // cancellation are served while a large workspace loads.
      try {
        while (mine === this.generation && this.host.prepare(performance.now() + SLICE_MS, engines)) {
          await new Promise((resolve) => setImmediate(resolve));
        }
      } catch (e) {
        // runNow does the same work again and reports the failure with its status.
        this.log.debug(() => `preparing the analysis failed: ${(e as Error).message}`);
      }
      if (mine === this.generation) this.runNow(mine);
    } finally {
      void progress?.then((p) => p?.done());
    }
  }

  /** Every engine when something asks for a full run, else those chosen for typing. */
  private engines(): ReadonlySet<Engine> {
    const typing = this.settings().checksWhileTyping;
    return this.wantFull || typing.size === ENGINES.length ? ALL_ENGINES : typing;
  }

  private runNow(mine: number): void {
    const engines = this.engines();
    const full = engines.size === ENGINES.length;
    const started = performance.now();
    try {
      this.stale = false;
      this.failed = false;
      const a = this.host.analyze(() => mine !== this.generation, engines);
      if (full) this.wantFull = false;
      this.last = a;
      this.lastMs = performance.now() - started;
      this.log.debug(() => {
        const s = a.stats;
        return `analysed ${s.files} files (${s.parsed} parsed anew; ${s.components - s.reused} of ${s.components} components modelled anew) in ${this.lastMs.toFixed(0)} ms: `
          + `parse ${s.parseMs.toFixed(0)}, model ${s.modelMs.toFixed(0)}, `
          + `simulate ${s.simulateMs.toFixed(0)} ms; engines ${[...engines].join(', ')}`;
      });
      this.onAnalysis(a);
      this.count(a);
      this.status('ready');
    } catch (e) {
      if (e instanceof Cancelled) { this.stale = true; this.log.debug(() => 'analysis cancelled by a newer edit'); return; }
      // A failure is not retried by every request: the next change runs it again.
      this.failed = true;
      this.log.error(`analysis failed: ${(e as Error).stack ?? e}`);
      this.status('failed', (e as Error).message);
    }
  }

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

  private status(state: StatusParams['state'], message?: string): void {
    const skipped = this.last && this.last.sim.engines.size < ENGINES.length ? ENGINES.filter((e) => !this.last!.sim.engines.has(e)) : [];
    const params: StatusParams = { state, ...this.counts, ms: Math.round(this.lastMs), skipped };
    if (message) params.message = message;
    void this.connection.sendNotification(STATUS_NOTIFICATION, params);
  }
}

/**
 * In-process measurements for bench/throughput.mjs, which bundles this file with esbuild
 * (the same bundler and target as dist/) and runs it once per mode in a fresh Node, so each
 * mode's peak RSS (VmHWM) is its own and its first pass is as cold as the CLI's (the
 * one-time set-up of chevrotain's lexer and parser is timed apart, on an empty text):
 *   lex DIR             the lexer alone over every .iommu file under DIR
 *   parse DIR           lexer + parser + AST (grammar package alone), ASTs kept as the host keeps them
 *   stages DIR          parse, buildModel and simulate timed apart (cold, then warm)
 *   edits DIR REL FROM TO   an AnalysisHost with the whole workspace: one analysis per
 *                       one-character edit of file REL (toggling FROM/TO), the engine's share
 *                       of the typing latency, and its peak RSS next to the server's
 * Prints one JSON object on stdout. Files are read before any timing: no I/O is measured.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lex, parse, type SourceFile } from '@iommu-lens/grammar';
import { AnalysisHost } from '../server/src/ide';
import { buildModel } from '../server/src/model';
import { simulate } from '../server/src/sim';
import { DOMAINS, ENGINES, GUEST_CHECKS, MODEL_SCHEMA } from '../server/src/domains';

const WARM_PASSES = 3;

function readTree(dir: string): { uri: string; rel: string; text: string }[] {
  const out: { uri: string; rel: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.iommu')) out.push({ uri: pathToFileURL(p).href, rel: relative(dir, p), text: readFileSync(p, 'utf8') });
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.uri < b.uri ? -1 : 1));
}

/** Peak resident set size of this process so far, in MiB (Linux). */
function peakMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const ms = (t0: number) => performance.now() - t0;

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: ms(t0), value };
}

/** The first pass (cold: JIT not warmed, as in the CLI) and the best of the warm ones. */
function passes(fn: () => unknown, afterCold?: () => void): { coldMs: number; warmMs: number } {
  const coldMs = timed(fn).ms;
  afterCold?.();
  let warmMs = Infinity;
  for (let i = 0; i < WARM_PASSES; i++) warmMs = Math.min(warmMs, timed(fn).ms);
  return { coldMs, warmMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const [mode, dir, rel, from, to] = process.argv.slice(2);
  if (!mode || !dir) throw new Error('usage: probe lex|parse|stages|edits DIR [REL FROM TO]');
  const files = readTree(dir);
  const bytes = files.reduce((s, f) => s + Buffer.byteLength(f.text), 0);
  const result: Record<string, unknown> = { mode, files: files.length, bytes };
  if (mode === 'lex') {
    // One-time set-up (chevrotain builds its lexer and parser on first use), apart from the passes.
    result.setupMs = timed(() => lex('')).ms;
    let tokens = 0;
    Object.assign(
      result,
      passes(() => {
        tokens = 0;
        for (const f of files) tokens += lex(f.text).tokens.length;
      }),
    );
    result.tokens = tokens;
  } else if (mode === 'parse') {
    result.setupMs = timed(() => parse('')).ms;
    let kept: SourceFile[] = [];
    // Peak memory after the cold pass: every AST alive once, as in the CLI (the warm passes
    // overlap two generations until the old one is collected).
    Object.assign(
      result,
      passes(
        () => {
          kept = files.map((f) => parse(f.text));
        },
        () => {
          result.peakAfterColdMiB = peakMiB();
        },
      ),
    );
    result.syntaxDiagnostics = kept.reduce((s, a) => s + a.diagnostics.length, 0);
  } else if (mode === 'stages') {
    // The pipeline's stages apart, as AnalysisHost chains them (cold, then best warm);
    // chevrotain's set-up first, as in the lex and parse modes.
    parse('');
    const parsedFiles = timed(() => files.map((f) => ({ uri: f.uri, ast: parse(f.text) })));
    const model = timed(() => buildModel(parsedFiles.value, MODEL_SCHEMA));
    const sim = timed(() => simulate(model.value.model, ENGINES, undefined, GUEST_CHECKS));
    let warmModel = Infinity,
      warmSim = Infinity;
    for (let i = 0; i < WARM_PASSES; i++) {
      const m = timed(() => buildModel(parsedFiles.value, MODEL_SCHEMA));
      warmModel = Math.min(warmModel, m.ms);
      warmSim = Math.min(warmSim, timed(() => simulate(m.value.model, ENGINES, undefined, GUEST_CHECKS)).ms);
    }
    result.stages = {
      parse: { coldMs: parsedFiles.ms },
      model: { coldMs: model.ms, warmMs: warmModel },
      simulate: { coldMs: sim.ms, warmMs: warmSim },
    };
    result.findings = model.value.findings.length + sim.value.findings.length;
  } else if (mode === 'edits') {
    // What the server does per keystroke, without the protocol: re-parse the edited file,
    // rebuild the model and re-simulate everything.
    if (!rel || !from || !to) throw new Error('edits needs REL FROM TO');
    const host = new AnalysisHost(DOMAINS);
    for (const f of files) host.setFile(f.uri, f.text);
    result.hostColdMs = timed(() => host.analyze()).ms;
    const target = files.find((f) => f.rel === rel);
    if (!target?.text.includes(from)) throw new Error(`edit target ${rel} has no '${from}'`);
    const texts = [target.text.replace(from, to), target.text];
    const perEdit: number[] = [];
    for (let i = 0; i < 12; i++) {
      host.setFile(target.uri, texts[i % 2]!);
      perEdit.push(timed(() => host.analyze()).ms);
    }
    result.hostEditMs = { p50: median(perEdit.slice(2)), all: perEdit.map((x) => Math.round(x)) };
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  result.peakMiB = peakMiB();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();

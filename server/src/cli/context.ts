/**
 * What every command works with: its I/O, the descriptions behind PATH... loaded into one
 * analysis, and edits applied to a file's text.
 */
import { AnalysisHost, DEFAULT_OPTIONS, type AnalysisOptions, type Stages } from '../ide';
import { readSnapshot, writeAtomic, WriteError, type Snapshot, type WriteFs } from './atomicWrite';
import { escapeText } from './escape';
import { collectInputs, decodeUtf8, encodingFindings, type InputFile } from './files';
import { UsageError } from './usage';
import { DOMAINS } from '../domains';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
  /** The analysis stages, when not the real ones: tests break one to see a failure reported. */
  stages?: Stages;
  /** The file operations of the commands that write files, when not the real ones: tests make one fail midway. */
  fs?: WriteFs;
  /** The file URL of the installed docs/diagnostics.md (SARIF rules link to its sections). */
  docs?: string;
  /** The script worker threads run (`check --jobs`): the bundled CLI; without it, jobs run in this thread. */
  worker?: string;
}

/**
 * Loads the descriptions behind PATH... into one analysis. Bytes that are not UTF-8 exist
 * only on disk (editors decode before the server sees text), so the CLI adds their findings.
 */
export function load(paths: readonly string[], io: Io, opts: AnalysisOptions = DEFAULT_OPTIONS) {
  if (paths.length === 0) throw new UsageError('needs at least one PATH');
  const inputs = collectInputs(paths, io.cwd, (note) => io.err(`iommu-lens: ${note}\n`));
  const host = new AnalysisHost(DOMAINS, opts, io.stages);
  for (const f of inputs) host.setFile(f.uri, f.text, encodingFindings(f));
  return { analysis: host.analyze(), inputs };
}

/** `text` with `edits` applied: sorted by position, none overlapping. */
export function applyEdits(text: string, edits: readonly { span: { start: number; end: number }; newText: string }[]): string {
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += text.slice(at, e.span.start) + e.newText;
    at = e.span.end;
  }
  return out + text.slice(at);
}

/** The file as it is now, decoded, and what it was when read. */
export function reread(input: InputFile, io: Io): { file: InputFile; snapshot: Snapshot } | { problem: string } {
  try {
    const { bytes, snapshot } = readSnapshot(input.path, io.fs);
    const { text, invalid } = decodeUtf8(bytes);
    return { file: { ...input, text, invalidUtf8: invalid }, snapshot };
  } catch (e) {
    if (e instanceof WriteError) return { problem: e.message };
    throw e;
  }
}

/** Replaces a file with new text if it is still what was read: undefined, or why not (`again`: what to do then). */
export function replace(f: InputFile, text: string, snapshot: Snapshot, io: Io, again: string): string | undefined {
  const shown = escapeText(f.display);
  try {
    const outcome = writeAtomic(f.path, text, { expect: snapshot, fs: io.fs });
    return outcome === 'written' ? undefined : `${shown}: not written: it changed since it was read; ${again}`;
  } catch (e) {
    if (e instanceof WriteError) return `cannot write '${shown}': ${e.message}; the file is unchanged`;
    throw e;
  }
}

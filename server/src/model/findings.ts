/**
 * A finding: what every stage (syntax, model, simulator) reports. It speaks in the
 * project's own terms (uri + span); only the LSP and CLI layers turn it into theirs.
 */
import type { Span } from '@iommu-lens/grammar';
import { CODES, type Code } from './codes';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Location { uri: string; span: Span }

export interface Related extends Location { message: string }

export interface TextEdit extends Location { newText: string }

export interface Fix { title: string; edits: TextEdit[] }

export interface Finding extends Location {
  code: Code;
  severity: Severity;
  message: string;
  related: Related[];
  fixes: Fix[];
  /** The simulated steps that lead to it, in order (e.g. one order of notify functions); hover lists them. */
  trace?: Related[];
  /** `internal-error` only: the exception's stack, for the server log and the CLI's stderr (not shown to the user). */
  cause?: string;
}

/** Builds a finding with the code's default severity. */
export function finding(
  code: Code, at: Location, message: string,
  extra: { related?: Related[]; fixes?: Fix[]; severity?: Severity; trace?: Related[] } = {},
): Finding {
  const f: Finding = {
    code, severity: extra.severity ?? CODES[code].severity, message,
    uri: at.uri, span: at.span, related: extra.related ?? [], fixes: extra.fixes ?? [],
  };
  if (extra.trace) f.trace = extra.trace;
  return f;
}

/**
 * What a check that threw leaves behind: one `internal-error` at the top of each file it
 * covered (for an engine, `model.comments.keys()`: every file of its model), so the user
 * learns that findings may be missing there, and the other checks' findings still show.
 */
export function internalErrors(uris: Iterable<string>, check: string, err: unknown): Finding[] {
  return [...uris].map((uri) => internalError(uri, check, err));
}

export function internalError(uri: string, check: string, err: unknown): Finding {
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const f = finding('internal-error', { uri, span: { start: 0, end: 0 } },
    `${check} failed inside IOMMU Lens (${why}); its findings are missing here, the other checks still ran. Please report this with the file.`);
  f.cause = `${check}: ${err instanceof Error ? err.stack ?? why : why}`;
  return f;
}

/** Deterministic order: file, position, code, message. */
export function compareFindings(a: Finding, b: Finding): number {
  return (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0)
    || a.span.start - b.span.start || a.span.end - b.span.end
    || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
    || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

/**
 * A finding: what every stage (syntax, model, simulator) reports. It speaks in the
 * project's own terms (uri + span); only the LSP and CLI layers turn it into theirs.
 * This module holds the types of findings and of finding codes; the codes themselves are
 * in tables (codes.ts) that build findings through `findingBuilder`, so it imports none.
 */
import type { Span } from '@iommu-lens/grammar';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A finding code's default severity and one-line summary (docs/diagnostics.md has the rest). */
export interface CodeInfo {
  severity: Severity;
  summary: string;
}

/** Finding codes by name: each table is checked against docs/diagnostics.md by a test. */
export type CodeTable = Readonly<Record<string, CodeInfo>>;

export interface Location {
  uri: string;
  span: Span;
}

export interface Related extends Location {
  message: string;
}

export interface TextEdit extends Location {
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Finding extends Location {
  /** A code of one of the code tables (the whole list: `CODES`). */
  code: string;
  severity: Severity;
  message: string;
  related: Related[];
  fixes: Fix[];
  /** The simulated steps that lead to it, in order (e.g. one order of notify functions); hover lists them. */
  trace?: Related[];
  /** `internal-error` only: the exception's stack, for the server log and the CLI's stderr (not shown to the user). */
  cause?: string;
}

export interface FindingExtra {
  related?: Related[];
  fixes?: Fix[];
  severity?: Severity;
  trace?: Related[];
}

/** A function that builds findings of the codes of `table`, each with its code's default severity. */
export function findingBuilder<T extends CodeTable>(table: T) {
  return (code: keyof T & string, at: Location, message: string, extra: FindingExtra = {}): Finding => {
    const f: Finding = {
      code,
      severity: extra.severity ?? table[code]!.severity,
      message,
      uri: at.uri,
      span: at.span,
      related: extra.related ?? [],
      fixes: extra.fixes ?? [],
    };
    if (extra.trace) f.trace = extra.trace;
    return f;
  };
}

/** Deterministic order: file, position, code, message. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0) ||
    a.span.start - b.span.start ||
    a.span.end - b.span.end ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

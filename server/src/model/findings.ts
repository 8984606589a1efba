/**
 * A finding: what every stage (syntax, model, simulator) reports. It speaks in the
 * project's own terms (uri + span); only the LSP and CLI layers turn it into theirs.
 * This module holds the types of findings and of finding codes; the codes themselves are
 * in tables (codes.ts) that build findings through `findingBuilder`, so it imports none.
 */
import type { Span } from '@iommu-lens/grammar';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/**
 * Where a rule comes from (RULES §0.3): `where` names the real system's file and function, a
 * commit or a specification section, e.g. `Linux drivers/iommu/iommufd/io_pagetable.c,
 * iopt_table_enforce_dev_resv_regions`; `versions` the releases it holds for when that
 * matters, e.g. `since Linux 6.6 (34f327a985ff); 6.2 to 6.5 per group`.
 */
export interface CodeSource {
  where: string;
  versions?: string;
}

/** A finding code's default severity, one-line summary and sources (docs/diagnostics.md has the rest). */
export interface CodeInfo {
  severity: Severity;
  summary: string;
  /** The upstream code or specification the check follows; hovering a finding shows them. */
  sources?: readonly CodeSource[];
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
/**
 * Every code a finding builder exists for, with its info: a table is known as soon as the
 * module that raises its findings is loaded, so the ide (which imports no domain) can show the
 * sources of any finding it is given.
 */
const KNOWN_CODES = new Map<string, CodeInfo>();

/** The default severity, summary and sources of a code whose builder exists. */
export function codeInfo(code: string): CodeInfo | undefined {
  return KNOWN_CODES.get(code);
}

export function findingBuilder<T extends CodeTable>(table: T) {
  for (const [code, info] of Object.entries(table)) KNOWN_CODES.set(code, info);
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

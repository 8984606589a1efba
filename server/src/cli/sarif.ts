/**
 * Findings as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), the log GitHub
 * code scanning and other CI systems read: one run, each finding code a rule, each finding a
 * result with its region, related locations and fixes.
 * Positions: SARIF lines and columns are 1-based and the end column is exclusive; LSP
 * characters are UTF-16 code units, which the run declares as its column kind.
 */
import { pathToFileURL } from 'node:url';
import type { Range } from '../ide';
import type { CodeTable, Severity } from '../model';

/** A place in a file: `uri` relative to the run's source root (forward slashes) or absolute. */
export interface SarifPlace {
  uri: string;
  range: Range;
}

export interface SarifFinding {
  code: string;
  severity: Severity;
  message: string;
  at: SarifPlace;
  related: (SarifPlace & { message: string })[];
  fixes: { title: string; edits: (SarifPlace & { newText: string })[] }[];
}

export interface SarifTool {
  version: string;
  codes: CodeTable;
  /** The file URL of docs/diagnostics.md, whose sections the rules' help URIs point to. */
  docs?: string;
  /** The directory relative URIs are relative to (the working directory of the run). */
  root: string;
}

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const ROOT_ID = '%SRCROOT%';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note' | 'none'> = {
  error: 'error',
  warning: 'warning',
  information: 'note',
  hint: 'none',
};

export function toSarif(findings: readonly SarifFinding[], tool: SarifTool): string {
  const ruleIds = Object.keys(tool.codes).sort();
  const ruleIndex = new Map(ruleIds.map((id, i) => [id, i]));
  const rules = ruleIds.map((id) => {
    const info = tool.codes[id]!;
    return {
      id,
      shortDescription: { text: info.summary },
      ...(tool.docs ? { helpUri: `${tool.docs}#${id}` } : {}),
      defaultConfiguration: { level: LEVEL[info.severity] },
    };
  });
  const results = findings.map((f) => ({
    ruleId: f.code,
    ...(ruleIndex.has(f.code) ? { ruleIndex: ruleIndex.get(f.code) } : {}),
    level: LEVEL[f.severity],
    message: { text: f.message },
    locations: [{ physicalLocation: physical(f.at) }],
    ...(f.related.length
      ? { relatedLocations: f.related.map((r, i) => ({ id: i + 1, physicalLocation: physical(r), message: { text: r.message } })) }
      : {}),
    ...(f.fixes.length
      ? {
          fixes: f.fixes.map((x) => ({
            description: { text: x.title },
            artifactChanges: byFile(x.edits).map(([uri, edits]) => ({
              artifactLocation: location(uri),
              replacements: edits.map((e) => ({ deletedRegion: region(e.range), insertedContent: { text: e.newText } })),
            })),
          })),
        }
      : {}),
  }));
  const log = {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'iommu-lens',
            informationUri: tool.docs ?? 'https://www.oasis-open.org/committees/sarif/',
            version: tool.version,
            semanticVersion: tool.version,
            rules,
          },
        },
        originalUriBaseIds: { [ROOT_ID]: { uri: `${pathToFileURL(tool.root).href.replace(/\/?$/, '/')}` } },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

function byFile<T extends { uri: string }>(edits: readonly T[]): [string, T[]][] {
  const files = new Map<string, T[]>();
  for (const e of edits) files.set(e.uri, [...(files.get(e.uri) ?? []), e]);
  return [...files];
}

function physical(p: SarifPlace) {
  return { artifactLocation: location(p.uri), region: region(p.range) };
}

/** Relative URIs resolve against the source root (what GitHub takes as the checkout). */
function location(uri: string) {
  return /^[a-z][a-z0-9+.-]*:/i.test(uri) ? { uri } : { uri, uriBaseId: ROOT_ID };
}

function region(r: Range) {
  return {
    startLine: r.start.line + 1,
    startColumn: r.start.character + 1,
    endLine: r.end.line + 1,
    endColumn: r.end.character + 1,
  };
}

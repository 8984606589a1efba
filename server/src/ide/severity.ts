/**
 * Severity overrides per finding code: the setting `iommuLens.diagnostics.severity` in
 * the editor and `--severity CODE=LEVEL` in the CLI. `off` hides a code. Shared by both
 * front ends so an editor squiggle and a CI line agree.
 */
import type { CodeTable, Finding, Severity } from '../model';

export type SeverityLevel = Severity | 'off';
export const SEVERITY_LEVELS: readonly SeverityLevel[] = ['error', 'warning', 'information', 'hint', 'off'];

export type SeverityOverrides = ReadonlyMap<string, SeverityLevel>;

/**
 * Reads `{code: level}` pairs; codes not in `codes` (the registry's whole table) and unknown
 * levels are returned as problems (the caller logs them or fails), not silently dropped.
 */
export function parseSeverityOverrides(
  raw: Iterable<readonly [string, unknown]>,
  codes: CodeTable,
): {
  overrides: Map<string, SeverityLevel>;
  problems: string[];
} {
  const overrides = new Map<string, SeverityLevel>();
  const problems: string[] = [];
  for (const [code, level] of raw) {
    if (!Object.hasOwn(codes, code)) problems.push(`unknown diagnostic code '${code}' (see docs/diagnostics.md)`);
    else if (typeof level !== 'string' || !(SEVERITY_LEVELS as readonly string[]).includes(level)) {
      problems.push(`severity of '${code}' must be one of ${SEVERITY_LEVELS.join(', ')}, not ${JSON.stringify(level)}`);
    } else overrides.set(code, level as SeverityLevel);
  }
  return { overrides, problems };
}

/**
 * The findings with their severities overridden; codes set to `off` are left out.
 * `copies` (kept by the caller for one set of overrides) hands back the same overridden
 * object for the same finding, run after run, so unchanged findings stay identical.
 */
export function applySeverities(
  findings: readonly Finding[],
  overrides: SeverityOverrides,
  copies = new WeakMap<Finding, Finding>(),
): Finding[] {
  if (overrides.size === 0) return [...findings];
  const out: Finding[] = [];
  for (const f of findings) {
    const level = overrides.get(f.code);
    if (level === undefined || level === f.severity) out.push(f);
    else if (level !== 'off') {
      let copy = copies.get(f);
      if (!copy) copies.set(f, (copy = { ...f, severity: level }));
      out.push(copy);
    }
  }
  return out;
}

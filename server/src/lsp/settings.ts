/**
 * The extension's settings as the server reads them (`iommuLens.*`, from the
 * initialization options and every configuration change). Bad values fall back to the
 * defaults and are reported in the log, never thrown: a typo in settings.json must not
 * stop diagnostics.
 */
import { ALL_ENGINES, ENGINES, type Engine } from '../sim';
import { DEFAULT_OPTIONS, parseSeverityOverrides, type SeverityOverrides } from '../ide';

export const LOG_LEVELS = ['off', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerSettings {
  maxFileSize: number;
  debounceMs: number;
  /** `iommuLens.diagnostics.severity`: severity per code, `off` hides it. */
  severity: SeverityOverrides;
  /** `iommuLens.checksWhileTyping`: the engines run on every edit; the rest run on open and save. */
  checksWhileTyping: ReadonlySet<Engine>;
  logLevel: LogLevel;
}

export const DEFAULT_SETTINGS: ServerSettings = {
  maxFileSize: DEFAULT_OPTIONS.maxFileSize,
  debounceMs: 120,
  severity: new Map(),
  checksWhileTyping: ALL_ENGINES,
  logLevel: 'info',
};

interface RawSettings {
  maxFileSize?: unknown;
  debounceMs?: unknown;
  diagnostics?: { severity?: unknown };
  checksWhileTyping?: unknown;
  logLevel?: unknown;
}

export function readSettings(raw: unknown): { settings: ServerSettings; problems: string[] } {
  const s = (raw && typeof raw === 'object' ? raw : {}) as RawSettings;
  const problems: string[] = [];
  const number = (key: 'maxFileSize' | 'debounceMs', min: number): number => {
    const v = s[key];
    if (v === undefined || v === null) return DEFAULT_SETTINGS[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= min) return Math.floor(v);
    problems.push(`iommuLens.${key} must be a number >= ${min}, not ${JSON.stringify(v)}; using ${DEFAULT_SETTINGS[key]}`);
    return DEFAULT_SETTINGS[key];
  };

  const severityRaw = s.diagnostics?.severity;
  let severity: SeverityOverrides = DEFAULT_SETTINGS.severity;
  if (severityRaw && typeof severityRaw === 'object' && !Array.isArray(severityRaw)) {
    const r = parseSeverityOverrides(Object.entries(severityRaw));
    severity = r.overrides;
    problems.push(...r.problems.map((p) => `iommuLens.diagnostics.severity: ${p}`));
  } else if (severityRaw !== undefined && severityRaw !== null) {
    problems.push(`iommuLens.diagnostics.severity must be an object of code: level, not ${JSON.stringify(severityRaw)}`);
  }

  let checksWhileTyping = DEFAULT_SETTINGS.checksWhileTyping;
  if (Array.isArray(s.checksWhileTyping)) {
    const known = s.checksWhileTyping.filter((e): e is Engine => (ENGINES as readonly unknown[]).includes(e));
    for (const e of s.checksWhileTyping) if (!known.includes(e as Engine)) problems.push(`iommuLens.checksWhileTyping: unknown check ${JSON.stringify(e)} (known: ${ENGINES.join(', ')})`);
    checksWhileTyping = new Set(known);
  } else if (s.checksWhileTyping !== undefined && s.checksWhileTyping !== null) {
    problems.push(`iommuLens.checksWhileTyping must be a list of checks (${ENGINES.join(', ')}), not ${JSON.stringify(s.checksWhileTyping)}; running all of them`);
  }

  let logLevel = DEFAULT_SETTINGS.logLevel;
  if (s.logLevel !== undefined) {
    if ((LOG_LEVELS as readonly unknown[]).includes(s.logLevel)) logLevel = s.logLevel as LogLevel;
    else problems.push(`iommuLens.logLevel must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(s.logLevel)}`);
  }

  return { settings: { maxFileSize: number('maxFileSize', 1), debounceMs: number('debounceMs', 0), severity, checksWhileTyping, logLevel }, problems };
}

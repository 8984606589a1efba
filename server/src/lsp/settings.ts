/**
 * The extension's settings as the server reads them (`iommuLens.*`, from the
 * initialization options and every configuration change). Bad values fall back to the
 * defaults and are reported in the log, never thrown: a typo in settings.json must not
 * stop diagnostics.
 */
import type { Engine } from '../sim';
import { DEFAULT_OPTIONS, parseSeverityOverrides, type SeverityOverrides } from '../ide';
import { ALL_ENGINES, CODES, ENGINE_IDS } from '../domains';

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

/**
 * The most `iommuLens.maxFileSize` may raise the limit to, whoever sets it: 8 MiB of text,
 * four times the default. A workspace's own settings can set it (VS Code ignores them for
 * this setting only in an untrusted workspace: package.json's restrictedConfigurations),
 * and the server keeps every parse live: at the 5.6 KB per region line measured in
 * docs/limits.md, a file this large holds about 1 GiB, within the server's heap. The CLI's
 * --max-file-size has no cap: whoever runs it chose the file.
 */
export const MAX_FILE_SIZE_CAP = 8 * 1024 * 1024;
/** The longest debounce the manifest allows. */
export const MAX_DEBOUNCE_MS = 5000;

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
  const number = (key: 'maxFileSize' | 'debounceMs', min: number, max: number): number => {
    const v = s[key];
    if (v === undefined || v === null) return DEFAULT_SETTINGS[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= min) {
      if (v <= max) return Math.floor(v);
      problems.push(`iommuLens.${key} is at most ${max}, not ${v}; using ${max}`);
      return max;
    }
    problems.push(`iommuLens.${key} must be a number >= ${min}, not ${JSON.stringify(v)}; using ${DEFAULT_SETTINGS[key]}`);
    return DEFAULT_SETTINGS[key];
  };

  const severityRaw = s.diagnostics?.severity;
  let severity: SeverityOverrides = DEFAULT_SETTINGS.severity;
  if (severityRaw && typeof severityRaw === 'object' && !Array.isArray(severityRaw)) {
    const r = parseSeverityOverrides(Object.entries(severityRaw), CODES);
    severity = r.overrides;
    problems.push(...r.problems.map((p) => `iommuLens.diagnostics.severity: ${p}`));
  } else if (severityRaw !== undefined && severityRaw !== null) {
    problems.push(`iommuLens.diagnostics.severity must be an object of code: level, not ${JSON.stringify(severityRaw)}`);
  }

  let checksWhileTyping = DEFAULT_SETTINGS.checksWhileTyping;
  if (Array.isArray(s.checksWhileTyping)) {
    const known = s.checksWhileTyping.filter((e): e is Engine => (ENGINE_IDS as readonly unknown[]).includes(e));
    for (const e of s.checksWhileTyping)
      if (!known.includes(e as Engine))
        problems.push(`iommuLens.checksWhileTyping: unknown check ${JSON.stringify(e)} (known: ${ENGINE_IDS.join(', ')})`);
    checksWhileTyping = new Set(known);
  } else if (s.checksWhileTyping !== undefined && s.checksWhileTyping !== null) {
    problems.push(
      `iommuLens.checksWhileTyping must be a list of checks (${ENGINE_IDS.join(', ')}), ` +
        `not ${JSON.stringify(s.checksWhileTyping)}; running all of them`,
    );
  }

  let logLevel = DEFAULT_SETTINGS.logLevel;
  if (s.logLevel !== undefined) {
    if ((LOG_LEVELS as readonly unknown[]).includes(s.logLevel)) logLevel = s.logLevel as LogLevel;
    else problems.push(`iommuLens.logLevel must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(s.logLevel)}`);
  }

  const settings = {
    maxFileSize: number('maxFileSize', 1, MAX_FILE_SIZE_CAP),
    debounceMs: number('debounceMs', 0, MAX_DEBOUNCE_MS),
    severity,
    checksWhileTyping,
    logLevel,
  };
  return { settings, problems };
}

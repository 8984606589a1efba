/**
 * Seed inputs for the fuzzer: workspaces (relative path → text) read from the examples and
 * the test fixtures (the fuzz regressions among them): only files in the repository, so
 * a seed replays the same inputs on every machine.
 * A multi-file example stays one workspace, so a mutation of one of its files reaches
 * cross-file resolution, components, pools, timelines, Xen and firmware together.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceAt } from '../files';

export const ROOT = join(import.meta.dirname, '..', '..');

/** One seed: a name to print and the files of its workspace. */
export interface Seed {
  name: string;
  files: Record<string, string>;
}

/** The directories directly under `dir` that hold .iommu files, each one workspace; loose files at `dir` one more. */
function workspacesUnder(dir: string, label: string, skip: readonly string[] = []): Seed[] {
  if (!existsSync(dir)) return [];
  const out: Seed[] = [];
  const loose: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) {
    if (skip.includes(n)) continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) {
      const files = workspaceAt(p);
      if (Object.keys(files).length) out.push({ name: `${label}/${n}`, files });
    } else if (n.endsWith('.iommu')) loose[n] = readFileSync(p, 'utf8');
  }
  if (Object.keys(loose).length) out.push({ name: label, files: loose });
  return out;
}

/**
 * The seeds: every example and fixture workspace, then each of their files alone (a
 * file without its workspace is its own kind of input: every cross-file name unresolved).
 * With `regressions`, the fuzz regressions too, so mutations start from what once failed
 * (the long run; some take seconds per input, too slow for the CI run).
 */
export function loadCorpus(options: { regressions?: boolean } = {}): Seed[] {
  const whole = [
    ...workspacesUnder(join(ROOT, 'examples'), 'examples'),
    ...workspacesUnder(join(ROOT, 'test', 'fixtures'), 'test/fixtures', ['fuzz']),
  ];
  const single: Seed[] = [];
  for (const s of whole) {
    const names = Object.keys(s.files);
    if (names.length < 2) continue;
    for (const n of names) single.push({ name: `${s.name}/${n}`, files: { [n]: s.files[n]! } });
  }
  return [...whole, ...single, ...(options.regressions ? regressions() : [])];
}

export const REGRESSIONS = join(ROOT, 'test', 'fixtures', 'fuzz');

/**
 * The inputs that once failed, minimised: test/fixtures/fuzz/NAME.iommu is one file alone,
 * test/fixtures/fuzz/NAME/ a workspace of its files.
 */
export function regressions(): Seed[] {
  if (!existsSync(REGRESSIONS)) return [];
  return readdirSync(REGRESSIONS)
    .sort()
    .flatMap((n) => {
      const p = join(REGRESSIONS, n);
      if (statSync(p).isDirectory()) return [{ name: n, files: workspaceAt(p) }];
      return n.endsWith('.iommu') ? [{ name: n, files: { [n]: readFileSync(p, 'utf8') } }] : [];
    });
}

/**
 * The `.iommu` snippets written inline in the unit tests (template literals that start a
 * declaration), markers (`<|>`, `[[`, `]]`) removed, interpolated ones left out. They
 * cover every construct in small pieces; the long run adds them (the CI run keeps to the
 * files above, so its inputs change only when those do).
 */
export function unitTestSnippets(): Seed[] {
  const dir = join(ROOT, 'test', 'unit');
  const out: Seed[] = [];
  for (const n of readdirSync(dir).sort()) {
    if (!n.endsWith('.test.ts')) continue;
    const text = readFileSync(join(dir, n), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/`((?:[^`\\]|\\[\s\S])*)`/g)) {
      const body = m[1]!;
      if (body.includes('${') || !/^\s*(?:\/\/[^\n]*\n\s*)*(?:platform|guest|timeline|pool|firmware|xen|vintf|commands)\b/.test(body))
        continue;
      const clean = body
        .replace(/<\|>|\[\[|\]\]/g, '')
        .replace(/\\`/g, '`')
        .replace(/\\\\/g, '\\');
      out.push({ name: `test/unit/${n}#${i++}`, files: { 'a.iommu': clean } });
    }
  }
  return out;
}

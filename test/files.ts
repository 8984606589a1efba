/**
 * Reading `.iommu` workspaces from disk for the tests, the fuzz and soak runs. No other
 * imports: bench scripts load the soak driver, which uses this.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export const EXAMPLES = join(import.meta.dirname, '..', 'examples');

/** Every `*.iommu` under `dir`, recursively and sorted, as paths relative to `dir` (with `/`); none when `dir` does not exist. */
export function iommuFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.iommu')) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Those files with their text: relative path → text. */
export function workspaceAt(dir: string): Record<string, string> {
  return Object.fromEntries(iommuFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/**
 * Spawn options that run a child as another, unprivileged user (`nobody`) when the tests
 * run as root; undefined otherwise. Root reads any file and signals any process, so tests
 * of permission errors (EACCES, EPERM) need the child to be someone else there.
 */
export function otherUser(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
}

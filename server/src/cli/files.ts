/** Finding the .iommu files behind the CLI's PATH arguments. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface InputFile { path: string; uri: string; display: string; text: string }

export class InputError extends Error {}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn']);

/**
 * Files given by name are read whatever their extension; directories are searched
 * recursively for `*.iommu`. Paths print relative to the working directory.
 */
export function collectInputs(paths: readonly string[], cwd = process.cwd()): InputFile[] {
  const found = new Map<string, InputFile>();
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new InputError(`cannot read '${p}': ${reason(e)}`);
    }
    const files = st.isDirectory() ? walk(abs) : [abs];
    if (st.isDirectory() && files.length === 0) throw new InputError(`no .iommu files under '${p}'`);
    for (const f of files) {
      if (found.has(f)) continue;
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch (e) {
        throw new InputError(`cannot read '${display(f, cwd)}': ${reason(e)}`);
      }
      found.set(f, { path: f, uri: pathToFileURL(f).href, display: display(f, cwd), text });
    }
  }
  return [...found.values()].sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...walk(p));
    } else if (entry.isFile() && entry.name.endsWith('.iommu')) {
      out.push(p);
    }
  }
  return out;
}

function display(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  const shown = rel && !rel.startsWith('..') ? rel : abs;
  return shown.split(sep).join('/');
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e as Error).message;
}

// Every shape of test/shapes/: each `*.mjs` module in that folder (not in lib/), read from
// the folder, so a shape added there reaches every consumer (the CLI and protocol limits
// tests, bench/limits.mjs) without a list to keep in step.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SHAPES_DIR = join(import.meta.dirname, '..');

/** The shape modules, sorted by file name. */
export async function loadShapes() {
  const files = readdirSync(SHAPES_DIR)
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  return Promise.all(files.map((f) => import(pathToFileURL(join(SHAPES_DIR, f)).href)));
}

/** One shape by its `name`. */
export async function shapeNamed(name) {
  const shape = (await loadShapes()).find((s) => s.name === name);
  if (!shape) throw new Error(`no shape named '${name}' in ${SHAPES_DIR}`);
  return shape;
}

/** The default size limit (`iommuLens.maxFileSize`, CLI `--max-file-size`): shapes run just under it. */
export const SIZE_LIMIT = 2 * 1024 * 1024;

/**
 * Splits a workspace into components: sets of files that can affect each other only
 * through names. A file joins the files that declare a global name (or a Xen domain
 * name) it contains as a word, and files declaring the same name join each other, so
 * duplicates are still seen. Words over-approximate references, so a component may be
 * larger than needed but never too small. The host models and simulates each component
 * apart and reuses those whose files did not change: an edit to one rack's guest file
 * re-simulates that rack, not the fleet.
 */
import type { FileNames } from '../model';

/** Components as lists of indices into `files`, each sorted, ordered by their first file. */
export function components(files: readonly FileNames[]): number[][] {
  const parent = files.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a),
      rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const declarer = new Map<string, number>();
  const declare = (name: string, i: number) => {
    const first = declarer.get(name);
    if (first === undefined) declarer.set(name, i);
    else union(first, i);
  };
  files.forEach((f, i) => {
    for (const g of f.globals) declare(g.name, i);
    for (const d of f.bare) declare(d, i);
  });
  files.forEach((f, i) => {
    for (const w of f.words) {
      const j = declarer.get(w);
      if (j !== undefined) union(i, j);
    }
  });
  const groups = new Map<number, number[]>();
  files.forEach((_, i) => {
    const root = find(i);
    const g = groups.get(root);
    if (g) g.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values()];
}

/**
 * Builds the Model from parsed files: declares every name in its scope, evaluates
 * numbers, and resolves every reference with LANGUAGE.md's scoping. Pure: files in,
 * model and findings out. The work per construct lives in the model parts (part.ts), the
 * core's (core.ts) and each domain's, run pass by pass.
 */
import type * as A from '@iommu-lens/grammar';
import type { Finding } from './findings';
import type { ModelSchema } from './part';
import { Scope } from './scope';
import type { Model } from './types';
import { fileNames, WorkspaceNames } from './workspaceNames';

export interface ParsedFile {
  uri: string;
  ast: A.SourceFile;
}

export interface ModelResult {
  model: Model;
  findings: Finding[];
  /** Suggestions read `names` (so they change when the workspace's names do). */
  usedNames: boolean;
  /** A lookup searched every platform: the files given must be the whole workspace. */
  searchedAllPlatforms: boolean;
}

/**
 * `schema`: the core's and the domains' model parts (the registry's MODEL_SCHEMA). `names` are
 * the whole workspace's when `files` are one component of it (see ide/workspacePartition.ts);
 * by default, the names of `files`.
 */
export function buildModel(files: readonly ParsedFile[], schema: ModelSchema, names?: WorkspaceNames): ModelResult {
  const sorted = [...files].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  const ctx = new Scope(names ?? new WorkspaceNames(sorted.map((f) => fileNames(f.ast, schema))), schema);
  for (const f of sorted) ctx.model.comments.set(f.uri, f.ast.comments);
  const decls = sorted.flatMap((f) => f.ast.decls.map((d) => ({ uri: f.uri, d })));
  for (const pass of schema.passes) {
    if (pass.resolvers.size)
      for (const { uri, d } of decls) {
        const resolve = pass.resolvers.get(d.kind);
        if (resolve) resolve(ctx, uri, d);
      }
    for (const after of pass.after) after(ctx);
  }
  return { model: ctx.model, findings: ctx.findings, usedNames: ctx.usedNames, searchedAllPlatforms: ctx.searchedAllPlatforms };
}

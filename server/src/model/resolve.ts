/**
 * Builds the Model from parsed files: declares every name in its scope, evaluates
 * numbers, and resolves every reference with LANGUAGE.md's scoping. Pure: files in,
 * model and findings out. The work per construct lives in the domain modules.
 */
import type * as A from '@iommu-lens/grammar';
import { commands, declareVintf, resolveVintf } from '../domains/cmdqv/model/cmdqv';
import type { Finding } from './findings';
import { firmware } from '../domains/firmware/model/firmware';
import { declareGuest, pool } from './guest';
import { declarePlatform, resolvePlatform } from './platform';
import { Scope } from './scope';
import { timeline } from '../domains/timelines/model/timeline';
import type { Model } from './types';
import { fileNames, WorkspaceNames } from './workspaceNames';
import { xen } from '../domains/xen/model/xen';

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
 * `names` are the whole workspace's when `files` are one component of it (see
 * ide/components.ts); by default, the names of `files`.
 */
export function buildModel(files: readonly ParsedFile[], names?: WorkspaceNames): ModelResult {
  const sorted = [...files].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  const ctx = new Scope(names ?? new WorkspaceNames(sorted.map((f) => fileNames(f.ast))));
  for (const f of sorted) ctx.model.comments.set(f.uri, f.ast.comments);
  const decls = sorted.flatMap((f) => f.ast.decls.map((d) => ({ uri: f.uri, d })));
  // Platforms first (their members are what everything else refers to), then guests
  // (timelines and firmware follow guests to their platforms), then the rest.
  for (const { uri, d } of decls) if (d.kind === 'platform') declarePlatform(ctx, uri, d);
  for (const p of ctx.allPlatforms) resolvePlatform(ctx, p);
  for (const { uri, d } of decls) if (d.kind === 'vintf') declareVintf(ctx, uri, d);
  for (const { uri, d } of decls) if (d.kind === 'guest') declareGuest(ctx, uri, d);
  for (const { uri, d } of decls) {
    switch (d.kind) {
      case 'pool':
        pool(ctx, uri, d);
        break;
      case 'firmware':
        firmware(ctx, uri, d);
        break;
      case 'xen':
        xen(ctx, uri, d);
        break;
      default:
        break;
    }
  }
  for (const v of ctx.allVintfs) resolveVintf(ctx, v);
  for (const { uri, d } of decls) {
    if (d.kind === 'timeline') timeline(ctx, uri, d);
    else if (d.kind === 'commands') commands(ctx, uri, d);
  }
  return { model: ctx.model, findings: ctx.findings, usedNames: ctx.usedNames, searchedAllPlatforms: ctx.searchedAllPlatforms };
}

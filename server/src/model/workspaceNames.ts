/**
 * The names a file declares and mentions, read from its AST alone, and the workspace's
 * names gathered from every file. They let the host split a workspace into components
 * (files that can affect each other only through names) and model each one apart,
 * while the suggestions of `unknown-name` ("did you mean", "epyc-b has one") still look
 * at the whole workspace.
 */
import type * as A from '@iommu-lens/grammar';
import { forEachAstChild, type Node } from '@iommu-lens/grammar';
import type { KindInfo, SymbolKind } from './types';

/** What naming a file reads of the model schema (part.ts): the global kinds, and who declares bare names. */
export interface FileNaming {
  readonly kinds: Readonly<Record<SymbolKind, KindInfo>>;
  readonly parts: readonly { bareNames?: (d: A.Decl) => string[] }[];
}

export interface FileNames {
  /** Global declarations, in file order. */
  globals: { kind: SymbolKind; name: string }[];
  /** Names declared inside a declaration that others may write bare (the model parts' `bareNames`). */
  bare: string[];
  /** Each platform's device names, in file order. */
  devices: { platform: string; device: string }[];
  /** Every word the file contains that could be a name (a superset of the names it refers to). */
  words: ReadonlySet<string>;
  /** Changes exactly when `globals`, `bare` or `devices` do: what suggestions read. */
  namesKey: string;
}

/**
 * Names already read from an AST object, by schema: `check` reads them in its first pass and
 * hands the same AST to the host that analyses its component, which would read them again.
 */
const KNOWN = new WeakMap<A.SourceFile, { schema: FileNaming; names: FileNames }>();

export function fileNames(ast: A.SourceFile, schema: FileNaming): FileNames {
  const known = KNOWN.get(ast);
  if (known?.schema === schema) return known.names;
  const names = readNames(ast, schema);
  KNOWN.set(ast, { schema, names });
  return names;
}

function readNames(ast: A.SourceFile, schema: FileNaming): FileNames {
  const globals: FileNames['globals'] = [];
  const bare: string[] = [];
  const devices: FileNames['devices'] = [];
  for (const d of ast.decls) {
    if (!('name' in d) || !d.name || !schema.kinds[d.kind as SymbolKind]?.global) continue;
    globals.push({ kind: d.kind as SymbolKind, name: d.name.text });
    if (d.kind === 'platform') {
      // A device counts only as the first member of its name (the model rejects later ones).
      const members = new Set<string>();
      for (const item of d.items) {
        if (!('name' in item) || !item.name) continue;
        if (item.kind === 'device' && !members.has(item.name.text)) devices.push({ platform: d.name.text, device: item.name.text });
        members.add(item.name.text);
      }
    }
    for (const part of schema.parts) if (part.bareNames) bare.push(...part.bareNames(d));
  }
  const words = new Set<string>();
  for (const d of ast.decls) collectWords(d, words);
  const namesKey = [
    globals.map((g) => `${g.kind}:${g.name}`).join(','),
    bare.join(','),
    devices.map((d) => `${d.platform}.${d.device}`).join(','),
  ].join('\n');
  return { globals, bare, devices, words, namesKey };
}

/**
 * Every `text` of a word-like node under `node` that starts with a letter, as names do
 * (numbers never name anything: editing one must not move components).
 */
function collectWords(node: Node, out: Set<string>): void {
  const text = (node as { text?: unknown }).text;
  if (typeof text === 'string' && /^[A-Za-z]/.test(text)) out.add(text);
  forEachAstChild(node, (child) => collectWords(child, out));
}

/** The names of a whole workspace, for suggestions that look beyond a component. */
export class WorkspaceNames {
  // Sets keep file order and drop repeats in constant time: a fleet has tens of thousands of names.
  private readonly globals = new Map<SymbolKind, Set<string>>();
  private readonly bareNames: string[] = [];
  private readonly deviceOwners = new Map<string, Set<string>>();

  constructor(files: Iterable<FileNames>) {
    const add = <K>(map: Map<K, Set<string>>, key: K, name: string) => {
      const set = map.get(key);
      if (set) set.add(name);
      else map.set(key, new Set([name]));
    };
    for (const f of files) {
      for (const g of f.globals) add(this.globals, g.kind, g.name);
      this.bareNames.push(...f.bare);
      for (const d of f.devices) add(this.deviceOwners, d.device, d.platform);
    }
  }

  /** Declared global names of these kinds, in file order. */
  globalsOf(kinds: readonly SymbolKind[]): string[] {
    return kinds.flatMap((k) => [...(this.globals.get(k) ?? [])]);
  }

  /** The names others may write bare (FileNames.bare), in file order. */
  bare(): readonly string[] {
    return this.bareNames;
  }

  /** The platforms (by name) that declare a device of this name. */
  platformsWithDevice(device: string): readonly string[] {
    return [...(this.deviceOwners.get(device) ?? [])];
  }

  /**
   * The same, but `except`: the first `n` names and how many in all, reading only those
   * (a name many platforms share is looked up per unknown reference).
   */
  somePlatformsWithDevice(device: string, except: string | undefined, n: number): { names: string[]; total: number } {
    const owners = this.deviceOwners.get(device);
    if (!owners) return { names: [], total: 0 };
    const names: string[] = [];
    for (const p of owners) {
      if (names.length === n) break;
      if (p !== except) names.push(p);
    }
    return { names, total: owners.size - (except !== undefined && owners.has(except) ? 1 : 0) };
  }
}

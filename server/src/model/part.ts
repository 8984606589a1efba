/**
 * What a part of the language adds to the model: its kinds of name, the maps and lists of
 * `Model` it fills, and the declarations it resolves, in which pass. The core's part
 * (platforms and guests, core.ts) is one; each domain's lives in its folder and reaches the
 * core through the registry (server/src/domains/index.ts), which builds one `ModelSchema`.
 * A domain adds its fields to `Model` and its kinds to `SymbolKinds` by declaration merging.
 */
import type * as A from '@iommu-lens/grammar';
import type { Scope, ScopeSchema, StepOf, StepResolver } from './scope';
import type { Block, BlockItems, BlockOwners, KindInfo, Model, Sym, SymbolKind } from './types';

/**
 * The passes of resolution, in order: platforms first (their members are what everything
 * else refers to), then what guests refer to, guests, what follows guests to their
 * platforms, and last what may refer to any of them (timelines, command blocks). Within a
 * pass, declarations resolve in workspace order whichever part owns them, so a name
 * declared twice is reported where the second one stands.
 */
export const PASSES = ['platforms', 'before-guests', 'guests', 'after-guests', 'last'] as const;
export type Pass = (typeof PASSES)[number];

type DeclKind = A.Decl['kind'];
type DeclOf<K extends DeclKind> = Extract<A.Decl, { kind: K }>;
/** How a part resolves the declarations of some kinds. */
export type DeclResolvers = { [K in DeclKind]?: (ctx: Scope, uri: string, d: DeclOf<K>) => void };

type ItemResolver<B extends Block> = (ctx: Scope, uri: string, owner: BlockOwners[B], item: BlockItems[B]) => void;
/** How a part resolves the statements of some kinds it adds to a core block. */
export type ItemResolvers<B extends Block> = { [K in BlockItems[B]['kind']]?: ItemResolver<B> };

export type StepResolvers = { [K in A.Step['kind']]?: StepResolver<StepOf<K>> };

/** The fields of `Model` that map names to entities (merged in declaration order). */
export type ModelMapKey = { [K in keyof Model]: Model[K] extends Map<string, { sym: Sym }> ? K : never }[keyof Model];
/** The fields of `Model` that are lists (concatenated in component order). */
export type ModelListKey = { [K in keyof Model]: Model[K] extends readonly unknown[] ? K : never }[keyof Model];

export interface ModelPart {
  /** Its kinds of name. */
  kinds: { [K in SymbolKind]?: KindInfo };
  maps?: readonly ModelMapKey[];
  lists?: readonly ModelListKey[];
  /** Per pass: the declarations it resolves, and what it does once the pass has seen every declaration. */
  passes: { [P in Pass]?: { decls?: DeclResolvers; after?: (ctx: Scope) => void } };
  /**
   * The statements it adds to the core's blocks, resolved where the core meets them (in order
   * with the core's own), and what it reads of a core statement (after the core has read it).
   */
  items?: { [B in Block]?: ItemResolvers<B> };
  /** The statement kinds a block takes once (the core's and its own), each with the word it is written as. */
  singletons?: { [B in Block]?: Readonly<Record<string, string>> };
  /** The timeline steps it adds, and how a timeline resolves them. */
  steps?: StepResolvers;
  /** Names declared inside `d` that other declarations may write bare (a Xen domain's): suggestions read them. */
  bareNames?: (d: A.Decl) => string[];
  /**
   * The file holds something whose resolution may look at every platform of the workspace
   * (a timeline's device with no guest in play): then no file can be modelled apart.
   */
  mayLookEverywhere?: (ast: A.SourceFile, schema: ModelSchema) => boolean;
}

/** The model parts as one: what buildModel, mergeModels and the names of files read. */
export interface ModelSchema extends ScopeSchema {
  readonly parts: readonly ModelPart[];
  /** The global kinds, in the order of the parts. */
  readonly globalKinds: readonly SymbolKind[];
  readonly maps: readonly ModelMapKey[];
  readonly lists: readonly ModelListKey[];
  /** Per pass, the resolver of each declaration kind and the parts' `after` steps. */
  readonly passes: readonly {
    resolvers: ReadonlyMap<string, (ctx: Scope, uri: string, d: A.Decl) => void>;
    after: readonly ((ctx: Scope) => void)[];
  }[];
}

/** One schema from the parts, in order (the core's first). */
export function modelSchema(parts: readonly ModelPart[]): ModelSchema {
  const kinds = Object.assign({}, ...parts.map((p) => p.kinds)) as Record<SymbolKind, KindInfo>;
  const globalKinds = (Object.keys(kinds) as SymbolKind[]).filter((k) => kinds[k].global);
  const plurals = globalKinds.map((k) => kinds[k].global!.plural);
  const passes = PASSES.map((pass) => {
    const resolvers = new Map<string, (ctx: Scope, uri: string, d: A.Decl) => void>();
    const after: ((ctx: Scope) => void)[] = [];
    for (const p of parts) {
      const step = p.passes[pass];
      for (const [kind, run] of Object.entries(step?.decls ?? {})) {
        if (resolvers.has(kind)) throw new Error(`two model parts resolve '${kind}' declarations`);
        resolvers.set(kind, run as (ctx: Scope, uri: string, d: A.Decl) => void);
      }
      if (step?.after) after.push(step.after);
    }
    return { resolvers, after };
  });
  const blocks: readonly Block[] = ['iommuBody', 'deviceBody', 'guestBody'];
  const items = Object.fromEntries(
    blocks.map((b) => [b, new Map(parts.flatMap((p) => Object.entries(p.items?.[b] ?? {})))]),
  ) as unknown as ModelSchema['items'];
  const singletons = Object.fromEntries(
    blocks.map((b) => {
      const words = Object.assign({}, ...parts.map((p) => p.singletons?.[b] ?? {})) as Record<string, string>;
      return [b, { kinds: Object.keys(words), words }];
    }),
  ) as unknown as ModelSchema['singletons'];
  return {
    parts,
    kinds,
    items,
    singletons,
    globalKinds,
    globalPlurals: `${plurals.slice(0, -1).join(', ')} and ${plurals.at(-1)}`,
    maps: parts.flatMap((p) => p.maps ?? []),
    steps: new Map(parts.flatMap((p) => Object.entries(p.steps ?? {}) as [string, StepResolver][])),
    lists: parts.flatMap((p) => p.lists ?? []),
    passes,
  };
}

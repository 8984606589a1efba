/**
 * What a domain's engine is to the simulator (issue 23): an id, the engines it relies on, how
 * it runs over a model, and how the results of a workspace's components join for per-edit
 * reuse. The core knows engines only through this interface; the registry
 * (server/src/domains/index.ts) lists them, and the top layers hand the list to the core.
 */
import type { Finding } from '../model/findings';
import { inDeclarationOrder } from '../model/merge';
import type { Guest, Model, Platform, Sym } from '../model/types';
import type { PlatformRegions } from './platformRegions';
import type { GuestState } from './vfio';

/** The core's own engine: VFIO starting every guest. Always first, and what others may need. */
export const VFIO = 'vfio';
export const VFIO_DESCRIPTION = 'VFIO containers and guest RAM: doorbells, reserved regions, apertures, groups, QEMU layouts.';

/** What every engine may read: the model, each platform's groups and regions, the started guests. */
export interface EngineInput {
  model: Model;
  regionsOf(p: Platform): PlatformRegions;
  /** Empty unless the engine needs `vfio`. */
  guests: ReadonlyMap<Guest, GuestState>;
}

export interface SimEngine<R = unknown> {
  /** Also the name users give it in `iommuLens.checksWhileTyping`. */
  id: string;
  /** What it checks, for the setting's enum descriptions. */
  description: string;
  /** Engines it relies on: when one of them fails, this one reports that instead of running. */
  needs: readonly string[];
  run(input: EngineInput, sink: Finding[]): R;
  /** Its results when it did not run or failed. */
  empty(): R;
  /** The results of a workspace's components (each a separate run) as one, in declaration order. */
  merge(parts: readonly R[]): R;
}

/** Maps keyed by model objects joined in their declaration order: the usual `merge`. */
export const mergeByDeclaration = <K extends { sym: Sym }, V>(parts: readonly Map<K, V>[]): Map<K, V> =>
  inDeclarationOrder(parts, (k) => k.sym);

/** Maps keyed by syntax nodes (no declaration order to keep): joined as they come. */
export function mergeMaps<K, V>(parts: readonly Map<K, V>[]): Map<K, V> {
  const out = new Map<K, V>();
  for (const m of parts) for (const [k, v] of m) out.set(k, v);
  return out;
}

import type { KindInfo, Model, SymbolKind } from './types';

/**
 * A model with nothing in it: what resolution starts from, and what stands in when it fails.
 * `schema`: the kinds, and the maps and lists of `Model` the model parts fill (part.ts).
 */
export function emptyModel(schema: {
  kinds: Readonly<Record<SymbolKind, KindInfo>>;
  maps: readonly string[];
  lists: readonly string[];
}): Model {
  const m = { kinds: schema.kinds, comments: new Map() } as Record<string, unknown>;
  for (const k of schema.maps) m[k] = new Map();
  for (const k of schema.lists) m[k] = [];
  return m as unknown as Model;
}

/** A pool: the platforms a guest must fit on all of, its part of the model. */
import type * as A from '@iommu-lens/grammar';
import type { Platform, Sym } from '../../../model/types';

export interface Pool {
  sym: Sym;
  decl: A.PoolDecl;
  hosts: Platform[];
}

declare module '../../../model/types' {
  interface SymbolKinds {
    pool: true;
  }
  interface Model {
    pools: Map<string, Pool>;
  }
}
